/**
 * The status document's shape: what `GET /api/status` answers and the dashboard renders (docs/design.md, "Status
 * JSON"). Fields may be added; none of those the design fixes may be removed or renamed. It never carries secret
 * values, secure environment values, keys or tokens.
 */
import type { ConfigError } from '../config/appsConfig.js';
import type { AdoptionStatus } from './adoptionStatus.js';
import type { SecretDrift } from './configDrift.js';
import type {
  ActionRecord,
  ActorNote,
  CatchUpRun,
  Condition,
  OperatorAction,
  RejectedDigest,
  RolloutKind,
  FailureReason,
  HistoryEntry,
  IgnoredPush,
  ReconcileResult,
  RolloutState,
  RolloutStep,
} from './model.js';

export interface StatusCondition {
  type: 'Available' | 'SecretInSync' | 'DnsInSync' | 'Progressing' | 'Degraded';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/**
 * A rollout's state as status shows it: the stored state, except that a rollout in progress waiting for promotion
 * or being verified says so (`awaitingPromotion`, `verifying`), as the operator contract names them.
 */
export type RolloutStatusState = RolloutState | 'awaitingPromotion' | 'verifying';

export interface RolloutStatus {
  id: string;
  state: RolloutStatusState;
  step: RolloutStep;
  /** `push` unless an operator started it (rollback, retry, redeploy). */
  kind: RolloutKind;
  requestedBy: ActorNote | null;
  error: string | null;
  reason: FailureReason | null;
  tag: string;
  /** The pushed digest (the rollout's identity). */
  digest: string;
  /** For a pushed image index: the digest of the platform manifest the group runs (once resolved). */
  platformDigest?: string;
  /** The platform resolved from the index, e.g. linux/amd64. */
  platform?: string;
  group: string;
  colour: string;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  durationMs: number;
  waiting: string | null;
  /**
   * The current step failed transiently (after the per-call retries): since when, attempts, the last error and
   * when it runs again. Null while the step goes well.
   */
  transient: { since: string; attempts: number; lastError: string; nextRetryAt: string | null } | null;
  lastHealth: string | null;
  /** The check after the switch, while and after it ran. */
  verify: { startedAt: string; probes: number; failures: number; last: string | null } | null;
  timeline: Condition[];
}

export interface HistoryStatus {
  rolloutId: string;
  tag: string;
  digest: string;
  outcome: HistoryEntry['outcome'];
  reason: string | null;
  message: string | null;
  group: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  kind: RolloutKind;
  requestedBy: ActorNote | null;
}

/** What operators see and may do (docs/design.md, "Operator actions"). */
export interface OperatorStatus {
  /** Who paused the app and why; pushes are queued until resume. */
  paused: ActorNote | null;
  /** Manual promotion: the waiting group's IP, as written to the preview secret. */
  previewIp: string | null;
  previewSecret: string | null;
  /** The previous group while the rollback window is open. */
  rollbackTarget: {
    group: string;
    resourceGroup: string;
    digest: string | null;
    tag: string | null;
    until: string;
  } | null;
  /** Digests turned away from automatic redeploys (rolled back, failed verify) until retried. */
  rejected: RejectedDigest[];
  /** The app's action log, newest first. */
  actions: ActionRecord[];
  /** Actions that apply now (judged from the stored state; Azure is re-checked when one is taken). */
  availableActions: OperatorAction[];
}

/** An app's DNS name (docs/design.md, contracts: `dns` = name, record IP, inSync). */
export interface AppDnsStatus {
  /** The name callers use, e.g. `web.apps.internal`. */
  name: string;
  zoneId: string;
  /** The record's address now (its first, if several); null when it does not exist or could not be read. */
  recordIp: string | null;
  /** The TTL the record is kept at. */
  ttlSeconds: number;
  /** The record holds exactly the active group's IP, with that TTL. */
  inSync: boolean;
  problem: string | null;
}

/** A watched group's record (tag `ip-dns`). */
export interface WatchedDnsStatus {
  resourceGroup: string;
  name: string;
  dnsName: string;
  zoneId: string;
  ip: string | null;
  recordIp: string | null;
  inSync: boolean;
  source: 'tag' | 'app';
  state: string | null;
  problem: string | null;
}

/** Does the active group match the app's config (configDrift.ts)? */
export interface ConfigStatus {
  state: 'inSync' | 'drift' | 'unknown';
  /** `config-hash` the config asks for now, and the one the active group carries. */
  desiredHash: string | null;
  activeHash: string | null;
  rolloutOnConfigChange: boolean;
  rolloutOnSecretChange: boolean;
  /** What differs, in words. */
  changes: string[];
  /** The secrets' versions (with rolloutOnSecretChange): the group's and the vault's current one. */
  secrets: SecretDrift[];
  /** In sync, why unknown, or what happens about the drift (rolls out, waits, opted out). */
  message: string;
}

/** Why deploys of an app wait now: DEPLOY_FREEZE, or outside its deploy windows. */
export interface HeldStatus {
  reason: 'freeze' | 'window';
  /** When the hold ends, if known (the next window opening, the freeze's end). */
  until: string | null;
  /** `held: freeze` / `held: outside deploy window until …`. */
  message: string;
}

export interface AppStatus extends OperatorStatus {
  name: string;
  /** The registry's name, as configured (`contoso`): always, before and after the first deploy. */
  registry: string;
  /** The registry's login server (`contoso.azurecr.io`) once a rollout has read it, else null. */
  registryLoginServer: string | null;
  registryResourceId: string;
  repository: string;
  resourceGroup: string;
  activeColor: string | null;
  activeGroup: string | null;
  ip: string | null;
  /** The pushed digest of what is active. */
  digest: string | null;
  /** When the active push was an image index: the digest of the platform manifest the group runs. */
  platformDigest?: string;
  tag: string | null;
  /**
   * Of the active group, from the resource group's list. Lists carry no instance view (ACI leaves it out of
   * ContainerGroups_ListByResourceGroup), so status has no group state (Running, Stopped) to show: the
   * `Available` condition judges by provisioning state and IP, and reconcile GETs a group whose list entry is in
   * doubt.
   */
  provisioningState: string | null;
  secret: { name: string; vaultUrl: string; inSync: boolean; ip: string | null; problem: string | null };
  rollout: RolloutStatus | null;
  queued: { tag: string; digest: string; receivedAt: string } | null;
  pendingDeletions: Array<{ group: string; notBefore: string; reason: string }>;
  history: HistoryStatus[];
  /** The latest pushes that started no rollout (duplicate, stale, tag not allowed), newest first. */
  ignored: IgnoredPush[];
  conditions: StatusCondition[];
  /** Reconcile warnings about this app's groups (drift, not Running). */
  warnings: string[];
  /** The group it adopts (`adoptGroup`) and, with copySpec, the template copied from it; null without adoptGroup. */
  adoption?: AdoptionStatus | null;
  /** The app's Private DNS name, null without `dns` in its config. */
  dns?: AppDnsStatus | null;
  /** Null when a deploy may start now; pushes, catch-up, config changes, retries and redeploys wait otherwise. */
  held?: HeldStatus | null;
  /** Desired state beyond the image: the config the active group was created from against today's. */
  config?: ConfigStatus;
}

export interface WatchedStatus {
  resourceGroup: string;
  name: string;
  ip: string | null;
  secret: string;
  vaultUrl: string;
  inSync: boolean;
  source: 'tag' | 'config';
  /** From the list, as for apps (`AppStatus.provisioningState`): lists carry no instance state. */
  provisioningState: string | null;
  problem: string | null;
}

export interface StatusDocument {
  generatedAt: string;
  apps: AppStatus[];
  watched: WatchedStatus[];
  /** Groups whose IP is kept in a Private DNS record (tag `ip-dns`). */
  watchedDns?: WatchedDnsStatus[];
  lastReconcile: Pick<
    ReconcileResult,
    'at' | 'durationMs' | 'changed' | 'errors' | 'warnings' | 'throttled'
  > | null;
  /** Catch-up (pushes no event brought): how often, the latest run and when the next is due. */
  catchUp?: { everySeconds: number; lastRun: CatchUpRun | null; nextAt: string | null };
  configErrors: ConfigError[];
  /** Apps refused by config validation (not deployed until fixed). */
  refusedApps: Array<{ name: string; errors: string[] }>;
  /** Problems reading the data this document is built from. */
  errors: string[];
}
