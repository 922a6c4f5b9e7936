/**
 * Validates a container group PUT the way ACI does before it accepts the deployment, with the codes ARM and ACI
 * answer (aciErrors.ts), and decides what an update of an existing group means (immutable change, redeploy).
 */
import crypto from 'node:crypto';
import { resourceManagerErrors } from '../resourceManager/resourceManagerErrors.js';
import { aciErrors } from './aciErrors.js';
import {
  checkDnsConfig,
  checkGroupFeatures,
  parseInitContainers,
  parseLogAnalytics,
  parseProbe,
  parseVolumeMounts,
  parseVolumes,
} from './featureValidation.js';
import {
  isValidGroupName,
  stableGuid,
  userAssignedIdentityIds,
  type ContainerPort,
  type ContainerSpec,
  type EnvironmentVariable,
  type GroupSpec,
  type RegistryCredential,
  type StoredIdentity,
} from './groupTypes.js';
import { normaliseResourceId } from './subnetAddresses.js';

const SUBNET_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i;
const USER_ASSIGNED_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function enumValue<T extends string>(
  value: unknown,
  allowed: readonly T[],
  typeName: string,
  path: string,
): T | undefined {
  if (value === undefined || value === null) return undefined;
  const match = allowed.find((a) => typeof value === 'string' && a.toLowerCase() === value.toLowerCase());
  if (!match) {
    throw aciErrors.invalidContent(`Error converting value "${String(value)}" to type '${typeName}'.`, path);
  }
  return match;
}

function parsePorts(value: unknown, path: string): ContainerPort[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw aciErrors.invalidContent('Unexpected value for an array of ports.', path);
  return value.map((p, i) => {
    const portPath = `${path}[${i}]`;
    if (!isObject(p) || p['port'] === undefined) throw aciErrors.requiredProperty('port', portPath);
    const port = p['port'];
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw aciErrors.invalidContainerPort(port, portPath);
    }
    const protocol = enumValue(p['protocol'], ['TCP', 'UDP'] as const, 'ContainerNetworkProtocol', portPath);
    return protocol ? { port, protocol } : { port };
  });
}

export interface ValidatedPut {
  location: string;
  tags?: Record<string, string>;
  zones?: string[];
  identity?: StoredIdentity;
  properties: GroupSpec;
}

/** Validates a PUT body the way ACI does before accepting the deployment; throws an ARM error otherwise. */
export function validateGroupPut(
  name: string,
  body: unknown,
  opts: { rawBodyLength: number; tenantId: string },
): ValidatedPut {
  if (!isValidGroupName(name)) throw aciErrors.invalidContainerGroupName(name);
  if (!isObject(body)) throw opts.rawBodyLength ? aciErrors.undeserializableBody() : aciErrors.emptyBody();
  const location = body['location'];
  if (typeof location !== 'string' || !location.trim()) throw resourceManagerErrors.locationRequired();
  const tags = body['tags'];
  if (tags !== undefined && tags !== null && !isObject(tags)) {
    throw aciErrors.invalidContent(
      'Unexpected value for tags: an object of string values is expected.',
      'tags',
    );
  }
  const props = body['properties'];
  if (!isObject(props)) throw aciErrors.requiredProperty('properties', '');

  const names = new Set<string>();
  const containers = parseContainers(name, props['containers'], names);
  const initContainers = parseInitContainers(name, props['initContainers'], names);
  const volumes = parseVolumes(name, props['volumes']);
  const logAnalytics = parseLogAnalytics(props['diagnostics']);
  const osType = enumValue(
    props['osType'],
    ['Linux', 'Windows'] as const,
    'OperatingSystemTypes',
    'properties',
  );
  if (!osType) throw aciErrors.requiredProperty('osType', 'properties');
  const restartPolicy =
    enumValue(
      props['restartPolicy'],
      ['Always', 'OnFailure', 'Never'] as const,
      'ContainerGroupRestartPolicy',
      'properties',
    ) ?? 'Always';
  const sku =
    enumValue(
      props['sku'],
      ['Standard', 'Dedicated', 'Confidential'] as const,
      'ContainerGroupSku',
      'properties',
    ) ?? 'Standard';
  const subnetIds = parseSubnetIds(props['subnetIds']);
  const ipAddress = parseIpAddress(name, props['ipAddress'], containers, subnetIds);
  const identity = parseIdentity(body['identity'], opts.tenantId, name);
  const imageRegistryCredentials = parseRegistryCredentials(
    name,
    props['imageRegistryCredentials'],
    containers.length,
    identity,
  );

  const properties: GroupSpec = { containers, osType, restartPolicy, sku, extra: extraProperties(props) };
  if (ipAddress) properties.ipAddress = ipAddress;
  if (subnetIds) properties.subnetIds = subnetIds;
  if (imageRegistryCredentials) properties.imageRegistryCredentials = imageRegistryCredentials;
  if (volumes) properties.volumes = volumes;
  if (initContainers) properties.initContainers = initContainers;
  if (logAnalytics) properties.logAnalytics = logAnalytics;
  checkDnsConfig(props['dnsConfig']);
  checkGroupFeatures(name, properties, props['priority']);

  const result: ValidatedPut = { location: location.trim(), properties };
  if (isObject(tags)) result.tags = Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)]));
  if (Array.isArray(body['zones'])) result.zones = body['zones'].map(String);
  if (identity) result.identity = identity;
  return result;
}

/** Properties the emulator does not model, kept so a GET shows them back as they were sent. */
function extraProperties(props: Record<string, unknown>): Record<string, unknown> {
  const extra: Record<string, unknown> = { ...props };
  for (const k of [
    'containers',
    'osType',
    'restartPolicy',
    'sku',
    'subnetIds',
    'ipAddress',
    'imageRegistryCredentials',
    'volumes',
    'initContainers',
    'diagnostics',
    'provisioningState',
    'instanceView',
  ])
    delete extra[k];
  return extra;
}

function parseContainers(group: string, raw: unknown, seen: Set<string>): ContainerSpec[] {
  if (!Array.isArray(raw)) throw aciErrors.requiredProperty('containers', 'properties');
  if (raw.length === 0) throw aciErrors.noContainers(group);
  return raw.map((c, i) => parseContainer(group, c, `properties.containers[${i}]`, seen));
}

/** One container; `seen` collects the names so far (a duplicate is refused before its properties are read). */
function parseContainer(group: string, c: unknown, path: string, seen: Set<string>): ContainerSpec {
  if (!isObject(c)) throw aciErrors.invalidContent('Unexpected value for a container.', path);
  const cname = c['name'];
  if (typeof cname !== 'string') throw aciErrors.requiredProperty('name', path);
  if (!isValidGroupName(cname)) throw aciErrors.invalidContainerName(cname, group);
  if (seen.has(cname)) throw aciErrors.duplicateContainerName(cname, group);
  seen.add(cname);
  const cp = c['properties'];
  if (!isObject(cp)) throw aciErrors.requiredProperty('properties', path);
  const image = cp['image'];
  if (image === undefined || image === null) throw aciErrors.requiredProperty('image', `${path}.properties`);
  if (typeof image !== 'string' || !image.trim()) throw aciErrors.invalidContainerImage(cname, group);
  const resources = parseResources(group, cname, cp['resources'], `${path}.properties`);
  const ports = parsePorts(cp['ports'], `${path}.properties.ports`);
  const environmentVariables = parseEnvironment(cp['environmentVariables'], `${path}.properties`);
  const command = Array.isArray(cp['command']) ? cp['command'].map(String) : [];
  const at = `${path}.properties`;
  const volumeMounts = parseVolumeMounts(cp['volumeMounts'], at);
  const livenessProbe = parseProbe(group, cname, 'livenessProbe', cp['livenessProbe'], at);
  const readinessProbe = parseProbe(group, cname, 'readinessProbe', cp['readinessProbe'], at);
  const rest: Record<string, unknown> = { ...cp };
  for (const k of [
    'image',
    'ports',
    'environmentVariables',
    'resources',
    'command',
    'instanceView',
    'volumeMounts',
    'livenessProbe',
    'readinessProbe',
  ])
    delete rest[k];
  return {
    name: cname,
    properties: {
      ...rest,
      image: image.trim(),
      command,
      ports,
      environmentVariables,
      resources,
      ...(volumeMounts ? { volumeMounts } : {}),
      ...(livenessProbe ? { livenessProbe } : {}),
      ...(readinessProbe ? { readinessProbe } : {}),
    },
  };
}

function parseResources(
  group: string,
  container: string,
  resources: unknown,
  path: string,
): ContainerSpec['properties']['resources'] {
  if (!isObject(resources)) throw aciErrors.requiredProperty('resources', path);
  const requests = resources['requests'];
  if (!isObject(requests)) throw aciErrors.requiredProperty('requests', `${path}.resources`);
  const cpu = requests['cpu'];
  const memoryInGB = requests['memoryInGB'];
  if (cpu === undefined) throw aciErrors.requiredProperty('cpu', `${path}.resources.requests`);
  if (memoryInGB === undefined) throw aciErrors.requiredProperty('memoryInGB', `${path}.resources.requests`);
  if (typeof cpu !== 'number' || typeof memoryInGB !== 'number' || cpu <= 0 || memoryInGB <= 0) {
    throw aciErrors.invalidResourceRequests(container, group);
  }
  if (cpu > 4 || memoryInGB > 16) throw aciErrors.resourceRequestsExceedMaxAllowed(container, group);
  return resources as ContainerSpec['properties']['resources'];
}

function parseEnvironment(raw: unknown, path: string): EnvironmentVariable[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw aciErrors.invalidContent('Unexpected value for environmentVariables.', path);
  return raw.map((e, j) => {
    if (!isObject(e) || typeof e['name'] !== 'string' || !e['name']) {
      throw aciErrors.requiredProperty('name', `${path}.environmentVariables[${j}]`);
    }
    const v: EnvironmentVariable = { name: e['name'] };
    if (typeof e['value'] === 'string') v.value = e['value'];
    if (typeof e['secureValue'] === 'string') v.secureValue = e['secureValue'];
    return v;
  });
}

function parseSubnetIds(raw: unknown): GroupSpec['subnetIds'] {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw aciErrors.invalidContent('Unexpected value for subnetIds.', 'properties');
  const subnetIds = raw.map((s, i) => {
    const path = `properties.subnetIds[${i}]`;
    if (!isObject(s) || typeof s['id'] !== 'string') throw aciErrors.requiredProperty('id', path);
    if (!SUBNET_ID.test(s['id'])) throw aciErrors.linkedInvalidPropertyId(s['id'], path);
    return typeof s['name'] === 'string' ? { id: s['id'], name: s['name'] } : { id: s['id'] };
  });
  return subnetIds.length === 0 ? undefined : subnetIds;
}

function parseIpAddress(
  group: string,
  ipRaw: unknown,
  containers: ContainerSpec[],
  subnetIds: GroupSpec['subnetIds'],
): GroupSpec['ipAddress'] {
  if (ipRaw === undefined || ipRaw === null) return undefined;
  if (!isObject(ipRaw)) throw aciErrors.invalidContent('Unexpected value for ipAddress.', 'properties');
  const type = enumValue(
    ipRaw['type'],
    ['Public', 'Private'] as const,
    'ContainerGroupIpAddressType',
    'properties.ipAddress',
  );
  if (!type) throw aciErrors.requiredProperty('type', 'properties.ipAddress');
  if (ipRaw['ports'] === undefined || ipRaw['ports'] === null)
    throw aciErrors.requiredProperty('ports', 'properties.ipAddress');
  const ports = parsePorts(ipRaw['ports'], 'properties.ipAddress.ports');
  if (ports.length === 0) throw aciErrors.ipAddressPortsEmpty(group);
  const exposed = new Set(containers.flatMap((c) => (c.properties.ports ?? []).map((p) => p.port)));
  const notExposed = ports.filter((p) => !exposed.has(p.port));
  if (notExposed.length)
    throw aciErrors.ipAddressPortsNotExposed(
      notExposed.map((p) => p.port),
      group,
    );
  const dnsNameLabel = ipRaw['dnsNameLabel'];
  if (dnsNameLabel !== undefined && dnsNameLabel !== null) checkDnsNameLabel(group, dnsNameLabel, type);
  const ipAddress: NonNullable<GroupSpec['ipAddress']> = { type, ports };
  if (typeof dnsNameLabel === 'string') ipAddress.dnsNameLabel = dnsNameLabel;
  if (typeof ipRaw['autoGeneratedDomainNameLabelScope'] === 'string')
    ipAddress.autoGeneratedDomainNameLabelScope = ipRaw['autoGeneratedDomainNameLabelScope'];
  if (type === 'Private' && !subnetIds) throw aciErrors.privateIpAddressNotSupported(group);
  return ipAddress;
}

function checkDnsNameLabel(group: string, label: unknown, type: 'Public' | 'Private'): void {
  if (
    typeof label !== 'string' ||
    label.length < 5 ||
    label.length > 63 ||
    !/^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/.test(label)
  ) {
    throw aciErrors.invalidDnsNameLabel(label, group);
  }
  if (type === 'Private') throw aciErrors.dnsNameLabelNotSupportedForPrivateIp(group);
}

function parseRegistryCredentials(
  group: string,
  raw: unknown,
  containerCount: number,
  identity: StoredIdentity | undefined,
): RegistryCredential[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw))
    throw aciErrors.invalidContent('Unexpected value for imageRegistryCredentials.', 'properties');
  if (raw.length > containerCount) throw aciErrors.moreRegistryCredentialsThanContainers(group);
  return raw.map((c, i) => {
    const path = `properties.imageRegistryCredentials[${i}]`;
    if (!isObject(c) || typeof c['server'] !== 'string' || !c['server'])
      throw aciErrors.requiredProperty('server', path);
    const cred: RegistryCredential = { server: c['server'] };
    for (const k of ['username', 'password', 'identity', 'identityUrl'] as const) {
      if (typeof c[k] === 'string') cred[k] = c[k];
    }
    if (cred.identity) {
      const known = Object.keys(identity?.userAssignedIdentities ?? {}).map(normaliseResourceId);
      const isSystem = cred.identity.toLowerCase() === 'system' && identity?.principalId !== undefined;
      if (!isSystem && !known.includes(normaliseResourceId(cred.identity))) {
        throw aciErrors.registryCredentialIdentityNotAssigned(cred.identity, cred.server, group);
      }
    } else if (cred.username === undefined) {
      throw aciErrors.registryCredentialIncomplete(cred.server, group);
    }
    return cred;
  });
}

function parseIdentity(raw: unknown, tenantId: string, groupName: string): StoredIdentity | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw) || typeof raw['type'] !== 'string') throw aciErrors.requiredProperty('type', 'identity');
  const type = raw['type'].replace(/\s+/g, ' ').trim();
  const lower = type.toLowerCase().replace(/\s/g, '');
  const allowed = ['systemassigned', 'userassigned', 'systemassigned,userassigned', 'none'];
  if (!allowed.includes(lower)) {
    throw aciErrors.invalidContent(
      `Error converting value "${type}" to type 'ResourceIdentityType'.`,
      'identity.type',
    );
  }
  if (lower === 'none') return { type: 'None' };
  const identity: StoredIdentity = {
    type:
      lower === 'systemassigned'
        ? 'SystemAssigned'
        : lower === 'userassigned'
          ? 'UserAssigned'
          : 'SystemAssigned, UserAssigned',
  };
  if (lower.includes('systemassigned')) {
    identity.principalId = stableGuid(`system:${groupName}:${crypto.randomUUID()}`);
    identity.tenantId = tenantId;
  }
  if (lower.includes('userassigned')) {
    const ua = raw['userAssignedIdentities'];
    if (!isObject(ua) || Object.keys(ua).length === 0) {
      throw aciErrors.userAssignedIdentitiesRequired();
    }
    identity.userAssignedIdentities = {};
    for (const id of Object.keys(ua)) {
      if (!USER_ASSIGNED_ID.test(id)) {
        throw aciErrors.invalidIdentityValues(id);
      }
      identity.userAssignedIdentities[id] = userAssignedIdentityIds(id);
    }
  }
  return identity;
}

/** Properties whose change needs the group deleted first (ACI answers 400 to an in-place update of them). */
export function immutableChange(before: GroupSpec, after: GroupSpec): string | undefined {
  if (before.osType !== after.osType) return 'os type';
  if (before.restartPolicy !== after.restartPolicy) return 'restart policy';
  if (before.sku !== after.sku) return 'sku';
  const subnets = (s: GroupSpec) => JSON.stringify((s.subnetIds ?? []).map((x) => normaliseResourceId(x.id)));
  if (subnets(before) !== subnets(after)) return 'network profile';
  if ((before.ipAddress?.type ?? '') !== (after.ipAddress?.type ?? '')) return 'ip address type';
  const resources = (s: GroupSpec) =>
    JSON.stringify(
      s.containers
        .map((c) => [c.name, c.properties.resources.requests.cpu, c.properties.resources.requests.memoryInGB])
        .sort(),
    );
  if (resources(before) !== resources(after)) return 'CPU or memory resources';
  return undefined;
}

/** True when a PUT changes more than tags (so ACI redeploys the containers). */
export function specChanged(before: GroupSpec, after: GroupSpec): boolean {
  return JSON.stringify(before) !== JSON.stringify(after);
}
