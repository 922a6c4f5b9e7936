/**
 * The emulator's control API for container groups (`/_emulator/...`, not Azure's): what the platform does on its
 * own (a host move during maintenance, a platform restart: both give the group a new IP), bulk seeding for scale
 * tests, a debug listing, and the image-validation mode. Plain `{ code, message }` errors.
 */
import crypto from 'node:crypto';
import { objectBody } from '../core/controlBody.js';
import { controlErrors } from '../core/controlErrors.js';
import { controlRoute, type EmuRequest, type EmuResponse, type Route } from '../core/router.js';
import { aciErrors } from './aciErrors.js';
import type { AciParts } from './armRoutes.js';
import { containerView, groupState } from './groupRendering.js';
import {
  allContainers,
  groupId,
  groupKey,
  type ProbeSpec,
  type StoredGroup,
  type StoredVolume,
} from './groupTypes.js';
import { validateGroupPut, type ValidatedPut } from './groupValidation.js';
import { tcpPorts } from './network.js';
import { subnetRange } from './subnetAddresses.js';

/** A parsed seed request: `count` groups named `{namePrefix}-{i}`, round-robin over `subnets`. */
interface SeedRequest {
  rg: string;
  count: number;
  prefix: string;
  subnets: string[];
  image: string;
  port: number;
  location: string;
  listen: boolean;
  tags: Record<string, string> | undefined;
  startIndex: number;
}

interface SeededGroup {
  name: string;
  id: string;
  ip?: string;
  provisioningState: string;
}

/** ACI's control routes have always worded it so. */
const bodyOf = (req: EmuRequest): Record<string, unknown> => objectBody(req, 'Body must be a JSON object.');

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/** A probe as the debug listing shows it: what it checks. */
function probeSummary(p: ProbeSpec | undefined): string | null {
  if (!p) return null;
  return p.httpGet
    ? `httpGet :${p.httpGet.port}${p.httpGet.path ?? '/'}`
    : `exec ${(p.exec?.command ?? []).join(' ')}`;
}

/**
 * What the emulator "mounted" (nothing, for real): the volume, who mounts it where, and SHA-256 fingerprints of its
 * secrets (the storage account key, each secret file's decoded content), so a test can check where a secret came
 * from without the emulator ever showing it.
 */
function mountedVolume(g: StoredGroup, v: StoredVolume): Record<string, unknown> {
  const mounts = allContainers(g.properties).flatMap((c) =>
    (c.properties.volumeMounts ?? [])
      .filter((m) => m.name === v.name)
      .map((m) => `${c.name}:${m.mountPath}${m.readOnly ? ' (read-only)' : ''}`),
  );
  const kind = v.azureFile ? 'azureFile' : v.secret ? 'secret' : v.gitRepo ? 'gitRepo' : 'emptyDir';
  const out: Record<string, unknown> = { name: v.name, kind, mounts };
  if (v.azureFile) {
    out['share'] = `${v.azureFile.storageAccountName}/${v.azureFile.shareName}`;
    out['storageAccountKeySha256'] = sha256(v.azureFile.storageAccountKey);
  }
  if (v.secret)
    out['fileSha256'] = Object.fromEntries(
      Object.entries(v.secret).map(([f, b64]) => [f, sha256(Buffer.from(b64, 'base64').toString('utf8'))]),
    );
  return out;
}

export class ContainerGroupControlRoutes {
  constructor(private readonly p: AciParts) {}

  routes(): Route[] {
    return [
      controlRoute('POST', '/_emulator/maintenance', 'Emulator_ContainerGroupMaintenance', (req) =>
        this.move(req, 'maintenance'),
      ),
      controlRoute('POST', '/_emulator/restart', 'Emulator_ContainerGroupRestart', (req) =>
        this.move(req, 'restart'),
      ),
      controlRoute('POST', '/_emulator/containerGroups/seed', 'Emulator_SeedContainerGroups', (req) =>
        this.seed(req),
      ),
      controlRoute('GET', '/_emulator/containerGroups', 'Emulator_ListContainerGroups', () =>
        this.debugList(),
      ),
      controlRoute('POST', '/_emulator/containerGroups/options', 'Emulator_ContainerGroupOptions', (req) =>
        this.setOptions(req),
      ),
    ];
  }

  private move(req: EmuRequest, reason: 'maintenance' | 'restart'): Promise<EmuResponse> {
    const body = bodyOf(req);
    const rg = body['resourceGroup'];
    const name = body['name'];
    if (typeof rg !== 'string' || typeof name !== 'string') {
      throw controlErrors.badRequest('Body must be { "resourceGroup": "...", "name": "..." }.');
    }
    const key = groupKey(rg, name);
    return this.p.store.withLock(key, async () => {
      const g = this.p.store.groups[key];
      if (!g) throw aciErrors.control.groupNotFound(rg, name);
      return { status: 200, body: await this.p.lifecycle.move(key, g, reason) };
    });
  }

  private async seed(req: EmuRequest): Promise<EmuResponse> {
    const seed = parseSeedRequest(bodyOf(req));
    this.checkSubnetCapacity(seed);
    const created: SeededGroup[] = [];
    const skipped: string[] = [];
    for (let i = seed.startIndex; i < seed.startIndex + seed.count; i++) {
      const name = `${seed.prefix}-${i}`;
      const subnetId = seed.subnets[(i - seed.startIndex) % Math.max(1, seed.subnets.length)];
      const made = await this.seedOne(seed, name, subnetId);
      if (made) created.push(made);
      else skipped.push(name);
    }
    this.p.store.changed();
    return { status: 201, body: { created, skipped } };
  }

  /** Refuses up front what Azure would fail group by group: a /24 subnet holds at most 251 groups. */
  private checkSubnetCapacity(seed: SeedRequest): void {
    const perSubnet = new Map<string, number>();
    for (let i = 0; i < seed.count; i++) {
      const id = seed.subnets[i % Math.max(1, seed.subnets.length)];
      if (id) perSubnet.set(id, (perSubnet.get(id) ?? 0) + 1);
    }
    for (const [id, wanted] of perSubnet) {
      const range = subnetRange(id);
      const used = Object.values(this.p.store.groups).filter((g) => g.ip && range.contains(g.ip)).length;
      const free = [...range.hosts()].length - used;
      if (wanted > free) throw aciErrors.control.subnetTooSmall(id, range.cidr, free, wanted);
    }
  }

  /** Creates one group at once (no LRO), or returns undefined when it exists already. */
  private async seedOne(seed: SeedRequest, name: string, subnetId: string | undefined) {
    const { ctx, store, lifecycle } = this.p;
    const valid = seedSpec(seed, name, subnetId, ctx.options.tenantId);
    const key = groupKey(seed.rg, name);
    return store.withLock(key, async (): Promise<SeededGroup | undefined> => {
      if (store.groups[key]) return undefined;
      const now = Date.now();
      const g: StoredGroup = {
        id: groupId(ctx.options.subscriptionId, seed.rg, name),
        name,
        resourceGroup: seed.rg,
        location: seed.location,
        properties: valid.properties,
        provisioningState: 'Creating',
        state: 'Pending',
        containers: {},
        events: [],
        listen: seed.listen,
        createdAt: now,
      };
      if (valid.tags) g.tags = valid.tags;
      store.put(key, g);
      lifecycle.beginPull(g, now);
      await lifecycle.bringUp(key, g, []);
      return { name, id: g.id, ...(g.ip ? { ip: g.ip } : {}), provisioningState: g.provisioningState };
    });
  }

  private debugList(): EmuResponse {
    const { store, views, runtime } = this.p;
    const opts = views.options(false);
    const value = Object.entries(store.groups).map(([key, g]) => ({
      id: g.id,
      resourceGroup: g.resourceGroup,
      name: g.name,
      provisioningState: g.provisioningState,
      state: groupState(g, opts),
      ip: g.ip ?? null,
      lastIp: g.lastIp ?? null,
      ports: tcpPorts(g),
      listening: runtime.listening(key)?.ports ?? [],
      held: runtime.listening(key)?.held ?? [],
      transition: g.transition ? { kind: g.transition.kind, phase: g.transition.phase } : null,
      containers: g.properties.containers.map((c) => {
        const run = g.containers[c.name];
        const view = containerView(g, c, opts);
        return {
          name: c.name,
          image: c.properties.image,
          digest: run?.digest ?? null,
          behavior: run?.behavior ?? null,
          state: view?.currentState.state ?? null,
          restartCount: view?.restartCount ?? 0,
          probes: {
            liveness: probeSummary(c.properties.livenessProbe),
            readiness: probeSummary(c.properties.readinessProbe),
          },
        };
      }),
      initContainers: (g.properties.initContainers ?? []).map((c) => ({
        name: c.name,
        image: c.properties.image,
        state: containerView(g, c, opts)?.currentState.state ?? null,
      })),
      volumes: (g.properties.volumes ?? []).map((v) => mountedVolume(g, v)),
    }));
    return { status: 200, body: { value } };
  }

  private setOptions(req: EmuRequest): EmuResponse {
    const body = bodyOf(req);
    const mode = body['imageValidation'];
    if (mode !== 'async' && mode !== 'sync') {
      throw controlErrors.badRequest('Body must be { "imageValidation": "async" | "sync" }.');
    }
    const state = this.p.store.state();
    state.settings.imageValidation = mode;
    this.p.store.changed();
    return { status: 200, body: state.settings };
  }
}

function parseSeedRequest(body: Record<string, unknown>): SeedRequest {
  const rg = body['resourceGroup'];
  const count = body['count'];
  const prefix = body['namePrefix'] ?? 'seed';
  if (
    typeof rg !== 'string' ||
    typeof count !== 'number' ||
    !Number.isInteger(count) ||
    count < 1 ||
    count > 2000
  ) {
    throw controlErrors.badRequest('Body must be { "resourceGroup", "count" (1-2000), "namePrefix"?, ... }.');
  }
  if (typeof prefix !== 'string') throw controlErrors.badRequest('namePrefix must be a string.');
  const subnetRaw = body['subnetIds'] ?? body['subnetId'];
  const subnets = (Array.isArray(subnetRaw) ? subnetRaw : subnetRaw === undefined ? [] : [subnetRaw]).map(
    String,
  );
  return {
    rg,
    count,
    prefix,
    subnets,
    image:
      typeof body['image'] === 'string' ? body['image'] : 'mcr.microsoft.com/azuredocs/aci-helloworld:latest',
    port: typeof body['port'] === 'number' ? body['port'] : 8080,
    location: typeof body['location'] === 'string' ? body['location'] : 'westeurope',
    listen: body['listen'] !== false,
    tags:
      typeof body['tags'] === 'object' && body['tags'] !== null
        ? Object.fromEntries(Object.entries(body['tags']).map(([k, v]) => [k, String(v)]))
        : undefined,
    startIndex: typeof body['startIndex'] === 'number' ? body['startIndex'] : 1,
  };
}

/** The PUT a seeded group stands for, validated as ARM would validate it. */
function seedSpec(
  seed: SeedRequest,
  name: string,
  subnetId: string | undefined,
  tenantId: string,
): ValidatedPut {
  const put = {
    location: seed.location,
    ...(seed.tags ? { tags: seed.tags } : {}),
    properties: {
      osType: 'Linux',
      restartPolicy: 'Always',
      containers: [
        {
          name: 'app',
          properties: {
            image: seed.image,
            ports: [{ port: seed.port }],
            resources: { requests: { cpu: 0.5, memoryInGB: 1 } },
          },
        },
      ],
      ipAddress: { type: subnetId ? 'Private' : 'Public', ports: [{ port: seed.port, protocol: 'TCP' }] },
      ...(subnetId ? { subnetIds: [{ id: subnetId }] } : {}),
    },
  };
  try {
    return validateGroupPut(name, put, { rawBodyLength: 1, tenantId });
  } catch (err) {
    throw controlErrors.badRequest((err as Error).message);
  }
}
