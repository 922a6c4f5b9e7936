/**
 * One reconcile tick's running record (what changed, what failed, how many calls were throttled, how many writes)
 * and the three things every phase of a tick does with it: count throttling, check the budget, retry a call.
 */
import { withRetry } from '../concurrency.js';
import { optionsOf, randomOf, type Budget, type DomainDeps } from '../deps.js';
import { TransientError } from '../errors.js';
import type { ReconcileChange, ReconcileIssue } from '../model.js';

export interface Tick {
  deps: DomainDeps;
  budget: Budget;
  changed: ReconcileChange[];
  errors: ReconcileIssue[];
  warnings: ReconcileIssue[];
  throttled: number;
  writes: number;
  /** Single secrets read afresh (reconcile/vaultReads.ts `confirm`). */
  secretReads: number;
  budgetExhausted: boolean;
}

export function note(tick: Tick, e: unknown): void {
  if (e instanceof TransientError && e.throttled) tick.throttled++;
}

export function timeLeft(tick: Tick): boolean {
  const left = tick.budget.deadline - tick.deps.clock.now() > optionsOf(tick.deps).deadlineMarginMs;
  if (!left) tick.budgetExhausted = true;
  return left;
}

export function retrying<T>(tick: Tick, fn: () => Promise<T>): Promise<T> {
  const o = optionsOf(tick.deps);
  return withRetry(fn, {
    retries: o.writeRetries,
    baseMs: o.retryBaseMs,
    deadline: tick.budget.deadline,
    clock: tick.deps.clock,
    onThrottled: () => tick.throttled++,
    random: randomOf(tick.deps),
  });
}

export function newTick(deps: DomainDeps, budget: Budget): Tick {
  return {
    deps,
    budget,
    changed: [],
    errors: [],
    warnings: [],
    throttled: 0,
    writes: 0,
    secretReads: 0,
    budgetExhausted: false,
  };
}
