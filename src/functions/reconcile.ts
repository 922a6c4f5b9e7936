/**
 * Timer (RECONCILE_SCHEDULE, NCRONTAB): one reconcile tick within RECONCILE_BUDGET_SECONDS. Secrets follow
 * the groups' IPs first; then unfinished rollouts resume for at most RECONCILE_ROLLOUT_SLICE_SECONDS, drained and
 * orphaned groups are deleted; the tick's result is recorded for status by the domain.
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { invocationLogger } from '../adapters/invocationLogger.js';
import { getRuntime } from '../composition.js';
import { budgetFrom } from '../domain/deps.js';
import { reconcile as reconcileTick } from '../domain/reconcile.js';

export async function reconcile(timer: Timer, context: InvocationContext): Promise<void> {
  const logger = invocationLogger(context);
  if (timer.isPastDue)
    logger.warn('reconcile: the timer is past due (a previous tick overran or the host was down)');
  const runtime = getRuntime();
  const deps = runtime.deps(logger);
  // The domain logs the tick's summary (and its errors) and records the result for status itself. Nothing is
  // returned: a non-HTTP function's return value would be sent to the host for nothing.
  const { reconcileBudgetSeconds, reconcileRolloutSliceSeconds } = runtime.settings;
  await reconcileTick(deps, budgetFrom(deps.clock, reconcileBudgetSeconds), {
    rolloutSliceSeconds: reconcileRolloutSliceSeconds,
  });
}

app.timer('reconcile', { schedule: '%RECONCILE_SCHEDULE%', handler: reconcile });
