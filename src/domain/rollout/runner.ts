/**
 * The rollout runner, as plain as controller-runtime's reconcile loop: read the app's row, run one step
 * (`runStep` in ../rollout.ts), write the result with a compare-and-swap, and either go on, sleep until the step's
 * requeue time, or return it to the caller when it lies past the budget (the next run resumes there).
 *
 * Three rules, each in one place:
 * - conflicts: on a lost CAS, and after every sleep, re-read; stop if the rollout moved or ended (`reread`);
 * - budget: checked once per iteration, before a step;
 * - waiting: only here, in `clock.sleep`, never inside a step.
 * Housekeeping (history, notifications, deletions of failed groups) is its own idempotent pass, run when the
 * runner starts and whenever a rollout starts or ends.
 */
import type { AppConfig } from '../../config/appsConfig.js';
import { findApp, optionsOf, type Budget, type DomainDeps } from '../deps.js';
import { ConflictError, errorMessage } from '../errors.js';
import { iso, ms, type AppState, type RolloutState, type RolloutStep } from '../model.js';
import { addCondition, inProgress, recordIgnored } from '../appState.js';
import { GATE_OPEN, deployGate, type DeployGate } from '../deployGate.js';
import { applyPush, decidePush } from '../pushDecision.js';
import { runStep } from './steps.js';
import { reread, save, type Held } from './heldState.js';
import { housekeep } from './housekeeping.js';

export interface AdvanceResult {
  app: string;
  /**
   * idle: nothing in progress · finished: the rollout reached an outcome · waiting: blocked until `waitUntil`
   * (beyond the budget) · budgetSpent · conflict: another instance moved it meanwhile · noApp: not configured.
   */
  status: 'idle' | 'finished' | 'waiting' | 'budgetSpent' | 'conflict' | 'noApp';
  message: string;
  rolloutId?: string;
  rolloutState?: RolloutState;
  step?: RolloutStep;
  waitUntil?: string;
  /** Set when advance stopped on an error it could not classify as a step outcome (store down, ...). */
  error?: string;
  /** The last state read or written (callers use it instead of re-reading). */
  state?: AppState;
}

/** A safety net against a step that never progresses nor waits; far above any real rollout's step count. */
const MAX_ITERATIONS = 500;

function result(
  held: Held,
  status: AdvanceResult['status'],
  message: string,
  waitUntil?: number,
): AdvanceResult {
  const r = held.state.rollout;
  return {
    app: held.state.app,
    status,
    message,
    ...(r ? { rolloutId: r.id, rolloutState: r.state, step: r.step } : {}),
    ...(waitUntil !== undefined ? { waitUntil: iso(waitUntil) } : {}),
    state: held.state,
  };
}

/**
 * Does this state need `advance` (for reconcile)? `gate` is the app's deploy gate now: a queued push held by a
 * freeze or outside the deploy windows needs nothing until the gate opens.
 */
export function needsAdvance(state: AppState, now: number, gate: DeployGate = GATE_OPEN): boolean {
  return (
    inProgress(state) !== undefined ||
    startsQueued(state, gate) ||
    state.outbox.length > 0 ||
    state.pendingDeletions.some((p) => (ms(p.notBefore) ?? 0) <= now)
  );
}

/** A queued push waits for the rollout before it, for `resume` while the app is paused, and for the gate to open. */
function startsQueued(state: AppState, gate: DeployGate): boolean {
  return state.queued !== undefined && state.paused === undefined && !gate.held;
}

/** A queued push starts once the rollout before it has finished (re-checked against the new state). */
function startQueued(app: AppConfig, state: AppState, now: number, gate: DeployGate): AppState {
  const q = state.queued!;
  const base = structuredClone(state);
  delete base.queued;
  const decision = decidePush(base, q, app, gate);
  if (decision.action === 'ignore') {
    if (base.rollout)
      addCondition(base.rollout, 'queued', now, `queued ${q.tag} dropped: ${decision.reason}`);
    recordIgnored(base, {
      at: iso(now),
      eventId: q.eventId,
      tag: q.tag,
      digest: q.digest,
      outcome: 'ignored',
      reason: `queued, then dropped: ${decision.reason}`,
    });
    return base;
  }
  return applyPush(base, q, decision, app, now).state;
}

/** A rollout started or ended between two states: the moment for housekeeping. */
function transition(before: AppState, after: AppState): boolean {
  return before.rollout?.id !== after.rollout?.id || before.rollout?.state !== after.rollout?.state;
}

/**
 * Move the app's rollout forward until it finishes, must wait past the budget, or the budget is spent. A queued
 * push starts when the rollout before it ends.
 */
export async function advance(appName: string, deps: DomainDeps, budget: Budget): Promise<AdvanceResult> {
  const app = findApp(deps.config, appName);
  if (!app)
    return {
      app: appName,
      status: 'noApp',
      message: `app ${appName} is not configured (or has config errors)`,
    };
  const { clock, logger } = deps;
  const stopAt = budget.deadline - optionsOf(deps).deadlineMarginMs;
  const stored = await deps.rolloutStore.get(appName);
  if (!stored) return { app: appName, status: 'idle', message: 'no rollout recorded' };
  let held: Held = stored;

  try {
    held = await housekeep(deps, held);
    for (let i = 0; i < MAX_ITERATIONS; i++) {
      if (clock.now() >= stopAt) return result(held, 'budgetSpent', 'time budget spent');
      const now = clock.now();
      const current = inProgress(held.state);
      const gate = deployGate(app, deps.deployFreeze, now);
      if (!current && !startsQueued(held.state, gate)) {
        const last = held.state.rollout;
        return last
          ? result(held, 'finished', `rollout ${last.id} ${last.state}`)
          : result(held, 'idle', 'nothing to do');
      }
      const next = current
        ? await runStep(app, held.state, deps, now, budget.deadline)
        : { state: startQueued(app, held.state, now, gate), requeueAt: undefined };

      const before = held.state;
      try {
        held = await save(deps, held, next.state);
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
        const fresh = await reread(deps, held);
        held = fresh.held;
        if (fresh.stop) return result(held, 'conflict', fresh.why);
        logger.debug(`${appName}: state changed meanwhile (the rollout did not move); continuing`);
        continue;
      }
      if (transition(before, held.state)) held = await housekeep(deps, held);

      const until = next.requeueAt;
      if (until === undefined || held.state.rollout?.state !== 'inProgress') continue;
      const tooLong = budget.maxSleepMs !== undefined && until - clock.now() > budget.maxSleepMs;
      if (until >= stopAt || tooLong) {
        // Past the budget: record where to resume, so the next run (a reconcile tick) does not repeat the step
        // before then (a health interval or a Retry-After holds across runs).
        if (held.state.rollout.resumeAt !== iso(until)) {
          const resume = structuredClone(held.state);
          resume.rollout!.resumeAt = iso(until);
          held = await save(deps, held, resume);
        }
        return result(held, 'waiting', held.state.rollout?.waiting?.message ?? 'waiting', until);
      }
      const delay = until - clock.now();
      if (delay > 0) {
        await clock.sleep(delay);
        // A newer push may have superseded this rollout while we slept: act on what is stored now, never on the
        // state read before the wait (its next step could delete or overwrite the newer rollout's group; the CAS
        // only guards the write, which comes after the step's side effect).
        const fresh = await reread(deps, held);
        held = fresh.held;
        if (fresh.stop) return result(held, 'conflict', fresh.why);
      }
    }
    return result(held, 'budgetSpent', 'iteration limit reached');
  } catch (e) {
    if (e instanceof ConflictError)
      return result(held, 'conflict', `another instance changed the state: ${errorMessage(e)}`);
    // Store failure: leave it for the next run.
    logger.warn(`${appName}: advance stopped: ${errorMessage(e)}`);
    return { ...result(held, 'waiting', `stopped on error: ${errorMessage(e)}`), error: errorMessage(e) };
  }
}
