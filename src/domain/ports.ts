/**
 * What the domain needs from the outside world. One adapter per Azure service implements each interface;
 * the domain never imports an SDK. Designed for few round trips: one paged list per resource group, one paged
 * listing of secret properties per vault.
 *
 * Error contract for every adapter method: throw `TransientError` (429 with or without Retry-After, 5xx,
 * timeouts, connection errors), `TerminalError`/`NotFoundError` (4xx) or `ConflictError` (store only).
 * `toDomainError(what, { statusCode, code, message, retryAfterMs })` in ./errors.ts does the mapping from the
 * classification table. Methods documented as "404 → undefined / done" must not throw on 404.
 */
import type { PrivateDnsZoneRef } from '../config/dnsConfig.js';
import type { AppState, HistoryEntry, ReconcileResult, Notification, StoredAppState } from './model.js';
import type { ContainerGroupSpec, GroupDefinition } from './groupShapes.js';

// ---------------------------------------------------------------- Container Instances

export interface ContainerEvent {
  name?: string;
  message?: string;
  type?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
}

export interface ContainerStateView {
  /** Running | Waiting | Terminated */
  state?: string;
  exitCode?: number;
  detailStatus?: string;
  startTime?: string;
  finishTime?: string;
}

export interface ContainerView {
  name: string;
  image: string;
  restartCount?: number;
  currentState?: ContainerStateView;
  previousState?: ContainerStateView;
  events: ContainerEvent[];
}

/**
 * A container group. `get` fills everything; `listByResourceGroup` items are what ARM lists, which has no
 * instanceView: `state`, `events` and the containers' `currentState`/`restartCount`/`events` are then absent
 * (leave them undefined/empty, never guess). The domain GETs a listed group only when it needs those.
 */
export interface ContainerGroupView {
  id?: string;
  name: string;
  resourceGroup: string;
  location?: string;
  tags: Record<string, string>;
  /** Pending | Creating | Succeeded | Failed | Unhealthy | Repairing | Deleting | Updating | Canceled */
  provisioningState?: string;
  /** instanceView.state: Running | Stopped | Pending | Succeeded | Failed */
  state?: string;
  /** Private IP (`properties.ipAddress.ip`). */
  ip?: string;
  containers: ContainerView[];
  /** Group-level instanceView events. */
  events: ContainerEvent[];
}

export type {
  ProbeSpec,
  VolumeMountSpec,
  VolumeSpec,
  ContainerSpec,
  InitContainerSpec,
  RegistryCredentialSpec,
  ContainerGroupSpec,
  ContainerDefinition,
  GroupDefinition,
} from './groupShapes.js';

export interface ContainerGroups {
  /** All groups of a resource group, following nextLink (one paged list; items without instance view).
   * A missing resource group → []. */
  listByResourceGroup(resourceGroup: string): Promise<ContainerGroupView[]>;
  /** One group with its instance view. 404 → undefined. */
  get(resourceGroup: string, name: string): Promise<ContainerGroupView | undefined>;
  /** The group's definition (its spec, without secrets: ARM returns none). 404 → undefined. */
  getDefinition(resourceGroup: string, name: string): Promise<GroupDefinition | undefined>;
  /** Start the create (PUT) and return once ARM accepted it, without waiting for the LRO: the domain polls
   * with get/list across steps and ticks. */
  beginCreate(resourceGroup: string, spec: ContainerGroupSpec): Promise<void>;
  /** Start deleting; may return before the deletion finishes. 404 → done (idempotent). */
  delete(resourceGroup: string, name: string): Promise<void>;
  /** Start a restart (the IP may change). 404 → NotFoundError. */
  restart(resourceGroup: string, name: string): Promise<void>;
}

// ---------------------------------------------------------------- Container Registry

export interface RegistryInfo {
  id: string;
  name: string;
  loginServer: string;
  /** 'Enabled' | 'Disabled' (ARM `properties.publicNetworkAccess`). */
  publicNetworkAccess?: string;
  /** 'Allow' | 'Deny' (`properties.networkRuleSet.defaultAction`, Premium only). */
  networkRuleSetDefaultAction?: string;
  /** 'AzureServices' (the default: trusted Azure services, ACI among them, pass the network rules) | 'None'. */
  networkRuleBypassOptions?: string;
  /** 'LegacyRegistryPermissions' | 'AbacRepositoryPermissions' (ARM api-version 2025-11-01 and later). */
  roleAssignmentMode?: string;
  /** Resource ids of the private endpoints of `properties.privateEndpointConnections`. */
  privateEndpointIds?: string[];
  /** 'Basic' | 'Standard' | 'Premium'. */
  sku?: string;
  anonymousPullEnabled?: boolean;
}

/**
 * Counts throttled answers that an adapter retried by itself while `work` ran (they never reach the domain as
 * errors): reconcile adds them to the tick's `throttled`.
 */
export interface ThrottleMeter {
  run<T>(work: () => Promise<T>, onThrottled: () => void): Promise<T>;
}

export interface Registries {
  /** `GET` the registry by resource id. 404 → NotFoundError. */
  get(resourceId: string): Promise<RegistryInfo>;
  /**
   * The registry's login server (lower case), for matching a push event and naming images. May be served from a
   * short-lived cache (a login server is fixed when the registry is created), unlike `get`, whose network
   * settings the preflight must see fresh. 404 → NotFoundError.
   */
  loginServer(resourceId: string): Promise<string>;
  /** The subnet id of a private endpoint (`GET Microsoft.Network/privateEndpoints/{name}`, `properties.subnet.id`).
   * 404 → NotFoundError; 403 when the identity may not read it → code AuthorizationFailed (classified retryable:
   * a new role assignment takes minutes to propagate). */
  privateEndpointSubnet(privateEndpointId: string): Promise<string | undefined>;
}

/** A manifest read from a registry's data plane. */
export interface FetchedManifest {
  /** `Content-Type` of the answer, e.g. `application/vnd.oci.image.index.v1+json`. */
  mediaType: string;
  /** The digest the body was verified against (the one asked for). */
  digest: string;
  /** The manifest body, parsed. */
  manifest: unknown;
}

/** A tag as the registry's tag listing shows it. */
export interface RegistryTag {
  name: string;
  /** The manifest (or index) digest the tag points at. */
  digest: string;
  /** ISO time the tag last moved: its push time. */
  lastUpdatedOn: string;
  /** ISO time the tag was first pushed. */
  createdOn?: string;
}

/**
 * A registry's data plane (`https://{loginServer}/v2/…`, `/acr/v1/…`), read with the function's identity.
 * Errors: 401/403 → TerminalError with code `RegistryAccessDenied` naming the role to grant; 404 →
 * NotFoundError; 429 and 5xx, timeouts, connection errors → TransientError; a body that does not hash to the
 * digest → TerminalError.
 */
export interface RegistryManifests {
  /** The manifest `digest` of `repository`, fetched by digest and verified against it. */
  getManifest(loginServer: string, repository: string, digest: string): Promise<FetchedManifest>;
  /** Every tag of `repository` (one paged listing), most recently updated first. No such repository → []. */
  listTags(loginServer: string, repository: string): Promise<RegistryTag[]>;
}

// ---------------------------------------------------------------- Key Vault secrets

export interface SecretProperties {
  name: string;
  tags: Record<string, string>;
  updatedOn?: Date;
  /** Creation time of the current version: a new version changes it, a tag or attribute update does not. */
  createdOn?: Date;
  enabled?: boolean;
}

/** A secret's current value and which version it is (the value only ever reaches a group's PUT). */
export interface VersionedSecret {
  value: string;
  version?: string;
  createdOn?: Date;
}

/** What a caller learns of a listing's internal retries. */
export interface ListingObserver {
  /** Called once for every throttled request that the listing retried on its own. */
  onThrottled?: () => void;
}

export interface Secrets {
  /** Properties of all secrets in the vault (one paged `listPropertiesOfSecrets`), keyed by secret name.
   * Values are not fetched: the mirrored IP is in the `ip` tag. An adapter that retries a throttled page
   * itself (instead of failing the listing) reports each such page through `observer.onThrottled`, so the
   * caller's count of throttled calls is complete. */
  listIpSecrets(vaultUrl: string, observer?: ListingObserver): Promise<Map<string, SecretProperties>>;
  /** Latest value. 404 → undefined. */
  getValue(vaultUrl: string, name: string): Promise<string | undefined>;
  /** Latest value with its version and the version's creation time. 404 → undefined. */
  getSecret(vaultUrl: string, name: string): Promise<VersionedSecret | undefined>;
  /** One secret's properties (its latest version's tags and times), as the listing shows them. 404 → undefined. */
  getProperties(vaultUrl: string, name: string): Promise<SecretProperties | undefined>;
  /** New version with this value and these tags (replaces the tag set). */
  set(vaultUrl: string, name: string, value: string, tags: Record<string, string>): Promise<void>;
}

// ---------------------------------------------------------------- Private DNS records (issue 17)

/** An A record set of a Private DNS zone. */
export interface ARecordSet {
  /** Relative to the zone, lower case (Azure answers names in lower case). */
  name: string;
  /** `properties.aRecords[].ipv4Address`, in order. */
  ips: string[];
  ttlSeconds?: number;
  /** Changes with every write; `If-Match` on the next write. */
  etag?: string;
  /** `properties.metadata`: the record set's tags. */
  metadata: Record<string, string>;
}

/** What a write sets: one address, the TTL, the metadata (which is replaced). */
export interface ARecordWrite {
  ip: string;
  ttlSeconds: number;
  metadata: Record<string, string>;
}

/** Code of the TransientError a record write refused with 412 carries (DnsRecords.putARecordSet). */
export const PRECONDITION_FAILED = 'PreconditionFailed';

/** A write's precondition: replace exactly what was read (`If-Match`), or create only (`If-None-Match: *`). */
export type RecordPrecondition = { ifMatch: string } | { ifNoneMatch: '*' };

export interface DnsRecords {
  /** Every A record set of the zone (one paged `RecordSets_ListByType`), keyed by lower-case relative name. The
   * observer hears of each throttled page the adapter retried itself, as for vault listings. */
  listARecordSets(zone: PrivateDnsZoneRef, observer?: ListingObserver): Promise<Map<string, ARecordSet>>;
  /** One A record set. 404 → undefined. */
  getARecordSet(zone: PrivateDnsZoneRef, name: string): Promise<ARecordSet | undefined>;
  /** PUT the A record set under the precondition. A 412 (someone wrote it since it was read, or it exists when
   * `ifNoneMatch` said it must not) → TransientError with code `PreconditionFailed`: read again and decide. */
  putARecordSet(
    zone: PrivateDnsZoneRef,
    name: string,
    record: ARecordWrite,
    precondition: RecordPrecondition,
  ): Promise<ARecordSet>;
}

// ---------------------------------------------------------------- Rollout store (Table storage, ETag CAS)

export interface RolloutStore {
  /** The app's row. Not found → undefined. */
  get(app: string): Promise<{ state: AppState; etag: string } | undefined>;
  /** Insert; throws ConflictError when the row exists. Returns the new ETag. */
  create(app: string, state: AppState): Promise<string>;
  /** Replace if the ETag still matches; throws ConflictError otherwise. Returns the new ETag. */
  replace(app: string, state: AppState, etag: string): Promise<string>;
  /** All apps' rows (one query). */
  list(): Promise<StoredAppState[]>;
  /** Upsert keyed by (app, rolloutId): safe to call twice. */
  appendHistory(app: string, entry: HistoryEntry): Promise<void>;
  /** Newest first (by finishedAt). */
  listHistory(app: string, limit: number): Promise<HistoryEntry[]>;
  recordReconcile(result: ReconcileResult): Promise<void>;
  getLastReconcile(): Promise<ReconcileResult | undefined>;
}

// ---------------------------------------------------------------- health, notifications, time, logs

export interface HealthResult {
  /** True for a 2xx answer. The domain applies the app's `expectedStatus` range to `status` itself. */
  ok: boolean;
  status?: number;
  /** Connection error / timeout text when there was no HTTP answer. */
  error?: string;
  /** First ~200 characters of the body, for failure messages. */
  bodySnippet?: string;
  durationMs?: number;
}

export interface HealthProbe {
  /** HTTP GET with a timeout. Never throws: failures are `{ ok: false, error }`. */
  check(url: string, timeoutMs: number): Promise<HealthResult>;
}

export interface Notifier {
  /** Publish a CloudEvent (type `AciBlueGreen.${event.type}`, source `/apps/${app}`). May throw; the domain
   * logs and drops failed notifications. */
  publish(event: Notification): Promise<void>;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface Logger {
  debug(message: string, properties?: Record<string, unknown>): void;
  info(message: string, properties?: Record<string, unknown>): void;
  warn(message: string, properties?: Record<string, unknown>): void;
  error(message: string, properties?: Record<string, unknown>): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
