/**
 * What ACI refuses for the groups this app creates, which always sit in a VNet (`subnetIds`, private IP): one rule
 * per refusal, each with the reason a person reads and the Microsoft document it comes from. Config is checked at
 * load (appsConfig.ts), and so is a spec copied from an adopted group (domain/rollout/adoptionSpec.ts), so neither
 * creates a group ACI would refuse after the old one was already given up.
 *
 * Kept in src/config because config must not depend on the domain (test/unit/domain/domainBoundary.test.ts); the
 * domain imports it.
 */
import type { TemplateConfig } from './templateConfig.js';

const DOCS = 'https://learn.microsoft.com/azure/container-instances';
export const SOURCES = Object.freeze({
  vnet: `${DOCS}/container-instances-virtual-network-concepts`,
  spot: `${DOCS}/container-instances-spot-containers-overview`,
  gpu: `${DOCS}/container-instances-gpu`,
  linuxOnly: `${DOCS}/container-instances-overview#linux-and-windows-containers`,
  confidential: `${DOCS}/container-instances-confidential-overview`,
  zones: 'https://learn.microsoft.com/azure/reliability/reliability-container-instances',
  limits: `${DOCS}/container-instances-resource-and-quota-limits`,
  restSpec:
    'https://github.com/Azure/azure-rest-api-specs/blob/main/specification/containerinstance/resource-manager/Microsoft.ContainerInstance/stable/2023-05-01/containerInstance.json',
});

export type FieldPath = PropertyKey[];

export interface VnetRule {
  /** Stable name, for tests and docs. */
  id: string;
  /** Why ACI refuses it, as the message says it. */
  reason: string;
  /** Where Microsoft says so. */
  source: string;
  /** The fields of `t` (paths relative to the template) that break the rule. */
  find(t: TemplateConfig, location: string): FieldPath[];
}

const allContainers = (t: TemplateConfig) => t.containers.length + t.initContainers.length;
const exposedPorts = (t: TemplateConfig) => new Set(t.containers.flatMap((c) => c.ports));
/** Azure Government regions (usgovvirginia, usgovtexas, usgovarizona, usdodeast, usdodcentral, ...). */
const isGovernmentRegion = (location: string) => /^us(gov|dod)/i.test(location.replace(/\s+/g, ''));

function identityFields(t: TemplateConfig): FieldPath[] {
  const out: FieldPath[] = [];
  if (t.imagePullIdentity) out.push(['imagePullIdentity']);
  if (t.identity && (t.identity.systemAssigned || t.identity.userAssigned.length > 0)) out.push(['identity']);
  t.registryCredentials.forEach((c, i) => {
    if (c.identity) out.push(['registryCredentials', i, 'identity']);
  });
  return out;
}

export const VNET_RULES: readonly VnetRule[] = [
  {
    id: 'public-ip',
    reason:
      'a group in a virtual network cannot have a public IP address; it gets a private IP in its subnet',
    source: SOURCES.vnet,
    find: (t) => (t.ipAddress?.type === 'Public' ? [['ipAddress', 'type']] : []),
  },
  {
    id: 'dns-name-label',
    reason:
      'a group in a virtual network cannot have a DNS name label (no public FQDN); callers use its private IP',
    source: SOURCES.vnet,
    find: (t) => (t.ipAddress?.dnsNameLabel !== undefined ? [['ipAddress', 'dnsNameLabel']] : []),
  },
  {
    id: 'spot-priority',
    reason: 'Spot container groups cannot be deployed in a virtual network',
    source: SOURCES.spot,
    find: (t) => (t.priority === 'Spot' ? [['priority']] : []),
  },
  {
    id: 'gpu',
    reason:
      'GPU resources cannot be used by a group deployed in a virtual network (and ACI GPUs are retired)',
    source: SOURCES.gpu,
    find: (t) => t.containers.flatMap((c, i) => (c.gpu ? [['containers', i, 'gpu']] : [])),
  },
  {
    id: 'ipv6-name-server',
    reason: 'IPv6 addresses are not supported in a virtual network',
    source: SOURCES.vnet,
    find: (t) =>
      (t.dnsConfig?.nameServers ?? []).flatMap((s, i) =>
        s.includes(':') ? [['dnsConfig', 'nameServers', i]] : [],
      ),
  },
  {
    id: 'government-managed-identity',
    reason:
      'managed identities are not supported for groups in a virtual network in Azure Government regions',
    source: SOURCES.vnet,
    find: (t, location) => (isGovernmentRegion(location) ? identityFields(t) : []),
  },
  {
    id: 'windows-volumes',
    reason: 'volume mounts (Azure Files, emptyDir, gitRepo, secret) are restricted to Linux containers',
    source: SOURCES.linuxOnly,
    find: (t) => (t.osType === 'Windows' && t.volumes.length > 0 ? [['volumes']] : []),
  },
  {
    id: 'windows-multiple-containers',
    reason: 'multiple containers per group are restricted to Linux containers',
    source: SOURCES.linuxOnly,
    find: (t) => (t.osType === 'Windows' && allContainers(t) > 1 ? [['containers']] : []),
  },
  {
    id: 'confidential-windows',
    reason: 'confidential containers run Linux containers only',
    source: SOURCES.confidential,
    find: (t) => (t.osType === 'Windows' && t.sku === 'Confidential' ? [['sku']] : []),
  },
  {
    id: 'cce-policy-without-confidential',
    reason:
      'confidentialComputeProperties (the CCE policy) belong to a Confidential sku group; set sku to Confidential',
    source: SOURCES.restSpec,
    find: (t) => (t.ccePolicy !== undefined && t.sku !== 'Confidential' ? [['ccePolicy']] : []),
  },
  {
    id: 'one-zone',
    reason: 'a zonal group is pinned to one availability zone',
    source: SOURCES.zones,
    find: (t) => ((t.zones?.length ?? 0) > 1 ? [['zones']] : []),
  },
  {
    id: 'ports-per-ip',
    reason: 'an IP address exposes at most 5 ports (a hard limit)',
    source: SOURCES.limits,
    find: (t) => (exposedPorts(t).size > 5 ? [['containers']] : []),
  },
  {
    id: 'containers-per-group',
    reason: 'a group holds at most 60 containers, init containers included (a hard limit)',
    source: SOURCES.limits,
    find: (t) => (allContainers(t) > 60 ? [['containers']] : []),
  },
  {
    id: 'volumes-per-group',
    reason: 'a group holds at most 20 volumes (a hard limit)',
    source: SOURCES.limits,
    find: (t) => (t.volumes.length > 20 ? [['volumes']] : []),
  },
];

export interface VnetRefusal {
  rule: string;
  /** Relative to the template. */
  path: FieldPath;
  message: string;
}

/** Every field of the template ACI would refuse for a group in a VNet in `location`, with the reason. */
export function vnetRefusals(t: TemplateConfig, location: string): VnetRefusal[] {
  return VNET_RULES.flatMap((rule) =>
    rule
      .find(t, location)
      .map((path) => ({ rule: rule.id, path, message: `${rule.reason} (${rule.source})` })),
  );
}
