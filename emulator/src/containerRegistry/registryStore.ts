/**
 * Registries and their content, kept in the persistent state slice `containerRegistry`: registry properties as
 * ARM shows them, repositories → tags → manifests, each manifest with the behaviour chosen when it was pushed.
 * The slice is looked up on every call (never cached), so a state reset is seen at once.
 */
import type { EmulatorContext, ImageBehavior } from '../core/context.js';

export type SkuName = 'Basic' | 'Standard' | 'Premium';
export type RoleAssignmentMode = 'LegacyRegistryPermissions' | 'AbacRepositoryPermissions';
export const ROLE_ASSIGNMENT_MODES: readonly RoleAssignmentMode[] = [
  'LegacyRegistryPermissions',
  'AbacRepositoryPermissions',
];

/** A `Microsoft.Network/privateEndpoints` resource connected to the registry. */
export interface PrivateEndpointRecord {
  name: string;
  resourceGroup: string;
  subnetId: string;
}

export interface ManifestRecord {
  digest: string;
  mediaType: string;
  size: number;
  behavior: ImageBehavior;
  pushedAt: string;
  /**
   * The manifest body the data plane serves; its sha256 is `digest`. Absent for a manifest pushed with a digest
   * chosen by the caller (the control API's `digest` for a new manifest): the emulator cannot invent content for it.
   */
  content?: string;
  /** For a per-platform image of an index: the platform it runs on. */
  platform?: { os: string; architecture: string; variant?: string };
}

export interface RepositoryRecord {
  name: string;
  /** tag → digest */
  tags: Record<string, string>;
  /**
   * tag → when it was first pushed and when it last moved (ACR's `createdTime` / `lastUpdateTime` of a tag, which
   * the data plane's tag listing shows and orders by). Absent in state saved before tag listing existed: the
   * manifest's push time stands in then.
   */
  tagTimes?: Record<string, { createdTime: string; lastUpdateTime: string }>;
  /** digest → manifest */
  manifests: Record<string, ManifestRecord>;
  createdAt: string;
}

export interface RegistryRecord {
  name: string;
  resourceGroup: string;
  location: string;
  sku: SkuName;
  tags: Record<string, string>;
  adminUserEnabled: boolean;
  anonymousPullEnabled: boolean;
  publicNetworkAccess: 'Enabled' | 'Disabled';
  networkRuleSet: { defaultAction: 'Allow' | 'Deny'; ipRules: { action: 'Allow'; value: string }[] };
  /** Whether trusted Azure services (ACI with a managed identity among them) pass the network rules. */
  networkRuleBypassOptions: 'AzureServices' | 'None';
  /** Approved private endpoints (Premium only). ACI's pulls do not depend on them: see `passesNetworkRules`. */
  privateEndpoints: PrivateEndpointRecord[];
  /** Which role assignments grant repository access (api-version 2025-11-01 and later show it). */
  roleAssignmentMode: RoleAssignmentMode;
  zoneRedundancy: 'Enabled' | 'Disabled';
  dataEndpointEnabled: boolean;
  creationDate: string;
  lastModifiedAt: string;
  /** repository name → content */
  repositories: Record<string, RepositoryRecord>;
}

export interface RegistryStateSlice {
  /** lower-case registry name → record */
  registries: Record<string, RegistryRecord>;
}

export const MANIFEST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
export const MANIFEST_LIST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.list.v2+json';

/** A manifest that lists other manifests (one per platform) rather than being an image. */
export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === OCI_INDEX_MEDIA_TYPE || mediaType === MANIFEST_LIST_MEDIA_TYPE;
}
export const REGISTRY_NAME_PATTERN = /^[a-zA-Z0-9]{5,50}$/;

export interface NewRegistry {
  name: string;
  resourceGroup: string;
  location?: string;
  sku?: SkuName;
  publicNetworkAccess?: 'Enabled' | 'Disabled';
  defaultAction?: 'Allow' | 'Deny';
  anonymousPullEnabled?: boolean;
  adminUserEnabled?: boolean;
  tags?: Record<string, string>;
}

export function newRegistryRecord(spec: NewRegistry, now = new Date()): RegistryRecord {
  const at = now.toISOString();
  return {
    name: spec.name,
    resourceGroup: spec.resourceGroup,
    location: (spec.location ?? 'westeurope').toLowerCase().replace(/\s+/g, ''),
    sku: spec.sku ?? 'Premium',
    tags: spec.tags ?? {},
    adminUserEnabled: spec.adminUserEnabled ?? false,
    anonymousPullEnabled: spec.anonymousPullEnabled ?? false,
    publicNetworkAccess: spec.publicNetworkAccess ?? 'Enabled',
    networkRuleSet: { defaultAction: spec.defaultAction ?? 'Allow', ipRules: [] },
    // Trusted services are allowed by default in a new registry (container-registry/allow-access-trusted-services).
    networkRuleBypassOptions: 'AzureServices',
    privateEndpoints: [],
    roleAssignmentMode: 'LegacyRegistryPermissions',
    zoneRedundancy: 'Disabled',
    dataEndpointEnabled: false,
    creationDate: at,
    lastModifiedAt: at,
    repositories: {},
  };
}

/** Where the seeded `locked` registry's private endpoint sits: its own subnet, never the ACI subnet. */
export function seededEndpointSubnet(subscriptionId: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-apps/subnets/snet-pe`;
}

/** Fresh state: the registries the sample configuration and the tests name (CONTEXT.md, "Emulator seed"). */
function seed(subscriptionId: string): RegistryStateSlice {
  const contoso = newRegistryRecord({ name: 'contoso', resourceGroup: 'rg-platform' });
  const locked = newRegistryRecord({
    name: 'locked',
    resourceGroup: 'rg-platform',
    publicNetworkAccess: 'Disabled',
    defaultAction: 'Deny',
  });
  locked.privateEndpoints = [
    { name: 'pe-locked', resourceGroup: 'rg-platform', subnetId: seededEndpointSubnet(subscriptionId) },
  ];
  return { registries: { contoso, locked } };
}

/** State saved before private endpoints had a subnet and registries a role mode: bring it to today's shape. */
function upgrade(r: RegistryRecord, subscriptionId: string): RegistryRecord {
  r.roleAssignmentMode ??= 'LegacyRegistryPermissions';
  const saved = r.privateEndpoints as (PrivateEndpointRecord | string)[];
  if (saved.some((pe) => typeof pe === 'string'))
    r.privateEndpoints = saved.map((pe) =>
      typeof pe === 'string'
        ? { name: pe, resourceGroup: r.resourceGroup, subnetId: seededEndpointSubnet(subscriptionId) }
        : pe,
    );
  return r;
}

export class RegistryStore {
  constructor(private readonly ctx: EmulatorContext) {}

  private get slice(): RegistryStateSlice {
    const sub = this.ctx.options.subscriptionId;
    const slice = this.ctx.state.slice<RegistryStateSlice>('containerRegistry', () => seed(sub));
    for (const r of Object.values(slice.registries)) upgrade(r, sub);
    return slice;
  }

  changed(): void {
    this.ctx.state.changed();
  }

  /** Touch the slice so a fresh state gets its seed persisted. */
  ensureSeeded(): void {
    void this.slice;
    this.changed();
  }

  get(name: string): RegistryRecord | undefined {
    return this.slice.registries[name.toLowerCase()];
  }

  all(): RegistryRecord[] {
    return Object.values(this.slice.registries).sort((a, b) =>
      a.name.toLowerCase().localeCompare(b.name.toLowerCase()),
    );
  }

  byLoginServer(host: string): RegistryRecord | undefined {
    const h = host.toLowerCase();
    return this.all().find((r) => loginServerOf(r) === h);
  }

  add(record: RegistryRecord): void {
    this.slice.registries[record.name.toLowerCase()] = record;
    this.changed();
  }

  remove(name: string): boolean {
    const key = name.toLowerCase();
    if (!(key in this.slice.registries)) return false;
    delete this.slice.registries[key];
    this.changed();
    return true;
  }
}

export function loginServerOf(r: RegistryRecord): string {
  return `${r.name.toLowerCase()}.azurecr.io`;
}

export function registryResourceId(subscriptionId: string, r: RegistryRecord): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${r.resourceGroup}/providers/Microsoft.ContainerRegistry/registries/${r.name}`;
}

/**
 * Whether the registry's public endpoint refuses clients from arbitrary networks (ACI's pulls come from Azure's
 * own addresses). Network rules are a Premium feature (container-registry-access-selected-networks), so a default
 * action of Deny restricts only a Premium registry.
 */
export function isNetworkRestricted(r: RegistryRecord): boolean {
  return (
    r.publicNetworkAccess === 'Disabled' || (r.sku === 'Premium' && r.networkRuleSet.defaultAction === 'Deny')
  );
}

/**
 * Whether a pull by ACI with these credentials passes the registry's network rules. A network-restricted registry
 * lets ACI through only as a trusted Azure service: the registry allows trusted services
 * (`networkRuleBypassOptions: AzureServices`) and ACI authenticates with a (user-assigned) managed identity;
 * anonymous and username/password pulls are refused like any outside client. Sources: "Allow trusted services to
 * securely access a network-restricted container registry" (container-registry/allow-access-trusted-services,
 * ACI on the trusted list); "Deploy to Azure Container Instances from Azure Container Registry using a managed
 * identity" (container-instances/using-azure-container-registry-mi); the ACI troubleshooting article "Container
 * group fails to pull images from Azure Container Registry by using managed identity authentication"
 * (InaccessibleImage when trusted services are disabled).
 */
export function passesNetworkRules(
  r: RegistryRecord,
  pull: { identity?: string; username?: string },
): boolean {
  if (!isNetworkRestricted(r)) return true;
  return r.networkRuleBypassOptions === 'AzureServices' && Boolean(pull.identity);
}

export function privateEndpointId(subscriptionId: string, pe: PrivateEndpointRecord): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${pe.resourceGroup}/providers/Microsoft.Network/privateEndpoints/${pe.name}`;
}

/** The ARM representation (Registries_Get), as the 2025-11-01 REST spec describes it. */
export function toArmResource(subscriptionId: string, r: RegistryRecord): Record<string, unknown> {
  const id = registryResourceId(subscriptionId, r);
  const properties: Record<string, unknown> = {
    loginServer: loginServerOf(r),
    creationDate: r.creationDate,
    provisioningState: 'Succeeded',
    adminUserEnabled: r.adminUserEnabled,
    policies: {
      quarantinePolicy: { status: 'disabled' },
      trustPolicy: { type: 'Notary', status: 'disabled' },
      retentionPolicy: { days: 7, lastUpdatedTime: r.creationDate, status: 'disabled' },
      exportPolicy: { status: 'enabled' },
      azureADAuthenticationAsArmPolicy: { status: 'enabled' },
    },
    encryption: { status: 'disabled' },
    dataEndpointEnabled: r.dataEndpointEnabled,
    dataEndpointHostNames: [],
    privateEndpointConnections: r.privateEndpoints.map((pe) => ({
      id: `${id}/privateEndpointConnections/${pe.name}`,
      name: pe.name,
      type: 'Microsoft.ContainerRegistry/registries/privateEndpointConnections',
      properties: {
        privateEndpoint: { id: privateEndpointId(subscriptionId, pe) },
        privateLinkServiceConnectionState: {
          status: 'Approved',
          description: 'Auto-Approved',
          actionsRequired: 'None',
        },
        provisioningState: 'Succeeded',
      },
    })),
    publicNetworkAccess: r.publicNetworkAccess,
    networkRuleBypassOptions: r.networkRuleBypassOptions,
    networkRuleBypassAllowedForTasks: false,
    zoneRedundancy: r.zoneRedundancy,
    anonymousPullEnabled: r.anonymousPullEnabled,
    roleAssignmentMode: r.roleAssignmentMode,
  };
  // Network rules are a Premium feature: Basic and Standard registries do not report a rule set.
  if (r.sku === 'Premium') properties['networkRuleSet'] = r.networkRuleSet;
  return {
    id,
    name: r.name,
    type: 'Microsoft.ContainerRegistry/registries',
    location: r.location,
    tags: r.tags,
    sku: { name: r.sku, tier: r.sku },
    systemData: {
      createdBy: 'emulator@contoso.example',
      createdByType: 'User',
      createdAt: r.creationDate,
      lastModifiedBy: 'emulator@contoso.example',
      lastModifiedByType: 'User',
      lastModifiedAt: r.lastModifiedAt,
    },
    properties,
  };
}
