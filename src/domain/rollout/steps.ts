/**
 * The blue/green rollout: an ordered list of idempotent steps over one stored record, level-triggered like a
 * Kubernetes controller. Each step decides from the stored record plus what Azure shows now, acts, and says
 * "next step" or "wait until"; the runner (runner.ts) writes the record with a compare-and-swap after
 * every step, so a crash between any two steps resumes where it stopped, and two instances never both move one
 * rollout.
 *
 *   accepted → cleaningIdle → creating → waitingRunning → healthGate → [awaitingPromotion] → switching
 *   → [verifying] → draining → deletingOld → succeeded
 *   (or: failed with a reason; superseded by a newer push; rolledBack after the switch; aborted by an operator)
 */
import type { AppConfig } from '../../config/appsConfig.js';
import { optionsOf, randomOf, type DomainDeps, type DomainOptions } from '../deps.js';
import { ConflictError, TerminalError, TransientError, errorMessage } from '../errors.js';
import { COMMITTED_STEPS, iso, ms, type AppState, type RolloutStep } from '../model.js';
import { addCondition, closeRollout } from '../appState.js';
import { ERROR_MAX, clip } from '../../events/fieldLimits.js';
import { seconds, failRollout, type StepContext, type StepResult, type Step } from './step.js';
import { accepted, cleaningIdle, creating, waitingRunning } from './provisionSteps.js';
import { deletingOld, draining, healthGate, switching } from './switchSteps.js';
import { awaitingPromotion } from './promotionStep.js';
import { verifying } from './verifyStep.js';

const STEPS: Record<Exclude<RolloutStep, 'succeeded'>, Step> = {
  accepted,
  cleaningIdle,
  creating,
  waitingRunning,
  healthGate,
  awaitingPromotion,
  switching,
  verifying,
  draining,
  deletingOld,
};

// ---------------------------------------------------------------- one step

/** What one step left behind: the draft state to write, and when to run again if it must wait. */
export interface StepRun {
  state: AppState;
  /** Epoch ms before which the rollout's next step must not run (a poll interval, a health interval, a drain). */
  requeueAt?: number;
}

/**
 * Run the current step of the app's rollout in progress on a copy of `state`. A step that fails in a way it does
 * not handle becomes a transient retry (with backoff) or a failed rollout (terminal); a ConflictError from the
 * store propagates to the runner. A run that an earlier one left inside a wait (`resumeAt`) only waits.
 */
export async function runStep(
  app: AppConfig,
  state: AppState,
  deps: DomainDeps,
  now: number,
  deadline: number,
): Promise<StepRun> {
  const current = state.rollout!;
  const resumeAt = ms(current.resumeAt);
  if (resumeAt !== undefined && resumeAt > now) return { state, requeueAt: resumeAt };
  const opts = optionsOf(deps);
  const draft = structuredClone(state);
  delete draft.rollout!.resumeAt;
  const ctx: StepContext = { app, deps, opts, state: draft, r: draft.rollout!, now, deadline };
  let outcome: StepResult;
  try {
    outcome = await STEPS[current.step as Exclude<RolloutStep, 'succeeded'>](ctx);
  } catch (e) {
    if (e instanceof ConflictError) throw e;
    const onError = structuredClone(state);
    delete onError.rollout!.resumeAt;
    outcome = onStepError(app, onError, e, now, opts, deps);
    return { state: onError, ...(outcome.kind === 'wait' ? { requeueAt: outcome.untilMs } : {}) };
  }
  return { state: draft, ...(outcome.kind === 'wait' ? { requeueAt: outcome.untilMs } : {}) };
}

function onStepError(
  app: AppConfig,
  state: AppState,
  e: unknown,
  now: number,
  opts: DomainOptions,
  deps: DomainDeps,
): StepResult {
  const r = state.rollout!;
  const message = clip(errorMessage(e), ERROR_MAX);
  // Committed once callers were pointed at the new group: a failure in the switch itself (the record or the secret
  // refused) leaves them on the old group, so the rollout fails like any step before it.
  const committed = COMMITTED_STEPS.has(r.step) && r.switchedAt !== undefined;
  if (e instanceof TerminalError) {
    if (committed) {
      // The new group already serves; an old group we cannot delete is reported, not a failed rollout.
      addCondition(r, r.step, now, `could not finish ${r.step}: ${message}; left for reconcile`);
      r.step = 'succeeded';
      closeRollout(state, r, 'succeeded', now, `succeeded; ${message}`);
      return { kind: 'continue' };
    }
    failRollout(state, app, 'AzureError', `${r.step}: ${message}`, now);
    return { kind: 'continue' };
  }
  if (!(e instanceof TransientError))
    deps.logger.error(`${app.name}: unexpected error in ${r.step}: ${message}`);
  const since = ms(r.transient?.since) ?? now;
  const attempts = (r.transient?.attempts ?? 0) + 1;
  if (attempts === 1) addCondition(r, r.step, now, `transient error, retrying: ${message}`);
  if (!committed && now - since >= opts.transientGiveUpMs) {
    r.transient = { since: iso(since), attempts, lastError: message };
    failRollout(
      state,
      app,
      'AzureError',
      `Azure error persisted for ${seconds(now - since)} (${attempts} attempts): ${message}`,
      now,
    );
    return { kind: 'continue' };
  }
  const retryAfter = e instanceof TransientError ? e.retryAfterMs : undefined;
  const backoff = (retryAfter ?? 0) + stepBackoffMs(attempts, opts, randomOf(deps));
  r.transient = { since: iso(since), attempts, lastError: message, nextRetryAt: iso(now + backoff) };
  return { kind: 'wait', untilMs: now + backoff };
}

/**
 * The wait before a step that failed transiently runs again: exponential in the step's attempts (from the poll
 * interval up to a minute), with full jitter, so rollouts (and instances) that failed together do not retry
 * together; never less than `retryBaseMs`, so a step cannot spin. A Retry-After is added on top by the caller.
 */
export function stepBackoffMs(attempts: number, opts: DomainOptions, random: () => number): number {
  const ceiling = Math.min(60_000, opts.pollIntervalMs * 2 ** Math.min(attempts - 1, 5));
  return Math.max(opts.retryBaseMs, Math.floor(random() * ceiling));
}
