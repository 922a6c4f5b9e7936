/**
 * The steps that move callers: gate on the new group's health, point the app's callers (its DNS record and its
 * secret: callerPointers.ts) at its IP, let the old group drain, delete it.
 */
import type { AppConfig } from '../../config/appsConfig.js';
import { diagnoseGroup } from '../groupDiagnosis.js';
import { iso, ms, type ActiveDeployment } from '../model.js';
import { deleteWithReissue } from './housekeeping.js';
import { drainSecondsOf, pointCallers } from '../callerPointers.js';
import { goto, waitFor, fail, succeed, ours, pullRetry, seconds, type Step, recreate } from './step.js';

function healthUrl(app: AppConfig, ip: string): string {
  return `http://${ip}:${app.health.port}${app.health.path}`;
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
    if (r.healthSuccesses >= h.consecutiveSuccesses)
      return goto(
        ctx,
        'switching',
        `health gate passed: ${h.consecutiveSuccesses} consecutive ${r.lastHealth}`,
      );
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
    `health ${r.healthSuccesses}/${h.consecutiveSuccesses}: ${r.lastHealth ?? 'not probed yet'}`,
  );
};

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
    rolloutId: r.id,
    since: iso(ctx.now),
  };
  const pointed = (await pointCallers(ctx.deps, app, next, d.ip)).join(', ');
  // The switch is when the pointers were written: a caller that looked the name up just before still holds the old
  // address for the TTL (plus its cache), so the drain is counted from here.
  const switchedAt = Math.max(ctx.now, ctx.deps.clock.now());
  const old = state.active;
  state.active = next;
  r.ip = d.ip;
  r.switchedAt = iso(switchedAt);
  delete r.deleteRequestedAt;
  if (old && !(old.group === r.group && old.resourceGroup === r.resourceGroup)) {
    r.fromGroup = old.group;
    r.fromResourceGroup = old.resourceGroup;
    const drain = drainSecondsOf(app);
    r.drainUntil = iso(switchedAt + drain * 1000);
    return goto(ctx, 'draining', `${pointed} (${r.group}); ${old.group} drains for ${drain} s`);
  }
  return succeed(ctx, `${pointed} (${r.group}); no previous group to drain`);
};

export const draining: Step = async (ctx) => {
  const until = ms(ctx.r.drainUntil) ?? ctx.now;
  if (ctx.now < until)
    return waitFor(ctx, until - ctx.now, `draining ${ctx.r.fromGroup} until ${ctx.r.drainUntil}`);
  return goto(ctx, 'deletingOld', `drain of ${ctx.r.fromGroup} over`);
};

export const deletingOld: Step = async (ctx) => {
  const { r, state } = ctx;
  const rg = r.fromResourceGroup ?? r.resourceGroup;
  const name = r.fromGroup;
  if (!name || state.active?.group === name) return succeed(ctx, 'nothing to delete');
  const g = await ctx.deps.containerGroups.get(rg, name);
  if (!g) return succeed(ctx, `${name} deleted`);
  const issued = await deleteWithReissue(ctx.deps, g, rg, r.deleteRequestedAt, ctx.now);
  if (issued) r.deleteRequestedAt = issued;
  return waitFor(ctx, ctx.opts.pollIntervalMs, `waiting for ${name} to be deleted`);
};
