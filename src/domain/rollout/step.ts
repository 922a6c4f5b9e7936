/**
 * What every rollout step works with: its context (the app, the dependencies, a draft of the stored state), what
 * it answers (go on, or wait until), and the moves it makes on the rollout record (next step, fail, succeed).
 */
import type { AppConfig } from '../../config/appsConfig.js';
import type { DomainDeps, DomainOptions } from '../deps.js';
import {
  GROUP_TAGS,
  iso,
  type AppState,
  type FailureReason,
  type Rollout,
  type RolloutStep,
} from '../model.js';
import type { ContainerGroupView } from '../ports.js';
import { addCondition, closeRollout } from '../appState.js';
import { ERROR_MAX, clip } from '../../events/fieldLimits.js';

export interface StepContext {
  app: AppConfig;
  deps: DomainDeps;
  opts: DomainOptions;
  /** Draft copy of the stored state; steps mutate it, `advance` writes it. */
  state: AppState;
  r: Rollout;
  now: number;
  deadline: number;
}

export type StepResult = { kind: 'continue' } | { kind: 'wait'; untilMs: number };

export type Step = (ctx: StepContext) => Promise<StepResult>;

export function goto(ctx: StepContext, next: RolloutStep, message: string): StepResult {
  addCondition(ctx.r, ctx.r.step, ctx.now, message);
  ctx.r.step = next;
  ctx.r.updatedAt = iso(ctx.now);
  delete ctx.r.waiting;
  delete ctx.r.transient;
  return { kind: 'continue' };
}

export function waitFor(ctx: StepContext, delayMs: number, message: string): StepResult {
  const w = ctx.r.waiting;
  ctx.r.waiting = { step: ctx.r.step, since: w && w.step === ctx.r.step ? w.since : iso(ctx.now), message };
  return { kind: 'wait', untilMs: ctx.now + Math.max(0, delayMs) };
}

/** Fail the rollout: record the reason, schedule the new group's removal (unless keepFailed), keep the old. */
export function failRollout(
  state: AppState,
  app: AppConfig,
  reason: FailureReason,
  message: string,
  now: number,
): void {
  const r = state.rollout;
  if (!r || r.state !== 'inProgress') return;
  r.error = { step: r.step, reason, message: clip(message, ERROR_MAX) };
  addCondition(r, 'failed', now, message);
  // A rollback to the kept previous group created nothing: that group is not ours to remove.
  const mayExist = r.step !== 'accepted' && !r.reusesGroupOf;
  if (mayExist && !app.keepFailed) {
    state.pendingDeletions.push({
      resourceGroup: r.resourceGroup,
      group: r.group,
      rolloutId: r.id,
      notBefore: iso(now),
      reason: `failed rollout ${r.id}`,
    });
  }
  closeRollout(state, r, 'failed', now);
}

export function fail(ctx: StepContext, reason: FailureReason, message: string): StepResult {
  failRollout(ctx.state, ctx.app, reason, message, ctx.now);
  return { kind: 'continue' };
}

export function succeed(ctx: StepContext, message: string): StepResult {
  addCondition(ctx.r, ctx.r.step, ctx.now, message);
  ctx.r.step = 'succeeded';
  closeRollout(ctx.state, ctx.r, 'succeeded', ctx.now, message);
  return { kind: 'continue' };
}

/** Is `g` the group this rollout works on: created by it, or the kept group a rollback returns to? */
export function ours(g: ContainerGroupView, r: Rollout): boolean {
  const owner = r.reusesGroupOf ? r.reusesGroupOf.rolloutId : r.id;
  return g.tags[GROUP_TAGS.rolloutId] === owner;
}

/** ACI retries failing pulls: one is final after the app's grace (groupDiagnosis.ts). */
export function pullRetry(ctx: StepContext): { now: number; graceMs: number } {
  return { now: ctx.now, graceMs: ctx.app.pullFailureGraceSeconds * 1000 };
}

export function seconds(msValue: number): string {
  return `${Math.round(msValue / 1000)} s`;
}

/** The group vanished or was replaced under us: start over from cleaning, a bounded number of times. */
export function recreate(ctx: StepContext, why: string): StepResult {
  // A rollback to the kept group has nothing to re-create: that group is the point.
  if (ctx.r.reusesGroupOf) return fail(ctx, 'GroupLost', `${why}; the rollback target is gone`);
  if (ctx.r.recreations >= 2)
    return fail(ctx, 'GroupLost', `${why}; gave up after ${ctx.r.recreations} re-creations`);
  ctx.r.recreations += 1;
  delete ctx.r.createRequestedAt;
  delete ctx.r.healthStartedAt;
  ctx.r.healthSuccesses = 0;
  return goto(ctx, 'cleaningIdle', `${why}; re-creating it`);
}
