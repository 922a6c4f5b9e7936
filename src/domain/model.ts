/**
 * The stored shapes: one `AppState` row per app (every write a compare-and-swap on its ETag), history entries,
 * reconcile results. All plain JSON: the store adapter serialises them as they are.
 */
import type { GroupDefinition } from './ports.js';

/** Value of the `managed-by` tag on groups (and secrets) we create. */
export const MANAGED_BY = 'aci-bluegreen';

/** Tags on container groups we create. */
export const GROUP_TAGS = Object.freeze({
  app: 'app',
  colour: 'colour',
  digest: 'digest',
  tag: 'tag',
  rolloutId: 'rollout-id',
  managedBy: 'managed-by',
  /** ISO time the group was created by us; orphan removal measures its grace period from it. */
  createdAt: 'created-at',
  /** Hash of the effective template it was created from (configHash.ts): config changes are found by it. */
  configHash: 'config-hash',
});

/** Tags on the Key Vault secrets we write; `ip` mirrors the value so listings need not fetch values. */
export const SECRET_TAGS = Object.freeze({
  ip: 'ip',
  app: 'app',
  colour: 'colour',
  group: 'group',
  resourceGroup: 'resource-group',
  digest: 'digest',
  managedBy: 'managed-by',
});

/** Tags people put on groups they want mirrored without a sidecar. */
export const WATCH_TAGS = Object.freeze({
  /** `ip-secret=<secret name>` */
  secret: 'ip-secret',
  /** optional `ip-secret-vault=<vault url>` (must be a vault named in APPS_CONFIG) */
  vault: 'ip-secret-vault',
  /** `ip-dns=<record name>`: an A record, relative to the zone, that follows the group's IP */
  dns: 'ip-dns',
  /** optional `ip-dns-zone=<zone name or id>` (must be a zone named in APPS_CONFIG) */
  dnsZone: 'ip-dns-zone',
});

export type Colour = 'blue' | 'green';

export function groupNameFor(app: string, colour: Colour): string {
  return `${app}-${colour}`;
}

/**
 * The ordered steps of a rollout. `succeeded` is the last; `failed`, `superseded`, `rolledBack` and `aborted` are
 * outcomes, not steps. `awaitingPromotion` runs only for apps in manual promotion, `verifying` only with `verify`.
 */
export const ROLLOUT_STEPS = [
  'accepted',
  'cleaningIdle',
  'creating',
  'waitingRunning',
  'healthGate',
  'awaitingPromotion',
  'switching',
  'verifying',
  'draining',
  'deletingOld',
  'succeeded',
] as const;
export type RolloutStep = (typeof ROLLOUT_STEPS)[number];

/** Steps after which callers may already use the new group: a newer push is queued, never superseding. */
export const COMMITTED_STEPS: ReadonlySet<RolloutStep> = new Set([
  'switching',
  'verifying',
  'draining',
  'deletingOld',
  'succeeded',
]);

export type RolloutState = 'inProgress' | 'succeeded' | 'failed' | 'superseded' | 'rolledBack' | 'aborted';

/**
 * Why a rollout exists: a push (the default), a push found by catch-up (its event never arrived), a change of the
 * app's template or of a secret it uses (`configChanged`: the active digest again), or an operator's action.
 */
export type RolloutKind = 'push' | 'catchUp' | 'configChanged' | 'rollback' | 'retry' | 'redeploy';

export { OPERATOR_ACTIONS, type OperatorAction } from '../events/actionRequest.js';
import type { OperatorAction } from '../events/actionRequest.js';

/** Who did something and why: the signed-in principal behind Easy Auth, else "function key". */
export interface ActorNote {
  actor: string;
  reason?: string;
  /** ISO time. */
  at: string;
}

export type FailureReason =
  | 'RegistryNetworkRestricted'
  | 'PullIdentityMissing'
  | 'RegistryNotFound'
  | 'ImagePullFailed'
  | 'PlatformNotFound'
  | 'RegistryAccessDenied'
  | 'ContainerCrashed'
  | 'ContainerExited'
  | 'ProvisioningFailed'
  | 'ProvisioningTimeout'
  | 'HealthCheckFailed'
  | 'SecureEnvMissing'
  /** A Key Vault reference of the template other than a secure variable (storage key, secret file, password, key). */
  | 'KeyVaultSecretMissing'
  /** adoptGroup.copySpec: the adopted spec cannot be deployed yet (secrets to supply, fields it cannot keep). */
  | 'AdoptionIncomplete'
  | 'GroupNameTaken'
  | 'GroupLost'
  | 'VerifyFailed'
  | 'RolledBackByOperator'
  | 'AbortedByOperator'
  | 'AzureError';

/** One timeline entry. */
export interface Condition {
  step: RolloutStep | 'failed' | 'superseded' | 'queued' | 'rolledBack' | 'aborted' | 'operator';
  /** ISO time. */
  at: string;
  message: string;
}

export interface RolloutError {
  step: RolloutStep;
  reason: FailureReason;
  /** A sentence a person understands, e.g. "image pull failed: ...". */
  message: string;
}

export interface Rollout {
  id: string;
  state: RolloutState;
  /** Absent for rows written before operator actions: a push. */
  kind?: RolloutKind;
  /** For a rollout an operator started (rollback, retry, redeploy): who asked and why. */
  requestedBy?: ActorNote;
  /**
   * Set when this rollout moves callers to a group another rollout created (a rollback to the group kept in the
   * rollback window): the rollout id that group carries (absent for an adopted group, which carries none). The
   * rollout creates nothing and deletes nothing of that group on failure.
   */
  reusesGroupOf?: { rolloutId?: string };
  /** Current step while inProgress; the step it stopped at otherwise. */
  step: RolloutStep;
  repository: string;
  tag: string;
  digest: string;
  /** Registry login server from the event (checked against the registry). */
  loginServer: string;
  /**
   * The image the group runs: `loginServer/repository@digest`, or, once resolved for a pushed image index, the
   * digest of the index's manifest for the app's platform (`platformDigest`).
   */
  image: string;
  /** Media type of the pushed manifest (ImagePushed `target.mediaType`), when the event carried it. */
  mediaType?: string;
  /** For a pushed image index: the digest of its manifest for `platform`, which the group is created with. */
  platformDigest?: string;
  /** The platform resolved from the index, e.g. `linux/amd64`. */
  platform?: string;
  eventId: string;
  eventTime: string;
  colour: Colour;
  resourceGroup: string;
  /** The group this rollout creates: `{app}-{colour}`. */
  group: string;
  /** The group that served before the switch (set at the switch). */
  fromGroup?: string;
  fromResourceGroup?: string;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  createRequestedAt?: string;
  runningAt?: string;
  ip?: string;
  healthStartedAt?: string;
  healthSuccesses: number;
  /** e.g. "GET http://10.0.0.4:8080/healthz → 503". */
  lastHealth?: string;
  switchedAt?: string;
  /** What served before the switch: where callers go back to when verify fails or an operator rolls back. */
  previous?: ActiveDeployment;
  /** Manual promotion: the preview secret written with the new group's IP. */
  preview?: { secretName: string; ip: string; writtenAt: string };
  /** Manual promotion: who promoted (the rollout then switches). */
  promotedBy?: ActorNote;
  /** The check after the switch: probes made, consecutive failures, the last answer. */
  verify?: { startedAt: string; probes: number; failures: number; last?: string };
  /** An operator asked to move callers back while the previous group still runs (verifying or draining). */
  revertRequestedBy?: ActorNote;
  drainUntil?: string;
  deleteRequestedAt?: string;
  /** Re-creations after the group vanished or was replaced (bounded). */
  recreations: number;
  /** The Key Vault secret versions the group was created with (set at creating; never values). */
  secretVersions?: SecretVersion[];
  /** For a `configChanged` rollout: the desired config it was started for (configDrift.ts), so it is tried once. */
  configKey?: string;
  /** When the registry first refused reading the pushed image index (the denial is final after the pull grace). */
  accessDeniedSince?: string;
  /**
   * Consecutive transient errors at the current step (each after the per-call retries gave up): since when, how
   * many, the last one, and when the step runs again (jittered backoff, or the answer's Retry-After).
   */
  transient?: { since: string; attempts: number; lastError: string; nextRetryAt?: string };
  /** What the current step is waiting for (not a timeline entry: it changes every poll). */
  waiting?: { step: RolloutStep; since: string; message: string };
  /**
   * Set when a run stopped inside a wait (poll interval, health interval, drain, backoff): the next run does not
   * repeat the step before then, so a health interval or a Retry-After holds across reconcile ticks.
   */
  resumeAt?: string;
  error?: RolloutError;
  supersededBy?: string;
  timeline: Condition[];
}

/** Which version of a Key Vault secret a group was created with (never its value). */
export interface SecretVersion {
  vaultUrl: string;
  name: string;
  /** The version id Key Vault gave it (the last segment of its id). */
  version?: string;
  /** ISO creation time of that version: the vault's listing shows the current version's, so a newer one is seen. */
  createdOn?: string;
}

export interface ActiveDeployment {
  group: string;
  resourceGroup: string;
  /** 'adopted' for a group taken over with `adoptGroup`. */
  colour: Colour | 'adopted';
  digest?: string;
  tag?: string;
  image?: string;
  rolloutId?: string;
  since: string;
  /** The Key Vault secret versions its group was created with (absent for groups from before they were kept). */
  secretVersions?: SecretVersion[];
}

/** The previous group, kept running after a successful rollout for `rollbackWindowSeconds`. */
export interface RollbackTarget extends ActiveDeployment {
  /** ISO time the window closes (its group is deleted then). */
  until: string;
}

/** A digest an operator or a failed verify turned away: automatic redeploys of it are refused until retried. */
export interface RejectedDigest {
  digest: string;
  tag: string;
  at: string;
  reason: string;
}

export const REJECTED_MAX = 10;

/** One operator action as the app's action log keeps it. */
export interface ActionRecord extends ActorNote {
  action: OperatorAction;
  /** What it did: the rollout it started or touched, or what changed. */
  outcome: string;
  rolloutId?: string;
  to?: string;
  /** Sent with `force: true` (a retry or redeploy past the deploy windows or a freeze). */
  forced?: boolean;
}

export const ACTIONS_MAX = 25;

/** A group to delete once `notBefore` passes (cleanup of failed/superseded rollouts). */
export interface PendingDeletion {
  resourceGroup: string;
  group: string;
  /** Only delete while the group still carries this rollout id (a newer rollout may reuse the name). */
  rolloutId?: string;
  notBefore: string;
  reason: string;
  requestedAt?: string;
}

/** What a (valid, allowed) ImagePushed event asks for: this digest of this repository, pushed under this tag. */
export interface PushIntent {
  eventId: string;
  eventTime: string;
  repository: string;
  tag: string;
  digest: string;
  loginServer: string;
  /** ImagePushed `target.mediaType`: an image index is resolved to the app's platform at create time. */
  mediaType?: string;
  /** Found by catch-up in the registry's tag listing rather than delivered as an event. */
  source?: 'catchUp';
}

/** A push that arrived after the current rollout's switch; it starts when that rollout finishes. */
export interface QueuedPush extends PushIntent {
  receivedAt: string;
}

/** A push for this app that started no rollout (duplicate, stale, tag not allowed, ...), shown by status. */
export interface IgnoredPush {
  at: string;
  eventId: string;
  tag: string;
  digest: string;
  outcome: 'ignored' | 'rejected';
  reason: string;
}

export const IGNORED_MAX = 10;

export interface RecentRollout {
  rolloutId: string;
  digest: string;
  tag: string;
  state: RolloutState;
  startedAt: string;
  finishedAt?: string;
  /** Kept so an operator's retry or rollback redeploys an image index as the push did. */
  mediaType?: string;
}

export interface HistoryEntry {
  app: string;
  rolloutId: string;
  digest: string;
  tag: string;
  outcome: Exclude<RolloutState, 'inProgress'>;
  reason?: FailureReason;
  message?: string;
  colour: Colour;
  group: string;
  fromGroup?: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  kind?: RolloutKind;
  requestedBy?: ActorNote;
  timeline: Condition[];
}

export type RolloutNotificationType =
  | 'rollout.started'
  | 'rollout.succeeded'
  | 'rollout.failed'
  | 'rollout.superseded'
  | 'rollout.rolledBack'
  | 'rollout.aborted';

export interface RolloutNotification {
  type: RolloutNotificationType;
  /** Unique per notification (CloudEvents id). */
  id: string;
  app: string;
  rolloutId: string;
  digest: string;
  tag: string;
  group: string;
  at: string;
  message?: string;
}

/** An operator action, published as `AciBlueGreen.operator.{action}`. */
export interface OperatorNotification {
  type: `operator.${OperatorAction}`;
  id: string;
  app: string;
  at: string;
  actor: string;
  reason?: string;
  rolloutId?: string;
  message: string;
}

export type Notification = RolloutNotification | OperatorNotification;

/** Work to do after a state write: history rows to append, notifications to publish (at least once). */
export type OutboxItem = { kind: 'history'; entry: HistoryEntry } | { kind: 'notify'; event: Notification };

/** The group an app adopted (`adoptGroup`), and with copySpec its definition: the app's template from then on. */
export interface AdoptionRecord {
  resourceGroup: string;
  group: string;
  /** When the definition was read. */
  readAt: string;
  /** The adopted group's spec as ARM showed it (it holds no secrets); set with copySpec. */
  definition?: GroupDefinition;
  /** Why the definition could not be read (e.g. the group no longer exists). */
  problem?: string;
}

export interface AppState {
  schemaVersion: 1;
  app: string;
  active?: ActiveDeployment;
  /** Absent in rows written before adoption copied specs, and for apps that adopt nothing. */
  adoption?: AdoptionRecord;
  /** The current rollout, or the last one when none is in progress. */
  rollout?: Rollout;
  queued?: QueuedPush;
  /** eventTime of the newest push that started or queued a rollout: older events are stale. */
  lastAppliedEventTime?: string;
  /** Registry login server, once learnt (status shows it). */
  registryLoginServer?: string;
  pendingDeletions: PendingDeletion[];
  /** Newest first, bounded; used to ignore duplicates without reading history. */
  recent: RecentRollout[];
  /** Pushes that started no rollout, newest first, at most IGNORED_MAX (absent in rows written before it). */
  ignored?: IgnoredPush[];
  outbox: OutboxItem[];
  /** Set by `pause`: pushes are queued (newest allowed wins) and start nothing until `resume`. */
  paused?: ActorNote;
  /** The previous group while the rollback window is open. */
  rollbackTarget?: RollbackTarget;
  /** Digests turned away (rolled back, failed verify), newest first: no automatic redeploy until retried. */
  rejected?: RejectedDigest[];
  /** Operator actions, newest first, at most ACTIONS_MAX. */
  actions?: ActionRecord[];
  lastRestartAt?: string;
  updatedAt: string;
}

export interface StoredAppState {
  app: string;
  state: AppState;
  etag: string;
}

export interface ReconcileChange {
  kind: 'secret' | 'dnsRecord' | 'groupDeleted' | 'groupRestarted' | 'rollout' | 'adopted';
  target: string;
  message: string;
}

export interface ReconcileIssue {
  scope:
    | 'resourceGroup'
    | 'vault'
    | 'secret'
    | 'dnsZone'
    | 'dnsRecord'
    | 'group'
    | 'rollout'
    | 'app'
    | 'watch'
    | 'store';
  target: string;
  message: string;
  retryable?: boolean;
}

/** What one catch-up run did (reconcile/catchUp.ts). */
export interface CatchUpRun {
  at: string;
  /** Repositories whose tags were listed. */
  checked: number;
  /** Pushes it found that no event had brought: rollouts started or queued. */
  found: Array<{ app: string; tag: string; digest: string; outcome: string; rolloutId?: string }>;
  /** Apps it could not check (listing failed), with why. */
  failed: Array<{ app: string; message: string }>;
}

export interface ReconcileResult {
  at: string;
  durationMs: number;
  changed: ReconcileChange[];
  errors: ReconcileIssue[];
  /** Findings that are not our failures: drift, a stopped active group, a missing group, orphans in grace. */
  warnings: ReconcileIssue[];
  /** Throttled calls seen this tick (429 or throttling codes), retried or not. */
  throttled: number;
  budgetExhausted: boolean;
  counts: {
    resourceGroups: number;
    groups: number;
    vaults: number;
    secretsChecked: number;
    writes: number;
    /**
     * Vaults listed in full this tick (the rest were remembered from the last audit: reconcile/vaultReads.ts),
     * and single secrets read afresh because their group disagreed with what was remembered. Absent in results
     * recorded before the secret mirror.
     */
    vaultsListed?: number;
    secretReads?: number;
    /** Private DNS zones listed and A records compared (absent in results recorded before DNS names). */
    dnsZones?: number;
    dnsRecordsChecked?: number;
  };
  /** The latest catch-up run, carried from tick to tick until the next one (absent while catch-up never ran). */
  catchUp?: CatchUpRun;
}

export const TIMELINE_MAX = 40;
export const RECENT_MAX = 25;

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function ms(isoTime: string | undefined): number | undefined {
  if (isoTime === undefined) return undefined;
  const v = Date.parse(isoTime);
  return Number.isNaN(v) ? undefined : v;
}
