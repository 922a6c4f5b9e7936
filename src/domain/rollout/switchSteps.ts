/**
 * The steps that move callers: gate on the new group's health, point the app's callers (its DNS record and its
 * secret: callerPointers.ts) at its IP, let the old group drain, delete it (or keep it for the rollback window).
 * Manual promotion and the check after the switch are their own files (promotionStep.ts, verifyStep.ts).
 */
import type { AppConfig } from '../../config/appsConfig.js';
import { diagnoseGroup } from '../groupDiagnosis.js';
import { iso, ms, type ActiveDeployment, type Rollout } from '../model.js';
import { deleteWithReissue } from './housekeeping.js';
import { drainSecondsOf, pointCallers } from '../callerPointers.js';
import { needsPromotion } from './promotionStep.js';
import { revertRequested } from './revert.js';
import {
  goto,
  waitFor,
  fail,
  succeed,
  ours,
  pullRetry,
  seconds,
  type Step,
  type StepContext,
  recreate,
} from './step.js';

export function healthUrl(app: AppConfig, ip: string): string {
  return `http://${ip}:${app.health.port}${app.health.path}`;
}

/**
 * Successes the gate needs: the app's `consecutiveSuccesses`, or one for a rollback to the kept previous group (it
 * served until minutes ago; the quick check only proves it still answers).
 */
function successesNeeded(app: AppConfig, r: Rollout): number {
  return r.reusesGroupOf ? 1 : app.health.consecutiveSuccesses;
}

/** Where a passed gate leads: the wait for promotion (manual mode, not an app's first deploy) or the switch. */
function afterGate(ctx: StepContext, message: string) {
  return goto(ctx, needsPromotion(ctx) ? 'awaitingPromotion' : 'switching', message);
}

export const healthGate: Step = async (ctx) => {
  const { r, app, opts } = ctx;
  const h = app.health;
  const g = await ctx.deps.containerGroups.get(r.resourceGroup, r.group);
  if (!g) return recreate(ctx, `${r.group} disappeared during the health gate`);
  if (!ours(g, r)) return recreate(ctx, `${r.group} belongs to another rollout`);
  const d = diagnoseGroup(g, h.maxRestarts, pullRetry(ctx));
  if (d.phase === 'failed') return fail(ctx, d.reason, d.message);
  r.healthStartedAt ??= iso(ctx.now);
  const ip = d.phase === 'running' ? d.ip : (g.ip ?? r.ip);
  if (d.phase === 'running' && ip) {
    r.ip = ip;
    const timeoutMs = Math.min(
      opts.probeTimeoutMaxMs,
      Math.max(1_000, h.intervalSeconds * 1000),
      ctx.deadline - ctx.now,
    );
    if (timeoutMs < 200) return { kind: 'wait', untilMs: ctx.deadline };
    const url = healthUrl(app, ip);
    const res = await ctx.deps.healthProbe.check(url, timeoutMs);
    const [lo, hi] = h.expectedStatus;
    const passed = res.status !== undefined && res.status >= lo && res.status <= hi;
    const answer =
      res.status !== undefined
        ? `${res.status}${!passed && res.bodySnippet ? ` (${res.bodySnippet.slice(0, 120)})` : ''}`
        : (res.error ?? 'no answer');
    r.lastHealth = `GET ${url} → ${answer}`;
    r.healthSuccesses = passed ? r.healthSuccesses + 1 : 0;
    const needed = successesNeeded(app, r);
    if (r.healthSuccesses >= needed)
      return afterGate(ctx, `health gate passed: ${needed} consecutive ${r.lastHealth}`);
  } else {
    r.healthSuccesses = 0;
    r.lastHealth = `${r.group} not Running: ${d.phase === 'pending' ? d.detail : ''}`;
  }
  const after = ctx.deps.clock.now() - (ms(r.healthStartedAt) ?? ctx.now);
  if (after >= h.timeoutSeconds * 1000)
    return fail(ctx, 'HealthCheckFailed', `health check failed: ${r.lastHealth} after ${seconds(after)}`);
  return waitFor(
    ctx,
    h.intervalSeconds * 1000,
    `health ${r.healthSuccesses}/${successesNeeded(app, r)}: ${r.lastHealth ?? 'not probed yet'}`,
  );
};

/** The check after the switch runs when configured, except for a rollback (the operator chose that version). */
function verifies(ctx: StepContext): boolean {
  return ctx.app.verify !== undefined && ctx.r.kind !== 'rollback';
}

export const switching: Step = async (ctx) => {
  const { r, app, state } = ctx;
  const g = await ctx.deps.containerGroups.get(r.resourceGroup, r.group);
  if (!g || !ours(g, r)) return fail(ctx, 'GroupLost', `${r.group} disappeared before the switch`);
  const d = diagnoseGroup(g, app.health.maxRestarts, pullRetry(ctx));
  if (d.phase === 'failed') return fail(ctx, d.reason, d.message);
  if (d.phase !== 'running')
    return fail(ctx, 'GroupLost', `${r.group} is no longer Running at switch time (${d.detail})`);
  const next: ActiveDeployment = {
    group: r.group,
    resourceGroup: r.resourceGroup,
    colour: r.colour,
    digest: r.digest,
    tag: r.tag,
    image: r.image,
    // A rollback to the kept group serves that group's rollout (the id its tags carry).
    ...(r.reusesGroupOf ? r.reusesGroupOf : { rolloutId: r.id }),
    since: iso(ctx.now),
    ...(r.secretVersions ? { secretVersions: r.secretVersions } : {}),
  };
  const pointed = (await pointCallers(ctx.deps, app, next, d.ip)).join(', ');
  // The switch is when the pointers were written: a caller that looked the name up just before still holds the old
  // address for the TTL (plus its cache), so the drain is counted from here.
  const switchedAt = Math.max(ctx.now, ctx.deps.clock.now());
  const old = state.active;
  state.active = next;
  // The serving group is nobody's leftover: a rollback to the kept group ends that group's window deletion.
  state.pendingDeletions = state.pendingDeletions.filter(
    (p) => !(p.group === r.group && p.resourceGroup === r.resourceGroup),
  );
  r.ip = d.ip;
  r.switchedAt = iso(switchedAt);
  delete r.deleteRequestedAt;
  const moved = `${pointed} (${r.group})`;
  if (old && !(old.group === r.group && old.resourceGroup === r.resourceGroup)) {
    // The drain runs from the switch, alongside verify: the old group is deleted once both are over.
    r.previous = old;
    r.fromGroup = old.group;
    r.fromResourceGroup = old.resourceGroup;
    const drain = drainSecondsOf(app);
    r.drainUntil = iso(switchedAt + drain * 1000);
    if (verifies(ctx))
      return goto(
        ctx,
        'verifying',
        `${moved}; verifying for ${app.verify!.durationSeconds} s, ${old.group} kept`,
      );
    return goto(ctx, 'draining', `${moved}; ${old.group} drains for ${drain} s`);
  }
  if (verifies(ctx))
    return goto(
      ctx,
      'verifying',
      `${moved}; verifying for ${app.verify!.durationSeconds} s (no previous group)`,
    );
  return succeed(ctx, `${moved}; no previous group to drain`);
};

export const draining: Step = async (ctx) => {
  const revert = revertRequested(ctx);
  if (revert) return revert;
  if (!ctx.r.fromGroup) return succeed(ctx, 'verify passed; no previous group to drain');
  const until = ms(ctx.r.drainUntil) ?? ctx.now;
  if (ctx.now < until)
    return waitFor(ctx, until - ctx.now, `draining ${ctx.r.fromGroup} until ${ctx.r.drainUntil}`);
  return goto(ctx, 'deletingOld', `drain of ${ctx.r.fromGroup} over`);
};

/**
 * Keep the previous group for the rollback window instead of deleting it: recorded as the rollback target, and
 * deleted by housekeeping when the window closes (a pending deletion guarded by the rollout id its tags carry).
 * A rollback's own previous group is the version just turned away: it is deleted, never kept.
 */
function keepForRollback(ctx: StepContext): boolean {
  const { r, state, app } = ctx;
  if (app.rollbackWindowSeconds <= 0 || r.kind === 'rollback' || !r.previous) return false;
  const until = iso(ctx.now + app.rollbackWindowSeconds * 1000);
  state.rollbackTarget = { ...r.previous, until };
  state.pendingDeletions.push({
    resourceGroup: r.previous.resourceGroup,
    group: r.previous.group,
    ...(r.previous.rolloutId ? { rolloutId: r.previous.rolloutId } : {}),
    notBefore: until,
    reason: `rollback window of ${r.previous.group} closed`,
  });
  return true;
}

export const deletingOld: Step = async (ctx) => {
  const { r, state } = ctx;
  const rg = r.fromResourceGroup ?? r.resourceGroup;
  const name = r.fromGroup;
  if (!name || state.active?.group === name) return succeed(ctx, 'nothing to delete');
  if (!r.deleteRequestedAt && keepForRollback(ctx))
    return succeed(ctx, `${name} kept for rollback until ${state.rollbackTarget!.until}`);
  const g = await ctx.deps.containerGroups.get(rg, name);
  if (!g) return succeed(ctx, `${name} deleted`);
  const issued = await deleteWithReissue(ctx.deps, g, rg, r.deleteRequestedAt, ctx.now);
  if (issued) r.deleteRequestedAt = issued;
  return waitFor(ctx, ctx.opts.pollIntervalMs, `waiting for ${name} to be deleted`);
};
