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
 *  - the same for Private DNS A records (apps with `dns`, groups tagged `ip-dns`): one listing per zone
 *  - desired state: start a blue/green of the active digest when its config changed (template hash, secret
 *    versions), and, every `reconcile.catchUpSeconds`, what a lost ImagePushed event should have started
 * One failing vault, zone or group never stops the rest; the result is recorded for status.
 */
import { DEFAULT_ROLLOUT_SLICE_SECONDS } from '../config/settings.js';
import type { Budget, DomainDeps } from './deps.js';
import { errorMessage, isRetryable } from './errors.js';
import { iso, type AppState, type CatchUpRun, type ReconcileResult } from './model.js';
import { secretChangeVaults } from './configDrift.js';
import { adopt, checkActiveGroup } from './reconcile/activeGroups.js';
import { reconcileDns } from './reconcile/dnsSync.js';
import { catchUp, catchUpDue } from './reconcile/catchUp.js';
import { rollOutConfigChanges } from './reconcile/configChanges.js';
import { removeOrphans } from './reconcile/orphans.js';
import { advanceRollouts } from './reconcile/rollouts.js';
import { inspectDoubtfulActiveGroups, syncSecrets } from './reconcile/secretSync.js';
import { newTick, note, retrying, type Tick } from './reconcile/tick.js';
import { readVaults } from './reconcile/vaultReads.js';
import {
  readGroupListings,
  resolveSecretTargets,
  resourceGroupsToList,
  vaultsOf,
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

/** The previous tick's result (when catch-up last ran); unreadable counts as never. */
async function lastResult(tick: Tick): Promise<ReconcileResult | undefined> {
  try {
    return await tick.deps.rolloutStore.getLastReconcile();
  } catch (e) {
    tick.deps.logger.warn(`could not read the last reconcile result: ${errorMessage(e)}`);
    return undefined;
  }
}

/** Every app's stored row (one query), with the ETags later writes compare against. */
async function readStates(
  tick: Tick,
): Promise<{ states: Map<string, AppState>; etags: Map<string, string> }> {
  const states = new Map<string, AppState>();
  const etags = new Map<string, string>();
  try {
    for (const s of await tick.deps.rolloutStore.list()) {
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
  return { states, etags };
}

function tickResult(
  tick: Tick,
  started: number,
  counts: Omit<ReconcileResult['counts'], 'writes'>,
): ReconcileResult {
  return {
    at: iso(started),
    durationMs: tick.deps.clock.now() - started,
    changed: tick.changed,
    errors: tick.errors,
    warnings: tick.warnings,
    throttled: tick.throttled,
    budgetExhausted: tick.budgetExhausted,
    counts: { ...counts, writes: tick.writes },
  };
}

/**
 * The desired-state phase: a config (template, secret versions) the active group no longer matches starts a
 * blue/green; every reconcile.catchUpSeconds, pushes no event brought are found in the registries. Not while the
 * rollout states could not be read. Answers the latest catch-up run (this tick's, or carried from an earlier one).
 */
async function desiredState(
  tick: Tick,
  targets: SecretTarget[],
  secretListings: SecretListings,
  states: Map<string, AppState>,
  etags: Map<string, string>,
): Promise<CatchUpRun | undefined> {
  const previous = (await lastResult(tick))?.catchUp;
  if (tick.errors.some((e) => e.scope === 'store')) return previous;
  await rollOutConfigChanges(tick, targets, secretListings, states, etags);
  const { deps } = tick;
  if (!catchUpDue(deps.config.reconcile.catchUpSeconds, previous?.at, deps.clock.now())) return previous;
  return catchUp(tick, states);
}

export async function reconcile(
  deps: DomainDeps,
  budget: Budget,
  options: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const tick = newTick(deps, budget);
  // Throttled answers the adapters retried by themselves are this tick's too (the request log shows them).
  const meter = deps.throttleMeter;
  return meter
    ? meter.run(
        () => tickOnce(tick, options),
        () => tick.throttled++,
      )
    : tickOnce(tick, options);
}

async function tickOnce(tick: Tick, options: ReconcileOptions): Promise<ReconcileResult> {
  const { deps } = tick;
  const { clock, config, logger } = deps;
  const started = clock.now();

  // ---- read: rollout states, one list per resource group
  const { states, etags } = await readStates(tick);
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
  // The IP secrets' vaults (listed at each audit, else remembered), and the vaults of secrets whose new versions
  // roll out (listed every tick).
  const vaultReads = await readVaults(tick, vaultsOf(targets), secretChangeVaults(config, states));
  const secretListings = vaultReads.listings;
  await syncSecrets(tick, targets, vaultReads, states);
  // ---- DNS records: one A-record listing per zone, write what is stale
  const dnsCounts = await reconcileDns(tick, states, listings, targets);

  // ---- active groups: drift, not Running (optional restart)
  for (const t of targets) {
    if (t.kind !== 'app' || !t.app || !t.active || !t.group) continue;
    await checkActiveGroup(tick, t.app, t.group, states, etags);
  }

  // ---- desired state: config changes, then pushes no event brought (catch-up)
  const catchUpRun = await desiredState(tick, targets, secretListings, states, etags);

  // ---- orphans (each confirmed against the stored state before it is deleted)
  await removeOrphans(tick, listings, states);

  // ---- resume rollouts, delete due groups: last, within the slice (every secret is already synced)
  await advanceRollouts(tick, states, options.rolloutSliceSeconds ?? DEFAULT_ROLLOUT_SLICE_SECONDS);

  const result = tickResult(tick, started, {
    resourceGroups: rgs.length,
    groups: [...listings.values()].reduce((n, l) => n + (l.ok ? l.value.length : 0), 0),
    vaults: vaultReads.listings.size,
    vaultsListed: vaultReads.listed,
    secretReads: tick.secretReads,
    secretsChecked: targets.length,
    ...dnsCounts,
  });
  if (catchUpRun) result.catchUp = catchUpRun;
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
