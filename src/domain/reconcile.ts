/**
 * One reconcile tick: read everything in as few calls as possible (one paged list per resource group, one
 * listing of secret properties per vault, one query of rollout states), then write only what is stale.
 *
 *  - managed apps: secret = active group's IP; watched groups: the same for tagged / configured groups
 *  - never blank a secret: a missing, stopped or IP-less group is reported and its secret left alone
 *  - resume unfinished rollouts, delete drained / failed / superseded groups whose time has come, within a
 *    slice of the tick (after every secret is synced): a rollout waiting past the slice returns and the next
 *    tick resumes it, so a health gate or a drain never holds back the next tick's IP fixes
 *  - remove orphans (groups tagged as ours that no rollout refers to, past a grace period)
 *  - report drift and non-Running active groups (optionally restart them)
 * One failing vault or group never stops the rest; the result is recorded for status.
 */
import { DEFAULT_ROLLOUT_SLICE_SECONDS } from '../config/settings.js';
import type { AppConfig } from '../config/appsConfig.js';
import { mapLimit, withRetry } from './concurrency.js';
import { findApp, optionsOf, type Budget, type DomainDeps } from './deps.js';
import { TerminalError, TransientError, errorMessage, isRetryable } from './errors.js';
import { appContainerNames } from './groupSpec.js';
import {
  GROUP_TAGS,
  MANAGED_BY,
  SECRET_TAGS,
  iso,
  ms,
  type AppState,
  type ReconcileChange,
  type ReconcileIssue,
  type ReconcileResult,
} from './model.js';
import type { ContainerGroupView } from './ports.js';
import { inProgress, newAppState } from './appState.js';
import { adoptedActive } from './rollout/adoption.js';
import { advance, needsAdvance } from './rollout/runner.js';
import {
  READ_CONCURRENCY,
  readGroupListings,
  readSecretListings,
  resolveSecretTargets,
  resourceGroupsToList,
  rgKey,
  secretInSync,
  secretProps,
  usableIp,
  vaultsOf,
  type GroupListings,
  type SecretListings,
  type SecretTarget,
} from './secretTargets.js';

export interface ReconcileOptions {
  /**
   * How long the tick may advance unfinished rollouts (concurrently, `reconcile.writeConcurrency` at a time). The
   * timer runs one tick at a time, so a tick that outlasts the schedule's interval delays the next IP fix.
   */
  rolloutSliceSeconds?: number;
}

interface Tick {
  deps: DomainDeps;
  budget: Budget;
  changed: ReconcileChange[];
  errors: ReconcileIssue[];
  warnings: ReconcileIssue[];
  throttled: number;
  writes: number;
  budgetExhausted: boolean;
}

function note(tick: Tick, e: unknown): void {
  if (e instanceof TransientError && e.throttled) tick.throttled++;
}

function timeLeft(tick: Tick): boolean {
  const left = tick.budget.deadline - tick.deps.clock.now() > optionsOf(tick.deps).deadlineMarginMs;
  if (!left) tick.budgetExhausted = true;
  return left;
}

function retrying<T>(tick: Tick, fn: () => Promise<T>): Promise<T> {
  const o = optionsOf(tick.deps);
  return withRetry(fn, {
    retries: o.writeRetries,
    baseMs: o.retryBaseMs,
    deadline: tick.budget.deadline,
    clock: tick.deps.clock,
    onThrottled: () => tick.throttled++,
  });
}

export async function reconcile(
  deps: DomainDeps,
  budget: Budget,
  options: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const { clock, config, logger } = deps;
  const started = clock.now();
  const tick: Tick = {
    deps,
    budget,
    changed: [],
    errors: [],
    warnings: [],
    throttled: 0,
    writes: 0,
    budgetExhausted: false,
  };

  // ---- read: rollout states, one list per resource group
  const states = new Map<string, AppState>();
  const etags = new Map<string, string>();
  try {
    for (const s of await deps.rolloutStore.list()) {
      states.set(s.app, s.state);
      etags.set(s.app, s.etag);
    }
  } catch (e) {
    note(tick, e);
    tick.errors.push({
      scope: 'store',
      target: 'rollouts',
      message: `cannot read rollout state: ${errorMessage(e)}`,
      retryable: isRetryable(e),
    });
  }
  const rgs = resourceGroupsToList(config);
  // retrying() counts every throttled attempt, the last one included: a failed list is not counted again.
  const listings = await readGroupListings(
    rgs,
    (rg) => retrying(tick, () => deps.containerGroups.listByResourceGroup(rg)),
    (rg, e) =>
      tick.errors.push({
        scope: 'resourceGroup',
        target: rg,
        message: `list failed: ${errorMessage(e)}`,
        retryable: isRetryable(e),
      }),
  );

  // ---- adoption: an app with adoptGroup and nothing active yet takes the listed group as its active one
  if (!tick.errors.some((e) => e.scope === 'store'))
    for (const app of config.apps) await adopt(tick, app, listings, states, etags);

  // ---- secrets: targets, one listing per vault, write what is stale
  const { targets, problems } = resolveSecretTargets(config, states, listings);
  tick.warnings.push(...problems);
  await inspectDoubtfulActiveGroups(tick, targets);
  const vaults = vaultsOf(targets);
  const secretListings = await readSecretListings(
    vaults,
    (v) => retrying(tick, () => deps.secrets.listIpSecrets(v, { onThrottled: () => tick.throttled++ })),
    (v, e) =>
      tick.errors.push({
        scope: 'vault',
        target: v,
        message: `listing secrets failed: ${errorMessage(e)}`,
        retryable: isRetryable(e),
      }),
  );
  await syncSecrets(tick, targets, secretListings, states);

  // ---- active groups: drift, not Running (optional restart)
  for (const t of targets) {
    if (t.kind !== 'app' || !t.app || !t.active || !t.group) continue;
    await checkActiveGroup(tick, t.app, t.group, states, etags);
  }

  // ---- orphans (each confirmed against the stored state before it is deleted)
  await removeOrphans(tick, listings, states);

  // ---- resume rollouts, delete due groups: last, within the slice (every secret is already synced)
  const toAdvance = config.apps
    .filter((a) => {
      const s = states.get(a.name);
      return s !== undefined && needsAdvance(s, clock.now());
    })
    // Least recently written first: an app the slice did not reach last time goes before the ones it did.
    .sort((a, b) => (ms(states.get(a.name)!.updatedAt) ?? 0) - (ms(states.get(b.name)!.updatedAt) ?? 0));
  const sliceMs = (options.rolloutSliceSeconds ?? DEFAULT_ROLLOUT_SLICE_SECONDS) * 1000;
  const slice: Budget = { deadline: Math.min(budget.deadline, clock.now() + sliceMs) };
  let deferred = 0;
  await mapLimit(toAdvance, config.reconcile.writeConcurrency, async (app) => {
    if (!timeLeft(tick)) return;
    if (slice.deadline - clock.now() <= optionsOf(deps).deadlineMarginMs) {
      deferred++;
      return;
    }
    const before = states.get(app.name)!;
    const res = await advance(app.name, deps, slice);
    if (res.state) states.set(app.name, res.state);
    if (res.error)
      tick.errors.push({ scope: 'rollout', target: app.name, message: res.error, retryable: true });
    const b = before.rollout;
    const a = res.state?.rollout;
    if (a && (a.id !== b?.id || a.step !== b.step || a.state !== b.state))
      tick.changed.push({
        kind: 'rollout',
        target: app.name,
        message: `${a.id}: ${b?.id === a.id ? `${b.step} → ` : ''}${a.step} (${a.state})${a.error ? `: ${a.error.message}` : ''}`,
      });
    if (
      before.pendingDeletions.length > (res.state?.pendingDeletions.length ?? before.pendingDeletions.length)
    )
      tick.changed.push({
        kind: 'groupDeleted',
        target: app.name,
        message: 'leftover group(s) of failed/superseded rollouts deleted',
      });
  });

  if (deferred > 0) logger.info(`reconcile: ${deferred} rollout(s) left for the next tick (slice spent)`);

  const result: ReconcileResult = {
    at: iso(started),
    durationMs: clock.now() - started,
    changed: tick.changed,
    errors: tick.errors,
    warnings: tick.warnings,
    throttled: tick.throttled,
    budgetExhausted: tick.budgetExhausted,
    counts: {
      resourceGroups: rgs.length,
      groups: [...listings.values()].reduce((n, l) => n + (l.ok ? l.value.length : 0), 0),
      vaults: vaults.length,
      secretsChecked: targets.length,
      writes: tick.writes,
    },
  };
  try {
    await deps.rolloutStore.recordReconcile(result);
  } catch (e) {
    logger.warn(`could not record the reconcile result: ${errorMessage(e)}`);
  }
  const summary = `reconcile: ${result.changed.length} changed, ${result.errors.length} errors, ${result.warnings.length} warnings, ${result.throttled} throttled in ${result.durationMs} ms`;
  if (result.errors.length > 0) logger.warn(summary, { errors: result.errors });
  else logger.info(summary);
  return result;
}

/**
 * ARM list responses carry no instanceView, so a listed group's state is unknown. An active group that lists
 * with an IP and provisioningState Succeeded is taken as serving; only the doubtful ones (no IP, or not
 * Succeeded) are read one by one, to report (and optionally restart) them precisely. Nothing stale → no GETs.
 */
async function inspectDoubtfulActiveGroups(tick: Tick, targets: SecretTarget[]): Promise<void> {
  const doubtful = targets.filter(
    (t) =>
      t.kind === 'app' &&
      t.group !== undefined &&
      t.group.state === undefined &&
      (!t.group.ip || t.group.provisioningState !== 'Succeeded'),
  );
  const got = await mapLimit(doubtful, READ_CONCURRENCY, (t) =>
    retrying(tick, () => tick.deps.containerGroups.get(t.resourceGroup, t.groupName)),
  );
  got.forEach((r, i) => {
    const t = doubtful[i]!;
    // A failure keeps the listed view; retrying() already counted its throttled attempts.
    if (r.ok) {
      if (r.value) t.group = r.value;
      else delete t.group;
    }
  });
}

async function adopt(
  tick: Tick,
  app: AppConfig,
  listings: GroupListings,
  states: Map<string, AppState>,
  etags: Map<string, string>,
): Promise<void> {
  const { deps } = tick;
  const existing = states.get(app.name);
  // Not while a rollout runs: its switch decides what is active.
  if (!app.adoptGroup || existing?.active || inProgress(existing)) return;
  const l = listings.get(rgKey(app.resourceGroup));
  if (!l?.ok) return;
  const g = l.value.find((x) => x.name === app.adoptGroup);
  if (!g) {
    tick.warnings.push({
      scope: 'app',
      target: app.name,
      message: `adoptGroup ${app.resourceGroup}/${app.adoptGroup} not found`,
    });
    return;
  }
  const now = deps.clock.now();
  const state: AppState = {
    ...(existing ? structuredClone(existing) : newAppState(app.name, now)),
    active: adoptedActive(app, g, now),
    updatedAt: iso(now),
  };
  try {
    const etag = etags.get(app.name);
    etags.set(
      app.name,
      existing && etag
        ? await deps.rolloutStore.replace(app.name, state, etag)
        : await deps.rolloutStore.create(app.name, state),
    );
    states.set(app.name, state);
    tick.changed.push({
      kind: 'adopted',
      target: app.name,
      message: `adopted ${app.resourceGroup}/${g.name} as the active group`,
    });
  } catch (e) {
    tick.warnings.push({ scope: 'app', target: app.name, message: `adoption deferred: ${errorMessage(e)}` });
  }
}

async function syncSecrets(
  tick: Tick,
  targets: SecretTarget[],
  secretListings: SecretListings,
  states: ReadonlyMap<string, AppState>,
): Promise<void> {
  const { deps } = tick;
  const writes: Array<{ t: SecretTarget; ip: string; oldIp?: string; fetch: boolean }> = [];
  for (const t of targets) {
    // During a switch the rollout owns the secret.
    if (t.kind === 'app' && t.app && inProgress(states.get(t.app.name))?.step === 'switching') continue;
    if (!t.listed) continue; // the list error is already reported
    const ip = usableIp(t);
    if ('problem' in ip) {
      tick.warnings.push({
        scope: 'group',
        target: `${t.resourceGroup}/${t.groupName}`,
        message: ip.problem,
      });
      continue;
    }
    const props = secretProps(secretListings, t);
    if (!props.ok) continue; // vault error reported
    if (secretInSync(props.value, t.desiredTags(ip.ip))) continue;
    const oldIp = props.value?.tags[SECRET_TAGS.ip];
    writes.push({ t, ip: ip.ip, ...(oldIp ? { oldIp } : {}), fetch: props.value !== undefined && !oldIp });
  }
  await mapLimit(writes, deps.config.reconcile.writeConcurrency, async (w) => {
    const { t } = w;
    const target = `${t.vaultUrl}/secrets/${t.secretName}`;
    if (!timeLeft(tick)) return;
    try {
      let old = w.oldIp;
      // No mirrored tag yet: read the value once, to report what really changed.
      if (w.fetch) old = await retrying(tick, () => deps.secrets.getValue(t.vaultUrl, t.secretName));
      await retrying(tick, () => deps.secrets.set(t.vaultUrl, t.secretName, w.ip, t.desiredTags(w.ip)));
      tick.writes++;
      tick.changed.push({
        kind: 'secret',
        target,
        message:
          old === w.ip
            ? `${t.secretName}: tags refreshed (${w.ip}, ${t.groupName})`
            : `${t.secretName}: ${old ?? '(new)'} → ${w.ip} (${t.resourceGroup}/${t.groupName})`,
      });
    } catch (e) {
      tick.errors.push({
        scope: 'secret',
        target,
        message: `write failed: ${errorMessage(e)}`,
        retryable: isRetryable(e),
      });
    }
  });
}

async function checkActiveGroup(
  tick: Tick,
  app: AppConfig,
  g: ContainerGroupView,
  states: Map<string, AppState>,
  etags: Map<string, string>,
): Promise<void> {
  const { deps } = tick;
  const state = states.get(app.name);
  const active = state?.active;
  if (!state || !active) return;
  const where = `${g.resourceGroup}/${g.name}`;
  if (active.image) {
    const names = appContainerNames(app);
    const running = g.containers.filter((c) => names.includes(c.name)).map((c) => c.image);
    const drifted = running.filter((img) => img !== active.image);
    if (drifted.length > 0)
      tick.warnings.push({
        scope: 'group',
        target: where,
        message: `drift: ${where} runs ${drifted.join(', ')}, the rollout recorded ${active.image}`,
      });
  }
  if (g.state === undefined || g.state === 'Running' || g.state === 'Pending') return;
  tick.warnings.push({
    scope: 'group',
    target: where,
    message: `active group ${where} is ${g.state}, not Running`,
  });
  if (!app.restartUnhealthy) return;
  const o = optionsOf(deps);
  const now = deps.clock.now();
  const last = ms(state.lastRestartAt);
  if (last !== undefined && now - last < o.restartCooldownMs) return;
  const etag = etags.get(app.name);
  if (!etag || !timeLeft(tick)) return;
  try {
    // Record the attempt first (CAS): two instances never both restart it.
    const next = { ...structuredClone(state), lastRestartAt: iso(now), updatedAt: iso(now) };
    etags.set(app.name, await deps.rolloutStore.replace(app.name, next, etag));
    states.set(app.name, next);
    await deps.containerGroups.restart(g.resourceGroup, g.name);
    tick.writes++;
    tick.changed.push({
      kind: 'groupRestarted',
      target: where,
      message: `restarted ${where} (was ${g.state})`,
    });
  } catch (e) {
    note(tick, e);
    tick.errors.push({
      scope: 'group',
      target: where,
      message: `restart failed: ${errorMessage(e)}`,
      retryable: isRetryable(e),
    });
  }
}

/** Groups a rollout still refers to (never orphans). */
function referenced(state: AppState, app: AppConfig): Set<string> {
  const names = new Set<string>();
  if (state.active) names.add(state.active.group);
  const r = state.rollout;
  if (r?.state === 'inProgress') {
    names.add(r.group);
    if (r.fromGroup) names.add(r.fromGroup);
  } else if (r?.state === 'failed' && app.keepFailed) names.add(r.group);
  for (const p of state.pendingDeletions) names.add(p.group);
  return names;
}

async function removeOrphans(
  tick: Tick,
  listings: GroupListings,
  states: Map<string, AppState>,
): Promise<void> {
  const { deps } = tick;
  const { config } = deps;
  const grace = config.reconcile.orphanGraceSeconds * 1000;
  const candidates: Array<{ app: AppConfig; g: ContainerGroupView }> = [];
  const seen = new Set<string>();
  for (const [rg, l] of listings) {
    if (!l.ok) continue;
    for (const g of l.value) {
      if (g.tags[GROUP_TAGS.managedBy] !== MANAGED_BY) continue;
      const key = `${rg}/${g.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const appName = g.tags[GROUP_TAGS.app] ?? '';
      const app = findApp(config, appName);
      if (!app) {
        tick.warnings.push({
          scope: 'group',
          target: `${g.resourceGroup}/${g.name}`,
          message: `managed group of app "${appName}", which is not configured (or has config errors); left alone`,
        });
        continue;
      }
      if (rgKey(app.resourceGroup) !== rg) continue;
      const state = states.get(app.name);
      if (!state || referenced(state, app).has(g.name)) continue;
      const created = ms(g.tags[GROUP_TAGS.createdAt]);
      if (created === undefined) {
        tick.warnings.push({
          scope: 'group',
          target: key,
          message: `orphan without a ${GROUP_TAGS.createdAt} tag; left alone`,
        });
        continue;
      }
      if (deps.clock.now() - created < grace || g.provisioningState === 'Deleting') continue;
      candidates.push({ app, g });
    }
  }
  await mapLimit(candidates, config.reconcile.writeConcurrency, async ({ app, g }) => {
    const where = `${g.resourceGroup}/${g.name}`;
    if (!timeLeft(tick)) return;
    try {
      // Confirm against the latest state: a rollout may have started since the tick read it.
      const fresh = await deps.rolloutStore.get(app.name);
      if (!fresh || referenced(fresh.state, app).has(g.name)) return;
      await deps.containerGroups.delete(g.resourceGroup, g.name);
      tick.writes++;
      tick.changed.push({
        kind: 'groupDeleted',
        target: where,
        message: `orphan ${where} (rollout ${g.tags[GROUP_TAGS.rolloutId] ?? '?'}) deleted`,
      });
    } catch (e) {
      note(tick, e);
      const terminal = e instanceof TerminalError;
      tick.errors.push({
        scope: 'group',
        target: where,
        message: `orphan delete failed: ${errorMessage(e)}`,
        retryable: !terminal,
      });
    }
  });
}
