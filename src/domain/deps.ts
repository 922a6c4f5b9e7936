/** What every domain entry point receives: config, ports, and tunables (defaults suit Azure). */
import type { AppConfig, AppsConfig } from '../config/appsConfig.js';
import type { DeployFreeze } from '../config/settings.js';
import type {
  Clock,
  ContainerGroups,
  DnsRecords,
  HealthProbe,
  Logger,
  Notifier,
  Registries,
  RegistryManifests,
  RolloutStore,
  Secrets,
  ThrottleMeter,
} from './ports.js';
import type { SecretMirror } from './secretMirror.js';

export interface DomainOptions {
  /** How often to re-read a group while waiting for it (Running, deleted). */
  pollIntervalMs: number;
  /** A step failing with transient errors for this long fails the rollout (pre-switch). */
  transientGiveUpMs: number;
  /** Re-issue a delete that has not completed after this long. */
  deleteReissueMs: number;
  /** Reconcile restarts an unhealthy active group at most this often. */
  restartCooldownMs: number;
  /** In-call retries of a transient write (secret set) in reconcile; 429 without Retry-After included. */
  writeRetries: number;
  retryBaseMs: number;
  /** Margin kept before a deadline (a step is not started with less than this left). */
  deadlineMarginMs: number;
  /** Longest single health probe. */
  probeTimeoutMaxMs: number;
}

export const DEFAULT_OPTIONS: DomainOptions = Object.freeze({
  pollIntervalMs: 3_000,
  transientGiveUpMs: 10 * 60_000,
  deleteReissueMs: 5 * 60_000,
  restartCooldownMs: 10 * 60_000,
  writeRetries: 3,
  retryBaseMs: 500,
  deadlineMarginMs: 500,
  probeTimeoutMaxMs: 10_000,
});

export interface DomainDeps {
  config: AppsConfig;
  containerGroups: ContainerGroups;
  registries: Registries;
  /** The registries' data plane, to resolve a pushed image index to the app's platform. */
  registryManifests: RegistryManifests;
  secrets: Secrets;
  /** Private DNS A records of the apps and watched groups that have DNS names. */
  dnsRecords: DnsRecords;
  rolloutStore: RolloutStore;
  healthProbe: HealthProbe;
  notifier?: Notifier;
  clock: Clock;
  logger: Logger;
  options?: Partial<DomainOptions>;
  /** DEPLOY_FREEZE while it holds: no deploy starts for any app (deployGate.ts). */
  deployFreeze?: DeployFreeze;
  /** Uniform in [0, 1) for backoff jitter; Math.random when absent, seeded in tests so a run can be replayed. */
  random?: () => number;
  /** Counts throttled answers the adapters retried by themselves (reconcile reports them); absent in fakes. */
  throttleMeter?: ThrottleMeter;
  /**
   * What the IP vaults held at the last audit, kept across ticks by the runtime (one per process); absent →
   * every tick lists every vault.
   */
  secretMirror?: SecretMirror;
}

export function randomOf(deps: DomainDeps): () => number {
  return deps.random ?? Math.random;
}

export function optionsOf(deps: DomainDeps): DomainOptions {
  return { ...DEFAULT_OPTIONS, ...deps.options };
}

export function findApp(config: AppsConfig, name: string): AppConfig | undefined {
  return config.apps.find((a) => a.name === name);
}

/** A point in time to stop by (epoch ms). */
export interface Budget {
  deadline: number;
  /**
   * The longest wait a run may sleep through in-process; a longer one is recorded (`resumeAt`) and returned, for
   * the timer to resume. Default: any wait that ends before the deadline. An operator's request uses 0, so it
   * answers as soon as its effect has taken place instead of sleeping through a drain.
   */
  maxSleepMs?: number;
}

export function budgetFrom(clock: Clock, seconds: number): Budget {
  return { deadline: clock.now() + seconds * 1000 };
}
