/**
 * Registries and their content, kept in the persistent state slice `containerRegistry`: registry properties as
 * ARM shows them, repositories → tags → manifests, each manifest with the behaviour chosen when it was pushed.
 * The slice is looked up on every call (never cached), so a state reset is seen at once.
 */
import type { EmulatorContext, ImageBehavior } from '../core/context.js';

export type SkuName = 'Basic' | 'Standard' | 'Premium';

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
  networkRuleBypassOptions: 'AzureServices' | 'None';
  /** Names of approved private endpoints (informational: ACI still cannot pull through them). */
  privateEndpoints: string[];
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
    networkRuleBypassOptions: 'AzureServices',
    privateEndpoints: [],
    zoneRedundancy: 'Disabled',
    dataEndpointEnabled: false,
    creationDate: at,
    lastModifiedAt: at,
    repositories: {},
  };
}

/** Fresh state: the registries the sample configuration and the tests name (CONTEXT.md, "Emulator seed"). */
function seed(): RegistryStateSlice {
  const contoso = newRegistryRecord({ name: 'contoso', resourceGroup: 'rg-platform' });
  const locked = newRegistryRecord({
    name: 'locked',
    resourceGroup: 'rg-platform',
    publicNetworkAccess: 'Disabled',
    defaultAction: 'Deny',
  });
  locked.privateEndpoints = ['pe-locked'];
  return { registries: { contoso, locked } };
}

export class RegistryStore {
  constructor(private readonly ctx: EmulatorContext) {}

  private get slice(): RegistryStateSlice {
    return this.ctx.state.slice<RegistryStateSlice>('containerRegistry', seed);
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

/** Whether pulls from outside the registry's network (ACI's, for one) are refused. */
export function isNetworkRestricted(r: RegistryRecord): boolean {
  return r.publicNetworkAccess === 'Disabled' || r.networkRuleSet.defaultAction === 'Deny';
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
      id: `${id}/privateEndpointConnections/${pe}`,
      name: pe,
      type: 'Microsoft.ContainerRegistry/registries/privateEndpointConnections',
      properties: {
        privateEndpoint: {
          id: `/subscriptions/${subscriptionId}/resourceGroups/${r.resourceGroup}/providers/Microsoft.Network/privateEndpoints/${pe}`,
        },
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
    roleAssignmentMode: 'LegacyRegistryPermissions',
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
