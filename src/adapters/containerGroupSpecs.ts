/**
 * The domain's container group shapes ↔ ARM's (`@azure/arm-containerinstance`, which flattens `properties`):
 * the PUT body from a ContainerGroupSpec, and a GroupDefinition from a GET. Field names and the secret fields are
 * the REST spec's (azure-rest-api-specs, Microsoft.ContainerInstance/stable/2023-05-01/containerInstance.json).
 *
 * Secrets go only into the PUT: `secureValue`, `storageAccountKey`, secret volume files (base64, as ARM wants them),
 * `password`, `workspaceKey`. A GroupDefinition never carries one, even if a GET returned it.
 */
import type {
  Container,
  ContainerGroup,
  ContainerProbe,
  EnvironmentVariable,
  InitContainerDefinition,
  Volume,
  VolumeMount,
} from '@azure/arm-containerinstance';
import type {
  ContainerDefinition,
  ContainerGroupSpec,
  ContainerSpec,
  GroupDefinition,
  InitContainerSpec,
  ProbeSpec,
  VolumeMountSpec,
  VolumeSpec,
} from '../domain/ports.js';

// ---------------------------------------------------------------- spec → PUT body

function armEnv(env: Record<string, string>, secureEnv: Record<string, string>): EnvironmentVariable[] {
  return [
    ...Object.entries(env).map(([name, value]) => ({ name, value })),
    ...Object.entries(secureEnv).map(([name, secureValue]) => ({ name, secureValue })),
  ];
}

function armVolume(v: VolumeSpec): Volume {
  switch (v.kind) {
    case 'azureFile':
      return {
        name: v.name,
        azureFile: {
          shareName: v.shareName,
          storageAccountName: v.storageAccountName,
          storageAccountKey: v.storageAccountKey,
          ...(v.readOnly !== undefined ? { readOnly: v.readOnly } : {}),
        },
      };
    case 'emptyDir':
      return { name: v.name, emptyDir: {} };
    case 'secret':
      // "the secret values must be Base64-encoded" (container-instances-volume-secret); the files hold them decoded.
      return {
        name: v.name,
        secret: Object.fromEntries(
          Object.entries(v.files).map(([f, content]) => [f, Buffer.from(content, 'utf8').toString('base64')]),
        ),
      };
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
}

const armMounts = (mounts: VolumeMountSpec[] | undefined): VolumeMount[] | undefined =>
  mounts && mounts.length > 0 ? mounts.map((m) => ({ ...m })) : undefined;

function armContainer(c: ContainerSpec): Container {
  const container: Container = {
    name: c.name,
    image: c.image,
    resources: { requests: { cpu: c.cpu, memoryInGB: c.memoryInGB } },
    ports: c.ports.map((port) => ({ port, protocol: 'TCP' })),
    environmentVariables: armEnv(c.env, c.secureEnv),
  };
  if (c.command) container.command = [...c.command];
  const mounts = armMounts(c.volumeMounts);
  if (mounts) container.volumeMounts = mounts;
  if (c.livenessProbe) container.livenessProbe = structuredClone(c.livenessProbe);
  if (c.readinessProbe) container.readinessProbe = structuredClone(c.readinessProbe);
  return container;
}

function armInitContainer(c: InitContainerSpec): InitContainerDefinition {
  const init: InitContainerDefinition = {
    name: c.name,
    image: c.image,
    environmentVariables: armEnv(c.env, c.secureEnv),
  };
  if (c.command) init.command = [...c.command];
  const mounts = armMounts(c.volumeMounts);
  if (mounts) init.volumeMounts = mounts;
  return init;
}

/** The group's identity: every pull identity and the containers' own, and a system-assigned one if asked. */
function armIdentity(spec: ContainerGroupSpec): ContainerGroup['identity'] {
  const userAssigned = [
    ...new Set([
      ...(spec.registry.identity ? [spec.registry.identity] : []),
      ...(spec.registryCredentials ?? []).flatMap((c) => ('identity' in c ? [c.identity] : [])),
      ...(spec.identity?.userAssigned ?? []),
    ]),
  ];
  const system = spec.identity?.systemAssigned === true;
  if (userAssigned.length === 0) return system ? { type: 'SystemAssigned' } : undefined;
  return {
    type: system ? 'SystemAssigned, UserAssigned' : 'UserAssigned',
    userAssignedIdentities: Object.fromEntries(userAssigned.map((id) => [id, {}])),
  };
}

function armGroupSettings(spec: ContainerGroupSpec, body: ContainerGroup): void {
  if (spec.sku) body.sku = spec.sku;
  if (spec.priority) body.priority = spec.priority;
  if (spec.zones && spec.zones.length > 0) body.zones = [...spec.zones];
  if (spec.ccePolicy) body.confidentialComputeProperties = { ccePolicy: spec.ccePolicy };
  if (spec.dnsConfig) {
    const { nameServers, searchDomains, options } = spec.dnsConfig;
    body.dnsConfig = {
      nameServers: [...nameServers],
      ...(searchDomains?.length ? { searchDomains: searchDomains.join(' ') } : {}),
      ...(options?.length ? { options: options.join(' ') } : {}),
    };
  }
  if (spec.logAnalytics) {
    const la = spec.logAnalytics;
    body.diagnostics = {
      logAnalytics: {
        workspaceId: la.workspaceId,
        workspaceKey: la.workspaceKey,
        ...(la.logType ? { logType: la.logType } : {}),
        ...(la.metadata ? { metadata: { ...la.metadata } } : {}),
      },
    };
  }
}

/** The domain's spec → the PUT body. */
export function toArmGroup(spec: ContainerGroupSpec): ContainerGroup {
  const body: ContainerGroup = {
    location: spec.location,
    tags: { ...spec.tags },
    osType: spec.osType,
    restartPolicy: spec.restartPolicy,
    subnetIds: [{ id: spec.subnetId }],
    containers: spec.containers.map(armContainer),
  };
  if (spec.ports.length > 0)
    body.ipAddress = { type: 'Private', ports: spec.ports.map((port) => ({ protocol: 'TCP', port })) };
  const credentials = [
    ...(spec.registry.identity ? [{ server: spec.registry.server, identity: spec.registry.identity }] : []),
    ...(spec.registryCredentials ?? []).map((c) => ({ ...c })),
  ];
  if (credentials.length > 0) body.imageRegistryCredentials = credentials;
  const identity = armIdentity(spec);
  if (identity) body.identity = identity;
  armGroupSettings(spec, body);
  if (spec.volumes && spec.volumes.length > 0) body.volumes = spec.volumes.map(armVolume);
  if (spec.initContainers && spec.initContainers.length > 0)
    body.initContainers = spec.initContainers.map(armInitContainer);
  return body;
}

// ---------------------------------------------------------------- GET → definition (no secrets)

function probeOf(p: ContainerProbe | undefined): ProbeSpec | undefined {
  if (!p) return undefined;
  const out: ProbeSpec = {};
  if (p.httpGet) {
    const h = p.httpGet;
    out.httpGet = {
      port: h.port,
      ...(h.path !== undefined ? { path: h.path } : {}),
      ...(h.scheme !== undefined ? { scheme: h.scheme as 'http' | 'https' } : {}),
      ...(h.httpHeaders?.length
        ? { httpHeaders: h.httpHeaders.map((x) => ({ name: x.name ?? '', value: x.value ?? '' })) }
        : {}),
    };
  }
  if (p.exec) out.exec = { command: [...(p.exec.command ?? [])] };
  for (const k of [
    'initialDelaySeconds',
    'periodSeconds',
    'failureThreshold',
    'successThreshold',
    'timeoutSeconds',
  ] as const)
    if (p[k] !== undefined) out[k] = p[k];
  return out;
}

/** Plain variables with their values; secure ones by name only (ARM shows them without a value). */
function envOf(vars: EnvironmentVariable[] | undefined): {
  env: Record<string, string>;
  secureEnvNames: string[];
} {
  const env: Record<string, string> = {};
  const secureEnvNames: string[] = [];
  for (const v of vars ?? []) {
    if (v.value !== undefined && v.secureValue === undefined) env[v.name] = v.value;
    else secureEnvNames.push(v.name);
  }
  return { env, secureEnvNames };
}

const mountsOf = (m: VolumeMount[] | undefined): VolumeMountSpec[] =>
  (m ?? []).map((x) => ({
    name: x.name,
    mountPath: x.mountPath,
    ...(x.readOnly !== undefined ? { readOnly: x.readOnly } : {}),
  }));

function containerOf(c: Container, unsupported: string[]): ContainerDefinition {
  const where = `containers[${c.name}]`;
  if (c.securityContext) unsupported.push(`${where}.securityContext`);
  if (c.resources.limits) unsupported.push(`${where}.resources.limits`);
  const gpu = c.resources.requests.gpu;
  const liveness = probeOf(c.livenessProbe);
  const readiness = probeOf(c.readinessProbe);
  return {
    name: c.name,
    image: c.image,
    ...(c.command && c.command.length > 0 ? { command: [...c.command] } : {}),
    ports: (c.ports ?? []).map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP' })),
    cpu: c.resources.requests.cpu,
    memoryInGB: c.resources.requests.memoryInGB,
    ...(gpu ? { gpu: { count: gpu.count, sku: gpu.sku } } : {}),
    ...envOf(c.environmentVariables),
    volumeMounts: mountsOf(c.volumeMounts),
    ...(liveness ? { livenessProbe: liveness } : {}),
    ...(readiness ? { readinessProbe: readiness } : {}),
  };
}

function volumeOf(v: Volume): GroupDefinition['volumes'][number] {
  if (v.azureFile)
    return {
      name: v.name,
      kind: 'azureFile',
      shareName: v.azureFile.shareName,
      storageAccountName: v.azureFile.storageAccountName,
      ...(v.azureFile.readOnly !== undefined ? { readOnly: v.azureFile.readOnly } : {}),
    };
  if (v.secret) return { name: v.name, kind: 'secret' };
  if (v.gitRepo)
    return {
      name: v.name,
      kind: 'gitRepo',
      repository: v.gitRepo.repository,
      ...(v.gitRepo.directory !== undefined ? { directory: v.gitRepo.directory } : {}),
      ...(v.gitRepo.revision !== undefined ? { revision: v.gitRepo.revision } : {}),
    };
  return { name: v.name, kind: 'emptyDir' };
}

function identityOf(g: ContainerGroup): GroupDefinition['identity'] {
  const type = (g.identity?.type ?? 'None').toLowerCase().replace(/\s/g, '');
  if (type === 'none') return undefined;
  return {
    userAssigned: Object.keys(g.identity?.userAssignedIdentities ?? {}),
    systemAssigned: type.includes('systemassigned'),
  };
}

function settingsOf(g: ContainerGroup): Partial<GroupDefinition> {
  const la = g.diagnostics?.logAnalytics;
  return {
    ...(g.sku ? { sku: g.sku } : {}),
    ...(g.priority ? { priority: g.priority } : {}),
    ...(g.zones?.length ? { zones: [...g.zones] } : {}),
    ...(g.confidentialComputeProperties?.ccePolicy
      ? { ccePolicy: g.confidentialComputeProperties.ccePolicy }
      : {}),
    ...(g.dnsConfig
      ? {
          dnsConfig: {
            nameServers: [...g.dnsConfig.nameServers],
            ...(g.dnsConfig.searchDomains ? { searchDomains: g.dnsConfig.searchDomains } : {}),
            ...(g.dnsConfig.options ? { options: g.dnsConfig.options } : {}),
          },
        }
      : {}),
    ...(la
      ? {
          logAnalytics: {
            workspaceId: la.workspaceId,
            ...(la.logType ? { logType: la.logType } : {}),
            ...(la.metadata ? { metadata: { ...la.metadata } } : {}),
          },
        }
      : {}),
  };
}

/** ARM's group → what adoption can copy. Passwords, keys, secure values and secret files are never taken. */
export function toGroupDefinition(g: ContainerGroup, resourceGroup: string): GroupDefinition {
  const unsupported: string[] = [];
  if (g.encryptionProperties) unsupported.push('encryptionProperties');
  if (g.extensions?.length) unsupported.push('extensions');
  const identity = identityOf(g);
  const definition: GroupDefinition = {
    name: g.name ?? '',
    resourceGroup: (g.id && /\/resourceGroups\/([^/]+)\//i.exec(g.id)?.[1]) || resourceGroup,
    location: g.location ?? '',
    osType: g.osType,
    restartPolicy: g.restartPolicy ?? 'Always',
    ...settingsOf(g),
    subnetIds: (g.subnetIds ?? []).map((s) => s.id),
    ...(identity ? { identity } : {}),
    imageRegistryCredentials: (g.imageRegistryCredentials ?? []).map((c) => ({
      server: c.server,
      ...(c.username !== undefined ? { username: c.username } : {}),
      ...(c.identity !== undefined ? { identity: c.identity } : {}),
    })),
    volumes: (g.volumes ?? []).map(volumeOf),
    initContainers: (g.initContainers ?? []).map((c) => {
      if (c.securityContext) unsupported.push(`initContainers[${c.name}].securityContext`);
      return {
        name: c.name,
        image: c.image ?? '',
        ...(c.command && c.command.length > 0 ? { command: [...c.command] } : {}),
        ...envOf(c.environmentVariables),
        volumeMounts: mountsOf(c.volumeMounts),
      };
    }),
    containers: g.containers.map((c) => containerOf(c, unsupported)),
    unsupported,
  };
  if (g.ipAddress)
    definition.ipAddress = {
      type: g.ipAddress.type,
      ports: g.ipAddress.ports.map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP' })),
      ...(g.ipAddress.dnsNameLabel ? { dnsNameLabel: g.ipAddress.dnsNameLabel } : {}),
    };
  return definition;
}
