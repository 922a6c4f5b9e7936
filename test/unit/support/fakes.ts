import { createHash } from 'node:crypto';
/**
 * In-memory fakes of the domain ports for pure domain tests. They model only what the domain observes:
 * groups that come up after a while (or fail to pull / crash / answer 503), secrets with tags, an ETag store.
 * The integration project tests the real adapters against the emulator.
 */
import { parseAppsConfig, type AppsConfig } from '../../../src/config/appsConfig.js';
import type { DomainDeps, DomainOptions } from '../../../src/domain/deps.js';
import { ConflictError, NotFoundError, TransientError } from '../../../src/domain/errors.js';
import type {
  AppState,
  HistoryEntry,
  ReconcileResult,
  Notification,
  StoredAppState,
} from '../../../src/domain/model.js';
import type {
  Clock,
  ContainerGroupSpec,
  ContainerGroupView,
  GroupDefinition,
  ContainerGroups,
  HealthProbe,
  HealthResult,
  Logger,
  Notifier,
  FetchedManifest,
  RegistryInfo,
  Registries,
  RegistryManifests,
  RegistryTag,
  RolloutStore,
  SecretProperties,
  Secrets,
  VersionedSecret,
} from '../../../src/domain/ports.js';
import { parseRegistryEvent, type ImagePushedEvent } from '../../../src/events/imagePushed.js';
import { FakeDnsRecords } from './fakeDns.js';

export const SUB = '00000000-0000-0000-0000-000000000001';
export const REGISTRY_ID = `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/contoso`;
export const LOCKED_ID = `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/locked`;
export const SUBNET_ID = `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-apps/subnets/aci`;
export const IDENTITY_ID = `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-acr-pull`;
export const VAULT = 'https://kv-apps.vault.azure.net';
export const T0 = Date.parse('2026-11-21T10:00:00.000Z');

/** A realistic digest, stable per `n`. */
export function digestOf(n: number | string): string {
  return `sha256:${createHash('sha256').update(String(n)).digest('hex')}`;
}

// ---------------------------------------------------------------- config

export function webApp(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'web',
    registry: { resourceId: REGISTRY_ID },
    repository: 'web',
    tagPolicy: { type: 'semver', range: '>=1.0.0', allowDowngrade: false },
    resourceGroup: 'rg-apps',
    location: 'westeurope',
    subnetId: SUBNET_ID,
    adoptGroup: null,
    template: {
      osType: 'Linux',
      imagePullIdentity: IDENTITY_ID,
      containers: [
        {
          name: 'web',
          cpu: 0.5,
          memoryInGB: 1,
          ports: [8080],
          env: { LOG_LEVEL: 'info' },
          secureEnvFromKeyVault: { DB_PASSWORD: { vaultUrl: VAULT, secretName: 'web-db-password' } },
        },
      ],
    },
    health: {
      port: 8080,
      path: '/healthz',
      expectedStatus: [200, 299],
      consecutiveSuccesses: 3,
      intervalSeconds: 2,
      timeoutSeconds: 120,
    },
    secret: { vaultUrl: VAULT, name: 'web-ip' },
    drainSeconds: 30,
    keepFailed: false,
    provisioningTimeoutSeconds: 600,
    ...overrides,
  };
}

export function makeConfig(
  apps: Array<Record<string, unknown>> = [webApp()],
  extra: Record<string, unknown> = {},
): AppsConfig {
  return parseAppsConfig({ apps, ...extra });
}

// ---------------------------------------------------------------- clock, logger

export class FakeClock implements Clock {
  /** Called after every sleep: tests check invariants at every point a real run could be observed. */
  onSleep: (() => void) | undefined;
  slept = 0;
  constructor(public t = T0) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += Math.max(0, ms);
    this.slept += Math.max(0, ms);
    await new Promise((r) => setImmediate(r));
    this.onSleep?.();
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export class MemoryLogger implements Logger {
  lines: string[] = [];
  debug(m: string): void {
    this.lines.push(`debug ${m}`);
  }
  info(m: string): void {
    this.lines.push(`info ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`warn ${m}`);
  }
  error(m: string): void {
    this.lines.push(`error ${m}`);
  }
}

// ---------------------------------------------------------------- container groups

/** `degrade`: healthy for `degradeAfterMs` after it runs, then 503 (the emulator's `degrade:N`). */
export type Behaviour = 'ok' | 'pullFail' | 'crash' | 'unhealthy' | 'slow' | 'exit' | 'degrade';

interface SimGroup {
  rg: string;
  name: string;
  tags: Record<string, string>;
  images: Array<{ name: string; image: string }>;
  createdAt: number;
  behaviour: Behaviour;
  ip?: string;
  /** set for seeded groups: fixed state */
  fixedState?: string;
  deletingUntil?: number;
  location: string;
  /** What getDefinition answers (created groups: their spec without secrets). */
  definition?: GroupDefinition;
}

/** What ARM's GET shows of a created spec: its definition, every secret left out (as ARM does). */
export function definitionOfSpec(rg: string, spec: ContainerGroupSpec): GroupDefinition {
  const identities = [
    ...new Set([
      ...(spec.registry.identity ? [spec.registry.identity] : []),
      ...(spec.registryCredentials ?? []).flatMap((c) => ('identity' in c ? [c.identity] : [])),
      ...(spec.identity?.userAssigned ?? []),
    ]),
  ];
  return {
    name: spec.name,
    resourceGroup: rg,
    location: spec.location,
    osType: spec.osType,
    restartPolicy: spec.restartPolicy,
    ...(spec.sku ? { sku: spec.sku } : {}),
    ...(spec.priority ? { priority: spec.priority } : {}),
    ...(spec.zones ? { zones: [...spec.zones] } : {}),
    ...(spec.ccePolicy ? { ccePolicy: spec.ccePolicy } : {}),
    ...(spec.ports.length
      ? { ipAddress: { type: 'Private', ports: spec.ports.map((port) => ({ port, protocol: 'TCP' })) } }
      : {}),
    subnetIds: [spec.subnetId],
    ...(identities.length || spec.identity?.systemAssigned
      ? { identity: { userAssigned: identities, systemAssigned: spec.identity?.systemAssigned ?? false } }
      : {}),
    imageRegistryCredentials: [
      ...(spec.registry.identity ? [{ server: spec.registry.server, identity: spec.registry.identity }] : []),
      ...(spec.registryCredentials ?? []).map((c) =>
        'identity' in c
          ? { server: c.server, identity: c.identity }
          : { server: c.server, username: c.username },
      ),
    ],
    ...(spec.dnsConfig
      ? {
          dnsConfig: {
            nameServers: [...spec.dnsConfig.nameServers],
            ...(spec.dnsConfig.searchDomains
              ? { searchDomains: spec.dnsConfig.searchDomains.join(' ') }
              : {}),
            ...(spec.dnsConfig.options ? { options: spec.dnsConfig.options.join(' ') } : {}),
          },
        }
      : {}),
    ...(spec.logAnalytics
      ? {
          logAnalytics: {
            workspaceId: spec.logAnalytics.workspaceId,
            ...(spec.logAnalytics.logType ? { logType: spec.logAnalytics.logType } : {}),
            ...(spec.logAnalytics.metadata ? { metadata: { ...spec.logAnalytics.metadata } } : {}),
          },
        }
      : {}),
    volumes: (spec.volumes ?? []).map((v) => {
      if (v.kind === 'azureFile') {
        const { storageAccountKey: _key, ...rest } = v;
        return rest;
      }
      if (v.kind === 'secret') return { name: v.name, kind: 'secret' as const };
      return { ...v };
    }),
    initContainers: (spec.initContainers ?? []).map((c) => ({
      name: c.name,
      image: c.image,
      ...(c.command ? { command: [...c.command] } : {}),
      env: { ...c.env },
      secureEnvNames: Object.keys(c.secureEnv),
      volumeMounts: c.volumeMounts.map((m) => ({ ...m })),
    })),
    containers: spec.containers.map((c) => ({
      name: c.name,
      image: c.image,
      ...(c.command ? { command: [...c.command] } : {}),
      ports: c.ports.map((port) => ({ port, protocol: 'TCP' })),
      cpu: c.cpu,
      memoryInGB: c.memoryInGB,
      env: { ...c.env },
      secureEnvNames: Object.keys(c.secureEnv),
      volumeMounts: (c.volumeMounts ?? []).map((m) => ({ ...m })),
      ...(c.livenessProbe ? { livenessProbe: structuredClone(c.livenessProbe) } : {}),
      ...(c.readinessProbe ? { readinessProbe: structuredClone(c.readinessProbe) } : {}),
    })),
    unsupported: [],
  };
}

const tick = () => new Promise((r) => setImmediate(r));

/** What a list item looks like: ARM leaves out instanceView. */
function withoutInstanceView(v: ContainerGroupView): ContainerGroupView {
  const { state: _state, ...rest } = v;
  return {
    ...rest,
    events: [],
    containers: v.containers.map((c) => ({ name: c.name, image: c.image, events: [] })),
  };
}

export class FakeContainerGroups implements ContainerGroups {
  groups = new Map<string, SimGroup>();
  calls = { list: 0, get: 0, getDefinition: 0, create: 0, delete: 0, restart: 0 };
  createdSpecs: ContainerGroupSpec[] = [];
  /** Behaviour chosen per created group, by image digest. */
  behaviourByDigest = new Map<string, Behaviour>();
  startupMs = 4_000;
  deleteMs = 0;
  /** For `degrade`: how long the group answers 2xx once it runs. */
  degradeAfterMs = 10_000;
  private ipSeq = 10;
  listErrors = new Map<string, Error>();
  /** ACI's list omits instanceView (group state, container states and events); set true to include it. */
  listInstanceView = false;
  /** Throw this from the next call of the named method (once). */
  failNext: Partial<Record<keyof FakeContainerGroups['calls'], Error>> = {};

  constructor(private clock: Clock) {}

  private key(rg: string, name: string) {
    return `${rg.toLowerCase()}/${name}`;
  }

  private nextIp(): string {
    return `10.0.0.${this.ipSeq++}`;
  }

  private maybeFail(op: keyof FakeContainerGroups['calls']): void {
    const e = this.failNext[op];
    if (e) {
      delete this.failNext[op];
      throw e;
    }
  }

  /** Whether a `degrade` group has started answering 503. */
  degraded(ip: string): boolean {
    const g = this.groupByIp(ip);
    return (
      g?.behaviour === 'degrade' && this.clock.now() >= g.createdAt + this.startupMs + this.degradeAfterMs
    );
  }

  /** A group that exists outside our rollouts (adopted, watched, legacy). */
  seed(
    rg: string,
    name: string,
    opts: {
      tags?: Record<string, string>;
      image?: string;
      ip?: string;
      state?: string;
      definition?: GroupDefinition;
    } = {},
  ): void {
    this.groups.set(this.key(rg, name), {
      rg,
      name,
      tags: opts.tags ?? {},
      images: [{ name: name.split('-')[0] ?? name, image: opts.image ?? 'contoso.azurecr.io/legacy:1.0.0' }],
      createdAt: this.clock.now() - 3_600_000,
      behaviour: 'ok',
      ...(opts.ip !== undefined ? { ip: opts.ip } : { ip: this.nextIp() }),
      fixedState: opts.state ?? 'Running',
      location: 'westeurope',
      ...(opts.definition ? { definition: structuredClone(opts.definition) } : {}),
    });
    if (opts.definition)
      this.groups.get(this.key(rg, name))!.images = opts.definition.containers.map((c) => ({
        name: c.name,
        image: c.image,
      }));
  }

  /** Platform maintenance: a new IP. */
  maintenance(rg: string, name: string): string {
    const g = this.groups.get(this.key(rg, name))!;
    g.ip = this.nextIp();
    return g.ip;
  }

  stop(rg: string, name: string): void {
    const g = this.groups.get(this.key(rg, name))!;
    g.fixedState = 'Stopped';
    delete g.ip;
  }

  find(rg: string, name: string): SimGroup | undefined {
    return this.groups.get(this.key(rg, name));
  }

  names(): string[] {
    return [...this.groups.values()].map((g) => g.name).sort();
  }

  /** The group as `get` would show it, without counting a call. */
  peek(rg: string, name: string): ContainerGroupView | undefined {
    this.gc();
    const g = this.groups.get(this.key(rg, name));
    return g ? this.view(g) : undefined;
  }

  peekByIp(ip: string): ContainerGroupView | undefined {
    this.gc();
    const g = this.groupByIp(ip);
    return g ? this.view(g) : undefined;
  }

  groupByIp(ip: string): SimGroup | undefined {
    return [...this.groups.values()].find((g) => g.ip === ip);
  }

  private view(g: SimGroup): ContainerGroupView {
    const now = this.clock.now();
    const base = {
      name: g.name,
      resourceGroup: g.rg,
      location: g.location,
      tags: { ...g.tags },
      id: `/subscriptions/${SUB}/resourceGroups/${g.rg}/providers/Microsoft.ContainerInstance/containerGroups/${g.name}`,
      events: [],
    };
    if (g.deletingUntil !== undefined)
      return { ...base, provisioningState: 'Deleting', state: 'Running', containers: [] };
    if (g.fixedState) {
      const running = g.fixedState === 'Running';
      return {
        ...base,
        provisioningState: 'Succeeded',
        state: g.fixedState,
        ...(g.ip ? { ip: g.ip } : {}),
        containers: g.images.map((c) => ({
          name: c.name,
          image: c.image,
          restartCount: 0,
          currentState: { state: running ? 'Running' : 'Terminated', ...(running ? {} : { exitCode: 0 }) },
          events: [],
        })),
      };
    }
    const age = now - g.createdAt;
    const up = age >= this.startupMs && g.behaviour !== 'slow';
    const containers = g.images.map((c) => {
      if (g.behaviour === 'pullFail' && age >= 1_000)
        return {
          name: c.name,
          image: c.image,
          restartCount: 0,
          currentState: { state: 'Waiting', detailStatus: 'ErrImagePull' },
          events: [
            {
              name: 'Pulling',
              message: `pulling image "${c.image}"`,
              type: 'Normal',
              count: 1,
              lastTimestamp: new Date(g.createdAt).toISOString(),
            },
            {
              name: 'Failed',
              message: `Failed to pull image "${c.image}": rpc error: code = NotFound desc = manifest unknown`,
              type: 'Warning',
              count: 2,
              lastTimestamp: new Date(g.createdAt + 1_000).toISOString(),
            },
          ],
        };
      if (g.behaviour === 'crash' && up) {
        const restarts = Math.min(10, Math.floor((age - this.startupMs) / 2_000) + 1);
        return {
          name: c.name,
          image: c.image,
          restartCount: restarts,
          currentState: { state: 'Terminated', exitCode: 1, detailStatus: 'Error' },
          previousState: { state: 'Terminated', exitCode: 1 },
          events: [{ name: 'Killing', message: 'Killing container', type: 'Normal', count: restarts }],
        };
      }
      return {
        name: c.name,
        image: c.image,
        restartCount: 0,
        currentState: up ? { state: 'Running' } : { state: 'Waiting', detailStatus: 'ContainerCreating' },
        events: up ? [{ name: 'Started', message: 'Started container', type: 'Normal', count: 1 }] : [],
      };
    });
    if (g.behaviour === 'exit' && up)
      return {
        ...base,
        provisioningState: 'Succeeded',
        state: 'Succeeded',
        containers: containers.map((c) => ({ ...c, currentState: { state: 'Terminated', exitCode: 0 } })),
      };
    if (up && !g.ip) g.ip = this.nextIp();
    return {
      ...base,
      provisioningState: up ? 'Succeeded' : 'Creating',
      state: up ? 'Running' : 'Pending',
      ...(up && g.ip ? { ip: g.ip } : {}),
      containers,
    };
  }

  private gc(): void {
    const now = this.clock.now();
    for (const [k, g] of this.groups)
      if (g.deletingUntil !== undefined && g.deletingUntil <= now) this.groups.delete(k);
  }

  async listByResourceGroup(rg: string): Promise<ContainerGroupView[]> {
    await tick();
    this.calls.list++;
    this.maybeFail('list');
    const err = this.listErrors.get(rg.toLowerCase());
    if (err) throw err;
    this.gc();
    return [...this.groups.values()]
      .filter((g) => g.rg.toLowerCase() === rg.toLowerCase())
      .map((g) => (this.listInstanceView ? this.view(g) : withoutInstanceView(this.view(g))));
  }

  async get(rg: string, name: string): Promise<ContainerGroupView | undefined> {
    await tick();
    this.calls.get++;
    this.maybeFail('get');
    this.gc();
    const g = this.groups.get(this.key(rg, name));
    return g ? this.view(g) : undefined;
  }

  async getDefinition(rg: string, name: string): Promise<GroupDefinition | undefined> {
    await tick();
    this.calls.getDefinition++;
    this.maybeFail('getDefinition');
    this.gc();
    const g = this.groups.get(this.key(rg, name));
    if (!g) return undefined;
    return structuredClone(
      g.definition ?? {
        name: g.name,
        resourceGroup: g.rg,
        location: g.location,
        osType: 'Linux',
        restartPolicy: 'Always',
        subnetIds: [],
        imageRegistryCredentials: [],
        volumes: [],
        initContainers: [],
        containers: g.images.map((c) => ({
          name: c.name,
          image: c.image,
          ports: [],
          cpu: 1,
          memoryInGB: 1,
          env: {},
          secureEnvNames: [],
          volumeMounts: [],
        })),
        unsupported: [],
      },
    );
  }

  async beginCreate(rg: string, spec: ContainerGroupSpec): Promise<void> {
    await tick();
    this.calls.create++;
    this.maybeFail('create');
    this.gc();
    const existing = this.groups.get(this.key(rg, spec.name));
    if (existing?.deletingUntil !== undefined)
      throw new TransientError('ContainerGroupTransitioning', {
        statusCode: 409,
        code: 'ContainerGroupTransitioning',
      });
    this.createdSpecs.push(structuredClone(spec));
    const appImage = spec.containers[0]!.image;
    const digest = /@(sha256:[0-9a-f]+)/.exec(appImage)?.[1] ?? '';
    this.groups.set(this.key(rg, spec.name), {
      rg,
      name: spec.name,
      tags: { ...spec.tags },
      images: spec.containers.map((c) => ({ name: c.name, image: c.image })),
      createdAt: this.clock.now(),
      behaviour: this.behaviourByDigest.get(digest) ?? 'ok',
      location: spec.location,
      definition: definitionOfSpec(rg, spec),
    });
  }

  async delete(rg: string, name: string): Promise<void> {
    await tick();
    this.calls.delete++;
    this.maybeFail('delete');
    const g = this.groups.get(this.key(rg, name));
    if (!g) return;
    if (this.deleteMs <= 0) this.groups.delete(this.key(rg, name));
    else g.deletingUntil ??= this.clock.now() + this.deleteMs;
  }

  async restart(rg: string, name: string): Promise<void> {
    await tick();
    this.calls.restart++;
    this.maybeFail('restart');
    const g = this.groups.get(this.key(rg, name));
    if (!g) throw new NotFoundError(`group ${name} not found`, { statusCode: 404, code: 'ResourceNotFound' });
    g.fixedState = 'Running';
    g.ip = this.nextIp();
  }
}

// ---------------------------------------------------------------- registries

/** The seeded `locked` registry's private endpoint (in its own subnet, as Azure requires: not the ACI subnet). */
export const LOCKED_ENDPOINT_ID = `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.Network/privateEndpoints/pe-locked`;
export const ENDPOINT_SUBNET_ID = `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-apps/subnets/snet-pe`;

/** Registries as ARM shows them: contoso (public) and locked (public access disabled, firewall Deny, trusted
 * services allowed, one private endpoint), like the emulator's seed. */
export class FakeRegistries implements Registries {
  calls = 0;
  endpointReads = 0;
  registries = new Map<string, RegistryInfo>([
    [
      REGISTRY_ID.toLowerCase(),
      {
        id: REGISTRY_ID,
        name: 'contoso',
        loginServer: 'contoso.azurecr.io',
        publicNetworkAccess: 'Enabled',
        networkRuleSetDefaultAction: 'Allow',
        networkRuleBypassOptions: 'AzureServices',
        roleAssignmentMode: 'LegacyRegistryPermissions',
        sku: 'Premium',
        anonymousPullEnabled: false,
      },
    ],
    [
      LOCKED_ID.toLowerCase(),
      {
        id: LOCKED_ID,
        name: 'locked',
        loginServer: 'locked.azurecr.io',
        publicNetworkAccess: 'Disabled',
        networkRuleSetDefaultAction: 'Deny',
        networkRuleBypassOptions: 'AzureServices',
        roleAssignmentMode: 'LegacyRegistryPermissions',
        privateEndpointIds: [LOCKED_ENDPOINT_ID],
        sku: 'Premium',
        anonymousPullEnabled: false,
      },
    ],
  ]);
  /** Private endpoint id (lower case) → its subnet id, or the error reading it throws. */
  endpointSubnets = new Map<string, string | Error>([[LOCKED_ENDPOINT_ID.toLowerCase(), ENDPOINT_SUBNET_ID]]);

  async get(id: string): Promise<RegistryInfo> {
    await tick();
    this.calls++;
    const r = this.registries.get(id.toLowerCase());
    if (!r)
      throw new NotFoundError(`registry ${id} not found`, { statusCode: 404, code: 'ResourceNotFound' });
    return structuredClone(r);
  }

  /** Uncached, as the adapter (the runtime's CachedRegistries caches it): counts as one `Registries_Get`. */
  async loginServer(id: string): Promise<string> {
    return (await this.get(id)).loginServer.toLowerCase();
  }

  async privateEndpointSubnet(id: string): Promise<string | undefined> {
    await tick();
    this.endpointReads++;
    const found = this.endpointSubnets.get(id.toLowerCase());
    if (found instanceof Error) throw found;
    if (found === undefined)
      throw new NotFoundError(`private endpoint ${id} not found`, {
        statusCode: 404,
        code: 'ResourceNotFound',
      });
    return found;
  }
}

// ---------------------------------------------------------------- registry data plane

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** Manifests by digest, as the registry's data plane answers them (the adapter verifies digests; the fake does not). */
export class FakeRegistryManifests implements RegistryManifests {
  manifests = new Map<string, { mediaType: string; manifest: unknown }>();
  calls: Array<{ loginServer: string; repository: string; digest: string }> = [];
  /** Tags by repository, as `tag()` pushed them (the listing answers them most recently updated first). */
  tags = new Map<string, RegistryTag[]>();
  tagListings: Array<{ loginServer: string; repository: string }> = [];
  /** Throw this from every call while set. */
  error: Error | undefined;

  /** A push the registry holds (whether or not its event was delivered): the tag moves to `digest` at `at`. */
  tag(repository: string, name: string, digest: string, at: number): void {
    if (!this.manifests.has(digest))
      this.manifests.set(digest, {
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        manifest: { schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' },
      });
    const list = (this.tags.get(repository) ?? []).filter((t) => t.name !== name);
    list.push({ name, digest, lastUpdatedOn: new Date(at).toISOString() });
    this.tags.set(repository, list);
  }

  async listTags(loginServer: string, repository: string): Promise<RegistryTag[]> {
    await tick();
    this.tagListings.push({ loginServer, repository });
    if (this.error) throw this.error;
    return [...(this.tags.get(repository) ?? [])].sort((a, b) =>
      b.lastUpdatedOn.localeCompare(a.lastUpdatedOn),
    );
  }

  /**
   * An index as buildx pushes it: one manifest per platform plus, for each, an `unknown/unknown` attestation.
   * Returns the index digest and the platform manifests' digests by platform.
   */
  addIndex(
    platforms: string[],
    seed: string | number,
  ): { digest: string; byPlatform: Record<string, string> } {
    const byPlatform: Record<string, string> = {};
    const entries: unknown[] = [];
    for (const p of platforms) {
      const [os, architecture, variant] = p.split('/');
      const digest = digestOf(`${seed}:${p}`);
      byPlatform[p] = digest;
      entries.push({
        mediaType: OCI_MANIFEST,
        digest,
        size: 700,
        platform: { architecture, os, ...(variant ? { variant } : {}) },
      });
      entries.push({
        mediaType: OCI_MANIFEST,
        digest: digestOf(`${seed}:${p}:attestation`),
        size: 560,
        annotations: {
          'vnd.docker.reference.digest': digest,
          'vnd.docker.reference.type': 'attestation-manifest',
        },
        platform: { architecture: 'unknown', os: 'unknown' },
      });
    }
    const digest = digestOf(`${seed}:index`);
    this.manifests.set(digest, {
      mediaType: OCI_INDEX,
      manifest: { schemaVersion: 2, mediaType: OCI_INDEX, manifests: entries },
    });
    return { digest, byPlatform };
  }

  async getManifest(loginServer: string, repository: string, digest: string): Promise<FetchedManifest> {
    await tick();
    this.calls.push({ loginServer, repository, digest });
    if (this.error) throw this.error;
    const m = this.manifests.get(digest);
    if (!m)
      throw new NotFoundError(`manifest ${digest} not found`, { statusCode: 404, code: 'MANIFEST_UNKNOWN' });
    return { mediaType: m.mediaType, digest, manifest: structuredClone(m.manifest) };
  }
}

// ---------------------------------------------------------------- secrets

interface SimSecret {
  name: string;
  value: string;
  tags: Record<string, string>;
  versions: number;
  updatedOn: Date;
  /** When the current version was created. */
  createdOn: Date;
}

export class FakeSecrets implements Secrets {
  vaults = new Map<string, Map<string, SimSecret>>();
  calls = { list: 0, get: 0, set: 0 };
  /** Return an error to throw for a call, or undefined. Called for every call. */
  fault: ((op: 'list' | 'get' | 'set', vault: string, name?: string) => Error | undefined) | undefined;

  constructor(private clock: Clock) {}

  private vault(url: string): Map<string, SimSecret> {
    let v = this.vaults.get(url);
    if (!v) this.vaults.set(url, (v = new Map()));
    return v;
  }

  seed(vaultUrl: string, name: string, value: string, tags: Record<string, string> = {}): void {
    this.vault(vaultUrl).set(name.toLowerCase(), {
      name,
      value,
      tags,
      versions: 1,
      updatedOn: new Date(this.clock.now()),
      createdOn: new Date(this.clock.now()),
    });
  }

  value(vaultUrl: string, name: string): string | undefined {
    return this.vaults.get(vaultUrl)?.get(name.toLowerCase())?.value;
  }

  secret(vaultUrl: string, name: string): SimSecret | undefined {
    return this.vaults.get(vaultUrl)?.get(name.toLowerCase());
  }

  async listIpSecrets(vaultUrl: string): Promise<Map<string, SecretProperties>> {
    await tick();
    this.calls.list++;
    const f = this.fault?.('list', vaultUrl);
    if (f) throw f;
    return new Map(
      [...this.vault(vaultUrl).values()].map((s) => [
        s.name,
        { name: s.name, tags: { ...s.tags }, updatedOn: s.updatedOn, createdOn: s.createdOn, enabled: true },
      ]),
    );
  }

  async getValue(vaultUrl: string, name: string): Promise<string | undefined> {
    await tick();
    this.calls.get++;
    const f = this.fault?.('get', vaultUrl, name);
    if (f) throw f;
    return this.vault(vaultUrl).get(name.toLowerCase())?.value;
  }

  async getSecret(vaultUrl: string, name: string): Promise<VersionedSecret | undefined> {
    await tick();
    this.calls.get++;
    const f = this.fault?.('get', vaultUrl, name);
    if (f) throw f;
    const s = this.vault(vaultUrl).get(name.toLowerCase());
    return s ? { value: s.value, version: `v${s.versions}`, createdOn: s.createdOn } : undefined;
  }

  async getProperties(vaultUrl: string, name: string): Promise<SecretProperties | undefined> {
    await tick();
    this.calls.get++;
    const f = this.fault?.('get', vaultUrl, name);
    if (f) throw f;
    const s = this.vault(vaultUrl).get(name.toLowerCase());
    return s
      ? { name: s.name, tags: { ...s.tags }, updatedOn: s.updatedOn, createdOn: s.createdOn, enabled: true }
      : undefined;
  }

  async set(vaultUrl: string, name: string, value: string, tags: Record<string, string>): Promise<void> {
    await tick();
    this.calls.set++;
    const f = this.fault?.('set', vaultUrl, name);
    if (f) throw f;
    const v = this.vault(vaultUrl);
    const prev = v.get(name.toLowerCase());
    v.set(name.toLowerCase(), {
      name,
      value,
      tags: { ...tags },
      versions: (prev?.versions ?? 0) + 1,
      updatedOn: new Date(this.clock.now()),
      createdOn: new Date(this.clock.now()),
    });
  }
}

// ---------------------------------------------------------------- rollout store

export class FakeRolloutStore implements RolloutStore {
  rows = new Map<string, { json: string; etag: string }>();
  history = new Map<string, Map<string, HistoryEntry>>();
  reconciles: ReconcileResult[] = [];
  writes = 0;
  private seq = 0;
  /** Called before a replace/create is applied; throw to simulate a crash or a lost write. */
  beforeWrite: ((app: string, state: AppState) => void) | undefined;
  /** Called after a replace/create is applied; throw to simulate a crash right after the write. */
  afterWrite: ((app: string, state: AppState) => void) | undefined;

  private etag(): string {
    return `W/"${++this.seq}"`;
  }

  async get(app: string): Promise<{ state: AppState; etag: string } | undefined> {
    await tick();
    const row = this.rows.get(app);
    return row ? { state: JSON.parse(row.json) as AppState, etag: row.etag } : undefined;
  }

  async create(app: string, state: AppState): Promise<string> {
    await tick();
    this.beforeWrite?.(app, state);
    if (this.rows.has(app))
      throw new ConflictError(`row ${app} exists`, { statusCode: 409, code: 'EntityAlreadyExists' });
    const etag = this.etag();
    this.rows.set(app, { json: JSON.stringify(state), etag });
    this.writes++;
    this.afterWrite?.(app, state);
    return etag;
  }

  async replace(app: string, state: AppState, etag: string): Promise<string> {
    await tick();
    this.beforeWrite?.(app, state);
    const row = this.rows.get(app);
    if (!row || row.etag !== etag)
      throw new ConflictError(`etag mismatch for ${app}`, {
        statusCode: 412,
        code: 'UpdateConditionNotSatisfied',
      });
    const next = this.etag();
    this.rows.set(app, { json: JSON.stringify(state), etag: next });
    this.writes++;
    this.afterWrite?.(app, state);
    return next;
  }

  async list(): Promise<StoredAppState[]> {
    await tick();
    return [...this.rows].map(([app, row]) => ({
      app,
      state: JSON.parse(row.json) as AppState,
      etag: row.etag,
    }));
  }

  async appendHistory(app: string, entry: HistoryEntry): Promise<void> {
    await tick();
    let h = this.history.get(app);
    if (!h) this.history.set(app, (h = new Map()));
    h.set(entry.rolloutId, structuredClone(entry));
  }

  async listHistory(app: string, limit: number): Promise<HistoryEntry[]> {
    await tick();
    return [...(this.history.get(app)?.values() ?? [])]
      .sort((a, b) => b.finishedAt.localeCompare(a.finishedAt))
      .slice(0, limit);
  }

  async recordReconcile(result: ReconcileResult): Promise<void> {
    await tick();
    this.reconciles.push(structuredClone(result));
  }

  async getLastReconcile(): Promise<ReconcileResult | undefined> {
    return this.reconciles.at(-1);
  }

  state(app: string): AppState | undefined {
    const row = this.rows.get(app);
    return row ? (JSON.parse(row.json) as AppState) : undefined;
  }
}

// ---------------------------------------------------------------- health, notifier

export class FakeHealthProbe implements HealthProbe {
  calls: string[] = [];
  /** Every probe with its time and answer (status, or undefined when nothing answered). */
  log: Array<{ url: string; at: number; status: number | undefined }> = [];
  constructor(
    private groups: FakeContainerGroups,
    private clock?: Clock,
  ) {}
  async check(url: string): Promise<HealthResult> {
    await tick();
    this.calls.push(url);
    const result = this.answer(url);
    this.log.push({ url, at: this.clock?.now() ?? 0, status: result.status });
    return result;
  }
  private answer(url: string): HealthResult {
    const ip = new URL(url).hostname;
    const g = this.groups.groupByIp(ip);
    if (!g) return { ok: false, error: 'connect ECONNREFUSED' };
    if (g.behaviour === 'unhealthy') return { ok: false, status: 503, bodySnippet: '{"status":"starting"}' };
    if (this.groups.degraded(ip)) return { ok: false, status: 503 };
    return { ok: true, status: 200 };
  }
}

export class FakeNotifier implements Notifier {
  events: Notification[] = [];
  async publish(e: Notification): Promise<void> {
    this.events.push(e);
  }
}

// ---------------------------------------------------------------- world

export interface World {
  clock: FakeClock;
  logger: MemoryLogger;
  groups: FakeContainerGroups;
  registries: FakeRegistries;
  manifests: FakeRegistryManifests;
  secrets: FakeSecrets;
  dns: FakeDnsRecords;
  store: FakeRolloutStore;
  probe: FakeHealthProbe;
  notifier: FakeNotifier;
  deps: DomainDeps;
}

export function makeWorld(config: AppsConfig = makeConfig(), options: Partial<DomainOptions> = {}): World {
  const clock = new FakeClock();
  const logger = new MemoryLogger();
  const groups = new FakeContainerGroups(clock);
  const registries = new FakeRegistries();
  const manifests = new FakeRegistryManifests();
  const secrets = new FakeSecrets(clock);
  const dns = new FakeDnsRecords();
  const store = new FakeRolloutStore();
  const probe = new FakeHealthProbe(groups, clock);
  const notifier = new FakeNotifier();
  secrets.seed(VAULT, 'web-db-password', 's3cr3t-db-password');
  const deps: DomainDeps = {
    config,
    containerGroups: groups,
    registries,
    registryManifests: manifests,
    secrets,
    dnsRecords: dns,
    rolloutStore: store,
    healthProbe: probe,
    notifier,
    clock,
    logger,
    options: { retryBaseMs: 100, ...options },
  };
  return { clock, logger, groups, registries, manifests, secrets, dns, store, probe, notifier, deps };
}

/** Same fakes, fresh deps object (a new function instance after a crash). */
export function restartedDeps(w: World): DomainDeps {
  return { ...w.deps };
}

let eventSeq = 0;

export function pushEvent(opts: {
  tag: string;
  digest: string;
  at?: number;
  repository?: string;
  host?: string;
  topic?: string;
  id?: string;
  mediaType?: string;
}): ImagePushedEvent {
  const raw = {
    id: opts.id ?? `evt-${++eventSeq}`,
    topic: opts.topic ?? REGISTRY_ID,
    subject: `${opts.repository ?? 'web'}:${opts.tag}`,
    eventType: 'Microsoft.ContainerRegistry.ImagePushed',
    eventTime: new Date(opts.at ?? T0).toISOString(),
    dataVersion: '2.0',
    metadataVersion: '1',
    data: {
      id: 'x',
      timestamp: new Date(opts.at ?? T0).toISOString(),
      action: 'push',
      target: {
        mediaType: opts.mediaType ?? 'application/vnd.docker.distribution.manifest.v2+json',
        digest: opts.digest,
        repository: opts.repository ?? 'web',
        tag: opts.tag,
      },
      request: { id: 'r', host: opts.host ?? 'contoso.azurecr.io', method: 'PUT' },
    },
  };
  const parsed = parseRegistryEvent(raw);
  if (parsed.kind !== 'imagePushed') throw new Error(`test event did not parse: ${JSON.stringify(parsed)}`);
  return parsed;
}

/** A deadline `seconds` from the world's clock. */
export function budget(w: World, seconds: number): { deadline: number } {
  return { deadline: w.clock.now() + seconds * 1000 };
}
