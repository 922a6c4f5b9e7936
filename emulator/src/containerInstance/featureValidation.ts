/**
 * The parts of a container group PUT beyond containers and networking, validated as ACI does before it accepts the
 * deployment: volumes and their mounts, liveness/readiness probes, init containers, Log Analytics diagnostics, and
 * the priority/sku/GPU/VNet combinations ACI refuses. Shapes and required properties are the REST spec's
 * (azure-rest-api-specs, Microsoft.ContainerInstance/stable/2023-05-01/containerInstance.json: Volume,
 * AzureFileVolume, VolumeMount, ContainerProbe, ContainerHttpGet, InitContainerDefinition, LogAnalytics); a missing
 * required property is ARM's InvalidRequestContent. Volume names follow the naming table of "Troubleshoot common
 * issues in Azure Container Instances"; the VNet refusals, "Virtual network scenarios and resources" (no public IP
 * or DNS label), container-instances-gpu (no GPU in a VNet) and the Spot error codes page.
 */
import { aciErrors } from './aciErrors.js';
import type {
  ContainerSpec,
  GroupSpec,
  InitContainerSpec,
  LogAnalytics,
  ProbeSpec,
  StoredVolume,
  VolumeMount,
} from './groupTypes.js';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** 5-63 lowercase letters, digits and '-', '-' not first or last, no '--' (ACI's naming table). */
const VOLUME_NAME = /^(?!.*--)[a-z0-9][a-z0-9-]{3,61}[a-z0-9]$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function requiredString(o: Record<string, unknown>, prop: string, path: string): string {
  const v = o[prop];
  if (typeof v !== 'string' || !v) throw aciErrors.requiredProperty(prop, path);
  return v;
}

function parseVolume(group: string, raw: unknown, path: string): StoredVolume {
  if (!isObject(raw)) throw aciErrors.invalidContent('Unexpected value for a volume.', path);
  const name = requiredString(raw, 'name', path);
  if (!VOLUME_NAME.test(name)) throw aciErrors.invalidVolumeName(name, group);
  const kinds = ['azureFile', 'emptyDir', 'secret', 'gitRepo'].filter(
    (k) => raw[k] !== undefined && raw[k] !== null,
  );
  if (kinds.length !== 1) throw aciErrors.invalidVolume(name, group);
  const volume: StoredVolume = { name };
  if (isObject(raw['azureFile'])) {
    const a = raw['azureFile'];
    const key = a['storageAccountKey'];
    if (typeof key !== 'string' || !key) throw aciErrors.invalidStorageAccountKey(name, group);
    volume.azureFile = {
      shareName: requiredString(a, 'shareName', `${path}.azureFile`),
      storageAccountName: requiredString(a, 'storageAccountName', `${path}.azureFile`),
      storageAccountKey: key,
      ...(typeof a['readOnly'] === 'boolean' ? { readOnly: a['readOnly'] } : {}),
    };
  } else if (isObject(raw['secret'])) {
    const files: Record<string, string> = {};
    for (const [file, value] of Object.entries(raw['secret'])) {
      if (typeof value !== 'string' || !BASE64.test(value))
        throw aciErrors.invalidSecretVolume(name, file, group);
      files[file] = value;
    }
    volume.secret = files;
  } else if (isObject(raw['gitRepo'])) {
    const g = raw['gitRepo'];
    volume.gitRepo = {
      repository: requiredString(g, 'repository', `${path}.gitRepo`),
      ...(typeof g['directory'] === 'string' ? { directory: g['directory'] } : {}),
      ...(typeof g['revision'] === 'string' ? { revision: g['revision'] } : {}),
    };
  } else if (isObject(raw['emptyDir'])) volume.emptyDir = {};
  else throw aciErrors.invalidVolume(name, group);
  return volume;
}

export function parseVolumes(group: string, raw: unknown): StoredVolume[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw aciErrors.invalidContent('Unexpected value for volumes.', 'properties');
  const seen = new Set<string>();
  return raw.map((v, i) => {
    const volume = parseVolume(group, v, `properties.volumes[${i}]`);
    if (seen.has(volume.name)) throw aciErrors.duplicateVolumeName(volume.name, group);
    seen.add(volume.name);
    return volume;
  });
}

export function parseVolumeMounts(raw: unknown, path: string): VolumeMount[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw aciErrors.invalidContent('Unexpected value for volumeMounts.', path);
  return raw.map((m, i) => {
    const at = `${path}.volumeMounts[${i}]`;
    if (!isObject(m)) throw aciErrors.invalidContent('Unexpected value for a volume mount.', at);
    return {
      name: requiredString(m, 'name', at),
      mountPath: requiredString(m, 'mountPath', at),
      ...(typeof m['readOnly'] === 'boolean' ? { readOnly: m['readOnly'] } : {}),
    };
  });
}

const PROBE_TIMINGS = [
  'initialDelaySeconds',
  'periodSeconds',
  'failureThreshold',
  'successThreshold',
  'timeoutSeconds',
] as const;

export function parseProbe(
  group: string,
  container: string,
  kind: 'livenessProbe' | 'readinessProbe',
  raw: unknown,
  path: string,
): ProbeSpec | undefined {
  if (raw === undefined || raw === null) return undefined;
  const at = `${path}.${kind}`;
  if (!isObject(raw)) throw aciErrors.invalidContent(`Unexpected value for ${kind}.`, at);
  const probe: ProbeSpec = {};
  if (isObject(raw['httpGet'])) {
    const h = raw['httpGet'];
    if (h['port'] === undefined) throw aciErrors.requiredProperty('port', `${at}.httpGet`);
    const port = h['port'];
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
      throw aciErrors.invalidContainerProbe(container, kind, group, `port '${String(port)}' is not 1-65535`);
    probe.httpGet = { ...(h as ProbeSpec['httpGet']), port };
  }
  if (isObject(raw['exec'])) {
    const command = raw['exec']['command'];
    if (!Array.isArray(command) || command.length === 0)
      throw aciErrors.invalidContainerProbe(container, kind, group, 'exec needs a command');
    probe.exec = { command: command.map(String) };
  }
  if ((probe.httpGet ? 1 : 0) + (probe.exec ? 1 : 0) !== 1)
    throw aciErrors.invalidContainerProbe(
      container,
      kind,
      group,
      "exactly one of 'exec' or 'httpGet' is required",
    );
  for (const t of PROBE_TIMINGS) {
    const v = raw[t];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || (t !== 'initialDelaySeconds' && v < 1))
      throw aciErrors.invalidContainerProbe(container, kind, group, `${t} '${String(v)}' is not valid`);
    probe[t] = v;
  }
  return probe;
}

/** Init containers: a name, an image, optional command, environment and mounts (no ports, no resources). */
export function parseInitContainers(
  group: string,
  raw: unknown,
  seen: Set<string>,
): InitContainerSpec[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw))
    throw aciErrors.invalidContent('Unexpected value for initContainers.', 'properties');
  return raw.map((c, i) => {
    const path = `properties.initContainers[${i}]`;
    if (!isObject(c)) throw aciErrors.invalidContent('Unexpected value for an init container.', path);
    const name = requiredString(c, 'name', path);
    if (seen.has(name)) throw aciErrors.duplicateContainerName(name, group);
    seen.add(name);
    const p = c['properties'];
    if (!isObject(p)) throw aciErrors.requiredProperty('properties', path);
    const image = p['image'];
    if (typeof image !== 'string' || !image.trim()) throw aciErrors.invalidContainerImage(name, group);
    const mounts = parseVolumeMounts(p['volumeMounts'], `${path}.properties`);
    return {
      name,
      properties: {
        ...p,
        image: image.trim(),
        command: Array.isArray(p['command']) ? p['command'].map(String) : [],
        environmentVariables: Array.isArray(p['environmentVariables'])
          ? (p['environmentVariables'] as InitContainerSpec['properties']['environmentVariables'])
          : [],
        ...(mounts ? { volumeMounts: mounts } : {}),
      },
    };
  });
}

/** diagnostics.logAnalytics: workspaceId and workspaceKey are required (REST spec). */
export function parseLogAnalytics(raw: unknown): LogAnalytics | undefined {
  if (!isObject(raw) || !isObject(raw['logAnalytics'])) return undefined;
  const la = raw['logAnalytics'];
  const path = 'properties.diagnostics.logAnalytics';
  return {
    workspaceId: requiredString(la, 'workspaceId', path),
    workspaceKey: requiredString(la, 'workspaceKey', path),
    ...(typeof la['logType'] === 'string' ? { logType: la['logType'] } : {}),
    ...(isObject(la['metadata']) ? { metadata: la['metadata'] as Record<string, string> } : {}),
    ...(typeof la['workspaceResourceId'] === 'string'
      ? { workspaceResourceId: la['workspaceResourceId'] }
      : {}),
  };
}

/** dnsConfig: nameServers is required (REST spec, DnsConfiguration). Kept as sent (echoed by GET). */
export function checkDnsConfig(raw: unknown): void {
  if (raw === undefined || raw === null) return;
  if (!isObject(raw)) throw aciErrors.invalidContent('Unexpected value for dnsConfig.', 'properties');
  if (!Array.isArray(raw['nameServers']))
    throw aciErrors.requiredProperty('nameServers', 'properties.dnsConfig');
}

function checkMounts(group: string, spec: GroupSpec): void {
  const volumes = new Set((spec.volumes ?? []).map((v) => v.name));
  for (const c of [...(spec.initContainers ?? []), ...spec.containers] as Array<
    ContainerSpec | InitContainerSpec
  >)
    for (const m of c.properties.volumeMounts ?? [])
      if (!volumes.has(m.name) || m.mountPath.includes(':'))
        throw aciErrors.invalidVolumeMount(c.name, m.name, group);
}

/** What ACI refuses across properties: mounts of unknown volumes, Windows volumes, VNet with public IP or GPU, Spot. */
export function checkGroupFeatures(group: string, spec: GroupSpec, priority: unknown): void {
  checkMounts(group, spec);
  if (spec.osType === 'Windows' && (spec.volumes?.length ?? 0) > 0)
    throw aciErrors.volumesNotSupportedOnWindows(group);
  const inVnet = (spec.subnetIds?.length ?? 0) > 0;
  const gpu = spec.containers.some((c) => c.properties.resources.requests.gpu !== undefined);
  if (inVnet && spec.ipAddress?.type === 'Public')
    throw aciErrors.publicIpNotSupportedInVirtualNetwork(group);
  if (priority !== undefined && priority !== null && priority !== 'Regular' && priority !== 'Spot')
    throw aciErrors.priorityNotSpecified(group);
  if (priority === 'Spot') {
    if (inVnet || spec.ipAddress) throw aciErrors.spotNotSupportedForInboundConnectivity();
    if (spec.sku !== 'Standard') throw aciErrors.spotNotSupportedInSku(spec.sku);
    if (gpu) throw aciErrors.spotWithGpuNotSupported();
  }
  if (inVnet && gpu) throw aciErrors.gpuNotSupportedInVirtualNetwork(group);
}
