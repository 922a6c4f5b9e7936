/**
 * The status document (`GET /api/status`, docs/design.md) from stored state + one list per resource group + one
 * secret-properties listing per vault. It never contains secret values or secure environment values: it
 * reads no values at all, and rollout state never holds them.
 */
import type { AppConfig } from '../config/appsConfig.js';
import type { DeployFreeze } from '../config/settings.js';
import { adoptionStatus } from './adoptionStatus.js';
import { deployGate } from './deployGate.js';
import { mapLimit } from './concurrency.js';
import type { DomainDeps } from './deps.js';
import { dnsView, readStatusDns } from './dnsStatus.js';
import type { DnsListings } from './dnsTargets.js';
import { errorMessage } from './errors.js';
import {
  SECRET_TAGS,
  ms,
  iso,
  type AppState,
  type CatchUpRun,
  type HistoryEntry,
  type ReconcileResult,
} from './model.js';
import type { ContainerGroupView } from './ports.js';
import type {
  AppStatus,
  HistoryStatus,
  RolloutStatus,
  StatusDocument,
  WatchedStatus,
} from './statusDocument.js';
import {
  readGroupListings,
  readSecretListings,
  resolveSecretTargets,
  resourceGroupsToList,
  secretInSync,
  secretProps,
  usableIp,
  vaultsOf,
  type GroupListings,
  type SecretListings,
  type SecretTarget,
} from './secretTargets.js';
import { digestOfImage } from './tagPolicy.js';
import { operatorStatus } from './operatorStatus.js';
import { conditions } from './statusConditions.js';
import { configStatus } from './configStatus.js';
import { secretChangeVaults } from './configDrift.js';

export interface StatusInput {
  config: DomainDeps['config'];
  states: ReadonlyMap<string, AppState>;
  history: ReadonlyMap<string, HistoryEntry[]>;
  listings: GroupListings;
  secrets: SecretListings;
  /** A-record listings of the Private DNS zones (absent: every app's `dns` shows the zone as not listed). */
  dns?: DnsListings;
  lastReconcile?: ReconcileResult;
  now: number;
  errors?: string[];
  /** Only this app (and no watched groups). */
  app?: string;
  /** DEPLOY_FREEZE while it holds. */
  deployFreeze?: DeployFreeze;
}

function rolloutStatus(state: AppState, now: number): RolloutStatus | null {
  const r = state.rollout;
  if (!r) return null;
  const started = ms(r.startedAt) ?? now;
  const shownState =
    r.state === 'inProgress' && (r.step === 'awaitingPromotion' || r.step === 'verifying') ? r.step : r.state;
  return {
    id: r.id,
    state: shownState,
    step: r.step,
    kind: r.kind ?? 'push',
    requestedBy: r.requestedBy ?? null,
    error: r.error?.message ?? null,
    reason: r.error?.reason ?? null,
    tag: r.tag,
    digest: r.digest,
    ...(r.platformDigest ? { platformDigest: r.platformDigest } : {}),
    ...(r.platform ? { platform: r.platform } : {}),
    group: r.group,
    colour: r.colour,
    startedAt: r.startedAt,
    updatedAt: r.updatedAt,
    finishedAt: r.finishedAt ?? null,
    durationMs: (ms(r.finishedAt) ?? now) - started,
    waiting: r.waiting?.message ?? null,
    transient: r.transient
      ? {
          since: r.transient.since,
          attempts: r.transient.attempts,
          lastError: r.transient.lastError,
          nextRetryAt: r.transient.nextRetryAt ?? r.resumeAt ?? null,
        }
      : null,
    lastHealth: r.lastHealth ?? null,
    verify: r.verify ? { ...r.verify, last: r.verify.last ?? null } : null,
    timeline: r.timeline,
  };
}

function historyStatus(h: HistoryEntry): HistoryStatus {
  return {
    rolloutId: h.rolloutId,
    tag: h.tag,
    digest: h.digest,
    outcome: h.outcome,
    reason: h.reason ?? null,
    message: h.message ?? null,
    group: h.group,
    startedAt: h.startedAt,
    finishedAt: h.finishedAt,
    durationMs: h.durationMs,
    kind: h.kind ?? 'push',
    requestedBy: h.requestedBy ?? null,
  };
}

function secretState(
  t: SecretTarget | undefined,
  secrets: SecretListings,
): { inSync: boolean; ip: string | null; problem: string | null } {
  if (!t) return { inSync: false, ip: null, problem: 'no active group yet' };
  const props = secretProps(secrets, t);
  if (!props.ok) return { inSync: false, ip: null, problem: `vault listing failed: ${props.error}` };
  const ip = props.value?.tags[SECRET_TAGS.ip] ?? null;
  if (!t.listed) return { inSync: false, ip, problem: 'resource group listing failed' };
  const usable = usableIp(t);
  if ('problem' in usable) return { inSync: false, ip, problem: usable.problem };
  const inSync = secretInSync(props.value, t.desiredTags(usable.ip));
  return { inSync, ip, problem: props.value ? null : 'secret does not exist yet' };
}

/** The digest the active group runs, when it is not the pushed one (a platform manifest of a pushed index). */
function platformDigestOf(active: AppState['active']): { platformDigest?: string } {
  const running = active?.image ? digestOfImage(active.image) : undefined;
  return running && running !== active?.digest ? { platformDigest: running } : {};
}

function appStatus(app: AppConfig, input: StatusInput, target: SecretTarget | undefined): AppStatus {
  const state = input.states.get(app.name);
  const active = state?.active;
  const group: ContainerGroupView | undefined = target?.group;
  const secret = secretState(target, input.secrets);
  const gate = deployGate(app, input.deployFreeze, input.now);
  const warnings = (input.lastReconcile?.warnings ?? [])
    .filter((w) => active && w.target === `${active.resourceGroup}/${active.group}`)
    .map((w) => w.message);
  const status: AppStatus = {
    name: app.name,
    registry: app.registry.name,
    registryLoginServer: state?.registryLoginServer ?? null,
    registryResourceId: app.registry.resourceId,
    repository: app.repository,
    resourceGroup: app.resourceGroup,
    activeColor: active?.colour ?? null,
    activeGroup: active?.group ?? null,
    ip: group?.ip ?? null,
    digest: active?.digest ?? null,
    ...platformDigestOf(active),
    tag: active?.tag ?? null,
    provisioningState: group?.provisioningState ?? null,
    secret: { name: app.secret.name, vaultUrl: app.secret.vaultUrl, ...secret },
    rollout: state ? rolloutStatus(state, input.now) : null,
    queued: state?.queued
      ? { tag: state.queued.tag, digest: state.queued.digest, receivedAt: state.queued.receivedAt }
      : null,
    pendingDeletions: (state?.pendingDeletions ?? []).map((p) => ({
      group: p.group,
      notBefore: p.notBefore,
      reason: p.reason,
    })),
    history: (input.history.get(app.name) ?? []).map(historyStatus),
    ignored: (state?.ignored ?? []).map((i) => ({
      at: i.at,
      eventId: i.eventId,
      tag: i.tag,
      digest: i.digest,
      outcome: i.outcome,
      reason: i.reason,
    })),
    conditions: [],
    warnings,
    ...operatorStatus(app, state, input.now, gate),
    adoption: adoptionStatus(app, state),
    config: configStatus(app, state, group, input.secrets, gate),
    held: gate.held
      ? {
          reason: gate.reason,
          until: gate.until !== undefined ? iso(gate.until) : null,
          message: gate.message,
        }
      : null,
  };
  status.conditions = conditions(status, state);
  return status;
}

/** Catch-up's schedule: never run yet means the next tick runs it. */
function catchUpStatus(
  everySeconds: number,
  run: CatchUpRun | undefined,
  now: number,
): StatusDocument['catchUp'] {
  const last = ms(run?.at);
  return {
    everySeconds,
    lastRun: run ?? null,
    nextAt: everySeconds > 0 ? iso(last !== undefined ? last + everySeconds * 1000 : now) : null,
  };
}

/** Pure: build the document from what was read. */
export function buildStatus(input: StatusInput): StatusDocument {
  const { config } = input;
  const { targets } = resolveSecretTargets(config, input.states, input.listings);
  const appTargets = new Map(targets.filter((t) => t.kind === 'app' && t.app).map((t) => [t.app!.name, t]));
  const dns = dnsView(config, input.states, input.listings, input.dns);
  const apps = config.apps
    .filter((a) => input.app === undefined || a.name === input.app)
    .map((a) => dns.withDns(appStatus(a, input, appTargets.get(a.name)), a));
  const watched: WatchedStatus[] =
    input.app !== undefined
      ? []
      : targets
          .filter((t) => t.kind === 'watched')
          .map((t) => {
            const s = secretState(t, input.secrets);
            return {
              resourceGroup: t.resourceGroup,
              name: t.groupName,
              ip: t.group?.ip ?? null,
              secret: t.secretName,
              vaultUrl: t.vaultUrl,
              inSync: s.inSync,
              source: t.source === 'tag' ? 'tag' : 'config',
              provisioningState: t.group?.provisioningState ?? null,
              problem: s.problem,
            };
          });
  const lr = input.lastReconcile;
  return {
    generatedAt: iso(input.now),
    apps,
    watched,
    watchedDns: input.app !== undefined ? [] : dns.watched(),
    lastReconcile: lr
      ? {
          at: lr.at,
          durationMs: lr.durationMs,
          changed: lr.changed,
          errors: lr.errors,
          warnings: lr.warnings,
          throttled: lr.throttled,
        }
      : null,
    catchUp: catchUpStatus(config.reconcile.catchUpSeconds, lr?.catchUp, input.now),
    configErrors: config.errors,
    refusedApps: config.refusedApps.map((r) => ({ name: r.name, errors: r.errors })),
    errors: input.errors ?? [],
  };
}

export interface CollectOptions {
  /** Only this app: lists only its resource group and vault. */
  app?: string;
  historyLimit?: number;
}

/** Read what status needs (one list per resource group, one listing per vault) and build the document. */
export async function collectStatus(deps: DomainDeps, options: CollectOptions = {}): Promise<StatusDocument> {
  const { config, rolloutStore } = deps;
  const errors: string[] = [];
  const apps = config.apps.filter((a) => options.app === undefined || a.name === options.app);
  const states = new Map<string, AppState>();
  try {
    for (const s of await rolloutStore.list()) states.set(s.app, s.state);
  } catch (e) {
    errors.push(`rollout state: ${errorMessage(e)}`);
  }
  const rgs =
    options.app === undefined
      ? resourceGroupsToList(config)
      : [
          ...new Set(
            apps.flatMap((a) => [
              a.resourceGroup,
              states.get(a.name)?.active?.resourceGroup ?? a.resourceGroup,
            ]),
          ),
        ];
  const listings = await readGroupListings(
    rgs,
    (rg) => deps.containerGroups.listByResourceGroup(rg),
    (rg, e) => errors.push(`resource group ${rg}: ${errorMessage(e)}`),
  );
  const scopedConfig =
    options.app === undefined ? config : { ...config, apps, watch: { resourceGroups: [], groups: [] } };
  const { targets } = resolveSecretTargets(scopedConfig, states, listings);
  const vaults = [...new Set([...vaultsOf(targets), ...secretChangeVaults(scopedConfig, states)])];
  const secrets = await readSecretListings(
    vaults,
    (v) => deps.secrets.listIpSecrets(v),
    (v, e) => errors.push(`vault ${v}: ${errorMessage(e)}`),
  );
  const dns = await readStatusDns(deps, scopedConfig, states, listings, errors);
  const history = new Map<string, HistoryEntry[]>();
  const limit = options.historyLimit ?? 10;
  const hist = await mapLimit(apps, 4, (a) => rolloutStore.listHistory(a.name, limit));
  hist.forEach((r, i) => {
    const a = apps[i]!;
    if (r.ok) history.set(a.name, r.value);
    else errors.push(`history of ${a.name}: ${errorMessage(r.error)}`);
  });
  let lastReconcile: ReconcileResult | undefined;
  try {
    lastReconcile = await rolloutStore.getLastReconcile();
  } catch (e) {
    errors.push(`last reconcile: ${errorMessage(e)}`);
  }
  return buildStatus({
    config: scopedConfig,
    states,
    history,
    listings,
    secrets,
    dns,
    ...(lastReconcile ? { lastReconcile } : {}),
    now: deps.clock.now(),
    errors,
    ...(deps.deployFreeze ? { deployFreeze: deps.deployFreeze } : {}),
    ...(options.app !== undefined ? { app: options.app } : {}),
  });
}

/** Find one app in a document: the app, a refused app's errors, or undefined (→ 404). */
export function selectApp(
  doc: StatusDocument,
  name: string,
): { kind: 'app'; app: AppStatus } | { kind: 'refused'; name: string; errors: string[] } | undefined {
  const app = doc.apps.find((a) => a.name === name);
  if (app) return { kind: 'app', app };
  const refused = doc.refusedApps.find((r) => r.name === name);
  return refused ? { kind: 'refused', ...refused } : undefined;
}
