/**
 * The check after the switch (`verify`), as Argo Rollouts' post-promotion analysis: the new group serves callers
 * now, and is probed every `intervalSeconds` for `durationSeconds` while the old group is kept running.
 * `failureThreshold` consecutive failed probes move callers back at once (revert.ts). The drain ran from the
 * switch, alongside; the old group is deleted only after both are over.
 */
import type { AppConfig } from '../../config/appsConfig.js';
import type { VerifyConfig } from '../../config/rolloutControls.js';
import { iso, ms } from '../model.js';
import { addCondition } from '../appState.js';
import { revertRequested, revertToPrevious } from './revert.js';
import { goto, seconds, succeed, waitFor, type Step, type StepContext } from './step.js';

function verifyUrl(app: AppConfig, v: VerifyConfig, ip: string): string {
  return `http://${ip}:${v.port ?? app.health.port}${v.path ?? app.health.path}`;
}

/** One probe: its line for the timeline, and whether it passed the health gate's expected statuses. */
async function probe(
  ctx: StepContext,
  url: string,
  v: VerifyConfig,
): Promise<{ passed: boolean; line: string }> {
  const timeoutMs = Math.min(
    ctx.opts.probeTimeoutMaxMs,
    Math.max(1_000, v.intervalSeconds * 1000),
    ctx.deadline - ctx.now,
  );
  const res = await ctx.deps.healthProbe.check(url, timeoutMs);
  const [lo, hi] = ctx.app.health.expectedStatus;
  const passed = res.status !== undefined && res.status >= lo && res.status <= hi;
  return { passed, line: `GET ${url} → ${res.status ?? res.error ?? 'no answer'}` };
}

export const verifying: Step = async (ctx) => {
  const revert = revertRequested(ctx);
  if (revert) return revert;
  const { r, app } = ctx;
  const v = app.verify;
  const over = (message: string) =>
    r.fromGroup ? goto(ctx, 'draining', message) : succeed(ctx, `${message}; no previous group to drain`);
  if (!v || !r.ip) return over('verify no longer configured');
  const state = (r.verify ??= { startedAt: iso(ctx.now), probes: 0, failures: 0 });
  const elapsed = ctx.now - (ms(state.startedAt) ?? ctx.now);
  if (elapsed >= v.durationSeconds * 1000)
    return over(
      `verify passed: ${state.probes} probes over ${seconds(elapsed)}, last ${state.last ?? 'none'}`,
    );
  if (ctx.deadline - ctx.now < 200) return { kind: 'wait', untilMs: ctx.deadline };

  const { passed, line } = await probe(ctx, verifyUrl(app, v, r.ip), v);
  state.probes += 1;
  state.last = line;
  state.failures = passed ? 0 : state.failures + 1;
  // The first failure of a streak goes on the timeline: how fast callers moved back is measured from it.
  if (state.failures === 1)
    addCondition(r, 'verifying', ctx.now, `probe failed (1/${v.failureThreshold}): ${line}`);
  if (state.failures >= v.failureThreshold)
    return revertToPrevious(ctx, 'VerifyFailed', `verify failed: ${state.failures} consecutive ${line}`);
  return waitFor(
    ctx,
    v.intervalSeconds * 1000,
    `verifying (${state.probes} probes, ${state.failures}/${v.failureThreshold} failures): ${line}`,
  );
};
