/**
 * `adoptGroup.copySpec`: the adopted group's definition, as ARM's GET shows it, turned into the app's template
 * (everything but the image), so that replacing the group keeps its volumes, mounts, probes, init containers, DNS
 * settings, identities and diagnostics.
 *
 * ARM returns no secret (the REST spec marks `secureValue`, `password` and `workspaceKey` x-ms-secret; it returns
 * Azure Files volumes without `storageAccountKey` and secret volumes as `{}`: the 2023-05-01 examples, and
 * terraform-provider-azurerm's container group reader, which takes them from its own config for that reason). Each
 * such secret is a hole the user fills with a Key Vault reference in `adoptGroup.keyVaultReferences`; until every
 * hole is filled the copy is not deployable and the holes are listed, so a group is never created without them.
 * What the template cannot express at all is listed as a problem, never dropped silently.
 */
import type {
  AdoptGroupConfig,
  AppConfig,
  KeyVaultReferences,
  TemplateConfig,
} from '../../config/appsConfig.js';
import type { KeyVaultRef } from '../../config/templateConfig.js';
import { vnetRefusals } from '../../config/vnetRules.js';
import type { ContainerDefinition, GroupDefinition } from '../ports.js';

/** A secret the adopted group holds that ARM does not return: where to supply it and what it is. */
export interface MissingSecret {
  /** e.g. `adoptGroup.keyVaultReferences.secureEnv.web.DB_PASSWORD` */
  field: string;
  /** e.g. `secure environment variable DB_PASSWORD of container web` */
  what: string;
  why: string;
}

export interface CopiedTemplate {
  /** The template, with `MISSING_REFERENCE` where a secret is still to be supplied. */
  template: TemplateConfig;
  missing: MissingSecret[];
  /** What the template cannot keep: adopting would lose it (so the copy is not deployed). */
  problems: string[];
  /** What changes on the way, knowingly (e.g. a new system-assigned principal). */
  notes: string[];
}

/** Stands in for a reference not supplied yet: never read (a copy with missing secrets is not deployed). */
export const MISSING_REFERENCE: KeyVaultRef = Object.freeze({
  vaultUrl: '<missing: see adoption.missing>',
  secretName: '<missing>',
});

const WHY = {
  secureEnv: 'ARM never returns a secureValue',
  storageKey: 'ARM returns Azure Files volumes without storageAccountKey',
  secretVolume: 'ARM returns a secret volume empty ({}): name each file and its secret',
  password: 'ARM never returns registry passwords',
  workspaceKey: 'ARM never returns the Log Analytics workspace key',
};

const REFS = 'adoptGroup.keyVaultReferences';
const key = (k: string) => (/^[A-Za-z0-9_-]+$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`);

/** `contoso.azurecr.io/team/web:1.2@sha256:…` → `team/web` (host, tag and digest dropped). */
export function imageRepository(image: string): string {
  const noDigest = image.split('@')[0] ?? image;
  const parts = noDigest.split('/');
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost'))
    parts.shift();
  const path = parts.join('/');
  const colon = path.lastIndexOf(':');
  return colon > path.lastIndexOf('/') ? path.slice(0, colon) : path;
}

const imageHost = (image: string) => (image.includes('/') ? image.split('/')[0]!.toLowerCase() : undefined);

/** The containers running the app's repository: the pushed image replaces theirs. */
export function pushedImageContainers(
  app: AppConfig,
  containers: Array<{ name: string; image: string }>,
): string[] {
  const matching = containers.filter((c) => imageRepository(c.image) === app.repository).map((c) => c.name);
  if (matching.length > 0) return matching;
  return containers.length === 1 ? [containers[0]!.name] : [];
}

class Copier {
  readonly missing: MissingSecret[] = [];
  readonly problems: string[] = [];
  readonly notes: string[] = [];
  private readonly used = new Set<string>();

  constructor(private readonly refs: KeyVaultReferences) {}

  /** Records that `field` is needed; lists it as missing unless it was supplied. */
  need(field: string, supplied: boolean, what: string, why: string): void {
    this.used.add(field);
    if (!supplied) this.missing.push({ field: `${REFS}.${field}`, what, why });
  }

  ref(field: string, found: KeyVaultRef | undefined, what: string, why: string): KeyVaultRef {
    this.need(field, found !== undefined, what, why);
    return found ?? MISSING_REFERENCE;
  }

  secureEnv(container: string, names: string[], kind: string): Record<string, KeyVaultRef> {
    const supplied = this.refs.secureEnv[container] ?? {};
    return Object.fromEntries(
      names.map((n) => [
        n,
        this.ref(
          `secureEnv${key(container)}${key(n)}`,
          supplied[n],
          `secure environment variable ${n} of ${kind} ${container}`,
          WHY.secureEnv,
        ),
      ]),
    );
  }

  /** Supplied references that match nothing in the group: most likely a typo. */
  unused(): string[] {
    const supplied = [
      ...Object.entries(this.refs.secureEnv).flatMap(([c, vars]) =>
        Object.keys(vars).map((n) => `secureEnv${key(c)}${key(n)}`),
      ),
      ...Object.keys(this.refs.storageAccountKeys).map((v) => `storageAccountKeys${key(v)}`),
      ...Object.keys(this.refs.secretVolumes).map((v) => `secretVolumes${key(v)}`),
      ...Object.keys(this.refs.registryPasswords).map((s) => `registryPasswords${key(s)}`),
      ...(this.refs.logAnalyticsWorkspaceKey ? ['logAnalyticsWorkspaceKey'] : []),
    ];
    return supplied
      .filter((f) => !this.used.has(f))
      .map((f) => `${REFS}.${f} matches nothing in the adopted group`);
  }
}

function copyContainer(
  c: ContainerDefinition,
  pushed: boolean,
  copier: Copier,
): TemplateConfig['containers'][number] {
  const udp = c.ports.filter((p) => p.protocol.toUpperCase() === 'UDP');
  for (const p of udp)
    copier.problems.push(`containers[${c.name}].ports: UDP port ${p.port} (the template has TCP ports only)`);
  return {
    name: c.name,
    ...(pushed ? {} : { image: c.image }),
    cpu: c.cpu,
    memoryInGB: c.memoryInGB,
    ports: c.ports.filter((p) => p.protocol.toUpperCase() !== 'UDP').map((p) => p.port),
    ...(c.command && c.command.length > 0 ? { command: [...c.command] } : {}),
    env: { ...c.env },
    secureEnvFromKeyVault: copier.secureEnv(c.name, c.secureEnvNames, 'container'),
    volumeMounts: c.volumeMounts.map((m) => ({ ...m })),
    ...(c.livenessProbe ? { livenessProbe: structuredClone(c.livenessProbe) } : {}),
    ...(c.readinessProbe ? { readinessProbe: structuredClone(c.readinessProbe) } : {}),
    ...(c.gpu ? { gpu: { ...c.gpu } } : {}),
  };
}

function copyVolumes(
  d: GroupDefinition,
  refs: KeyVaultReferences,
  copier: Copier,
): TemplateConfig['volumes'] {
  return d.volumes.map((v) => {
    switch (v.kind) {
      case 'azureFile': {
        const field = `storageAccountKeys${key(v.name)}`;
        const what = `storage account key of Azure Files volume ${v.name} (${v.storageAccountName}/${v.shareName})`;
        return {
          name: v.name,
          azureFile: {
            shareName: v.shareName,
            storageAccountName: v.storageAccountName,
            storageAccountKeyFromKeyVault: copier.ref(
              field,
              refs.storageAccountKeys[v.name],
              what,
              WHY.storageKey,
            ),
            ...(v.readOnly !== undefined ? { readOnly: v.readOnly } : {}),
          },
        };
      }
      case 'secret': {
        const files = refs.secretVolumes[v.name];
        copier.need(
          `secretVolumes${key(v.name)}`,
          files !== undefined,
          `files of secret volume ${v.name}`,
          WHY.secretVolume,
        );
        return { name: v.name, secret: files ? { ...files } : { '<file>': MISSING_REFERENCE } };
      }
      case 'emptyDir':
        return { name: v.name, emptyDir: {} };
      case 'gitRepo':
        return {
          name: v.name,
          gitRepo: {
            repository: v.repository,
            ...(v.directory !== undefined ? { directory: v.directory } : {}),
            ...(v.revision !== undefined ? { revision: v.revision } : {}),
          },
        };
    }
  });
}

/** Registry credentials: the pushed image's registry pulls with imagePullIdentity; the others are kept as they are. */
function copyRegistries(
  d: GroupDefinition,
  pushedHost: string | undefined,
  refs: KeyVaultReferences,
  copier: Copier,
): Pick<TemplateConfig, 'imagePullIdentity' | 'registryCredentials'> {
  let imagePullIdentity: string | undefined;
  const registryCredentials: TemplateConfig['registryCredentials'] = [];
  for (const c of d.imageRegistryCredentials) {
    if (c.identity && c.server.toLowerCase() === pushedHost && !imagePullIdentity)
      imagePullIdentity = c.identity;
    else if (c.identity) registryCredentials.push({ server: c.server, identity: c.identity });
    else if (c.username) {
      const what = `password of registry ${c.server} (user ${c.username})`;
      const password = copier.ref(
        `registryPasswords${key(c.server)}`,
        refs.registryPasswords[c.server],
        what,
        WHY.password,
      );
      registryCredentials.push({ server: c.server, username: c.username, passwordFromKeyVault: password });
      if (c.server.toLowerCase() === pushedHost)
        copier.notes.push(
          `the pushed image's registry ${c.server} is pulled with a username and password; rollouts need imagePullIdentity for it`,
        );
    }
  }
  return { ...(imagePullIdentity ? { imagePullIdentity } : {}), registryCredentials };
}

function copyGroupSettings(
  d: GroupDefinition,
  refs: KeyVaultReferences,
  copier: Copier,
): Partial<TemplateConfig> {
  const out: Partial<TemplateConfig> = {};
  if (d.sku === 'Standard' || d.sku === 'Confidential') out.sku = d.sku;
  else if (d.sku !== undefined)
    copier.problems.push(`sku: ${d.sku} (the template offers Standard and Confidential)`);
  if (d.priority === 'Regular' || d.priority === 'Spot') out.priority = d.priority;
  if (d.zones && d.zones.length > 0) out.zones = [...d.zones] as TemplateConfig['zones'];
  if (d.ccePolicy) out.ccePolicy = d.ccePolicy;
  if (d.ipAddress && (d.ipAddress.type === 'Public' || d.ipAddress.dnsNameLabel))
    out.ipAddress = {
      type: d.ipAddress.type === 'Public' ? 'Public' : 'Private',
      ...(d.ipAddress.dnsNameLabel ? { dnsNameLabel: d.ipAddress.dnsNameLabel } : {}),
    };
  if (d.dnsConfig) {
    const words = (s: string | undefined) => (s ?? '').split(/\s+/).filter(Boolean);
    out.dnsConfig = {
      nameServers: [...d.dnsConfig.nameServers],
      ...(words(d.dnsConfig.searchDomains).length ? { searchDomains: words(d.dnsConfig.searchDomains) } : {}),
      ...(words(d.dnsConfig.options).length ? { options: words(d.dnsConfig.options) } : {}),
    };
  }
  if (d.logAnalytics) {
    const la = d.logAnalytics;
    const workspaceKey = copier.ref(
      'logAnalyticsWorkspaceKey',
      refs.logAnalyticsWorkspaceKey,
      `key of Log Analytics workspace ${la.workspaceId}`,
      WHY.workspaceKey,
    );
    out.diagnostics = {
      logAnalytics: {
        workspaceId: la.workspaceId,
        workspaceKeyFromKeyVault: workspaceKey,
        ...(la.logType === 'ContainerInsights' || la.logType === 'ContainerInstanceLogs'
          ? { logType: la.logType }
          : {}),
        ...(la.metadata ? { metadata: { ...la.metadata } } : {}),
      },
    };
  }
  return out;
}

/** The adopted group's definition as the app's template (no image for the containers running the app's repository). */
export function copyTemplate(app: AppConfig, adopt: AdoptGroupConfig, d: GroupDefinition): CopiedTemplate {
  const refs = adopt.keyVaultReferences;
  const copier = new Copier(refs);
  const pushed = pushedImageContainers(app, d.containers);
  if (pushed.length === 0)
    copier.problems.push(
      `containers: none runs repository ${app.repository} (images: ${d.containers.map((c) => c.image).join(', ')}), so none can take the pushed image`,
    );
  const pushedHost = imageHost(d.containers.find((c) => c.name === pushed[0])?.image ?? '');
  const registries = copyRegistries(d, pushedHost, refs, copier);
  const pullIdentities = new Set(
    [registries.imagePullIdentity, ...registries.registryCredentials.map((c) => c.identity)].filter(Boolean),
  );
  const userAssigned = (d.identity?.userAssigned ?? []).filter((id) => !pullIdentities.has(id));
  if (d.identity?.systemAssigned)
    copier.notes.push(
      "the group has a system-assigned identity: the new group gets a new principal, without the old one's role assignments",
    );
  const template: TemplateConfig = {
    osType: d.osType === 'Windows' ? 'Windows' : 'Linux',
    restartPolicy:
      d.restartPolicy === 'OnFailure' || d.restartPolicy === 'Never' ? d.restartPolicy : 'Always',
    sku: 'Standard',
    priority: 'Regular',
    ...copyGroupSettings(d, refs, copier),
    ...registries,
    ...(userAssigned.length > 0 || d.identity?.systemAssigned
      ? { identity: { userAssigned, systemAssigned: d.identity?.systemAssigned ?? false } }
      : {}),
    volumes: copyVolumes(d, refs, copier),
    initContainers: d.initContainers.map((c) => ({
      name: c.name,
      ...(imageRepository(c.image) === app.repository ? {} : { image: c.image }),
      ...(c.command && c.command.length > 0 ? { command: [...c.command] } : {}),
      env: { ...c.env },
      secureEnvFromKeyVault: copier.secureEnv(c.name, c.secureEnvNames, 'init container'),
      volumeMounts: c.volumeMounts.map((m) => ({ ...m })),
    })),
    containers: d.containers.map((c) => copyContainer(c, pushed.includes(c.name), copier)),
  };
  for (const field of d.unsupported) copier.problems.push(`${field}: the template cannot express it`);
  for (const r of vnetRefusals(template, app.location))
    copier.problems.push(`${r.path.map(String).join('.')}: ${r.message}`);
  copier.notes.push(...copier.unused());
  return { template, missing: copier.missing, problems: copier.problems, notes: copier.notes };
}

/** The refusal, as a rollout's failure and status say it. */
export function adoptionRefusal(
  adopt: AdoptGroupConfig,
  missing: MissingSecret[],
  problems: string[],
): string {
  const parts: string[] = [];
  if (missing.length > 0)
    parts.push(
      `supply as Key Vault references: ${missing.map((m) => `${m.field} (${m.what}: ${m.why})`).join('; ')}`,
    );
  if (problems.length > 0) parts.push(`cannot keep: ${problems.join('; ')}`);
  return `adoptGroup ${adopt.resourceGroup}/${adopt.name} (copySpec): not deploying a group without what it holds; ${parts.join('. ')}`;
}
