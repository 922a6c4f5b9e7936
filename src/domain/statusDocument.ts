/**
 * The status document's shape: what `GET /api/status` answers and the dashboard renders (docs/design.md, "Status
 * JSON"). Fields may be added; none of those the design fixes may be removed or renamed. It never carries secret
 * values, secure environment values, keys or tokens.
 */
import type { ConfigError } from '../config/appsConfig.js';
import type {
  Condition,
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

export interface RolloutStatus {
  id: string;
  state: RolloutState;
  step: RolloutStep;
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
  lastHealth: string | null;
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

export interface AppStatus {
  name: string;
  /** Login server when known (learnt at the first rollout), else the registry name. */
  registry: string;
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
  groupState: string | null;
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
  /** The app's Private DNS name, null without `dns` in its config. */
  dns?: AppDnsStatus | null;
}

export interface WatchedStatus {
  resourceGroup: string;
  name: string;
  ip: string | null;
  secret: string;
  vaultUrl: string;
  inSync: boolean;
  source: 'tag' | 'config';
  state: string | null;
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
  configErrors: ConfigError[];
  /** Apps refused by config validation (not deployed until fixed). */
  refusedApps: Array<{ name: string; errors: string[] }>;
  /** Problems reading the data this document is built from. */
  errors: string[];
}
