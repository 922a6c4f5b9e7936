/**
 * The last phase of a tick: resume unfinished rollouts and delete the groups whose time has come, within a slice
 * of the tick (every secret is already synced by then). A rollout that must wait past the slice returns and the
 * next tick resumes it, so a health gate or a drain never holds back the next tick's IP fixes.
 */
import { mapLimit } from '../concurrency.js';
import { optionsOf, type Budget } from '../deps.js';
import { deployGate } from '../deployGate.js';
import { ms, type AppState } from '../model.js';
import { advance, needsAdvance } from '../rollout/runner.js';
import { timeLeft, type Tick } from './tick.js';

/** What one app's run changed, in the tick's words. */
function recordProgress(tick: Tick, app: string, before: AppState, after: AppState | undefined): void {
  const b = before.rollout;
  const a = after?.rollout;
  if (a && (a.id !== b?.id || a.step !== b.step || a.state !== b.state))
    tick.changed.push({
      kind: 'rollout',
      target: app,
      message: `${a.id}: ${b?.id === a.id ? `${b.step} → ` : ''}${a.step} (${a.state})${a.error ? `: ${a.error.message}` : ''}`,
    });
  if (before.pendingDeletions.length > (after?.pendingDeletions.length ?? before.pendingDeletions.length))
    tick.changed.push({
      kind: 'groupDeleted',
      target: app,
      message: 'leftover group(s) of failed/superseded rollouts deleted',
    });
}

/** Advance every app that needs it, least recently written first, for at most `sliceSeconds`. */
export async function advanceRollouts(
  tick: Tick,
  states: Map<string, AppState>,
  sliceSeconds: number,
): Promise<void> {
  const { deps } = tick;
  const { clock, config, logger } = deps;
  const toAdvance = config.apps
    .filter((a) => {
      const s = states.get(a.name);
      const now = clock.now();
      return s !== undefined && needsAdvance(s, now, deployGate(a, deps.deployFreeze, now));
    })
    // Least recently written first: an app the slice did not reach last time goes before the ones it did.
    .sort((a, b) => (ms(states.get(a.name)!.updatedAt) ?? 0) - (ms(states.get(b.name)!.updatedAt) ?? 0));
  const slice: Budget = { deadline: Math.min(tick.budget.deadline, clock.now() + sliceSeconds * 1000) };
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
    recordProgress(tick, app.name, before, res.state);
  });
  if (deferred > 0) logger.info(`reconcile: ${deferred} rollout(s) left for the next tick (slice spent)`);
}
