/**
 * Moving callers back to the group that served before the switch, while it still runs: when the check after the
 * switch fails (`verifying`), or an operator rolls back during `verifying` or `draining`. The secret is written
 * first (callers move at once), then the rollout ends `rolledBack`, its group is removed (unless `keepFailed`)
 * and its digest is turned away from automatic redeploys until an operator retries it.
 */
import { diagnoseGroup } from '../groupDiagnosis.js';
import { iso, type FailureReason } from '../model.js';
import { addCondition, closeRollout, rejectDigest } from '../appState.js';
import { pointCallers } from '../callerPointers.js';
import type { StepContext, StepResult } from './step.js';

/** The operator's rollback, if one was asked for: the revert to run instead of the step. */
export function revertRequested(ctx: StepContext): Promise<StepResult> | undefined {
  const by = ctx.r.revertRequestedBy;
  if (!by) return undefined;
  const why = `rolled back by ${by.actor}${by.reason ? `: ${by.reason}` : ''}`;
  return revertToPrevious(ctx, 'RolledBackByOperator', why);
}

/** Turn the rollout's digest away and record why (the rollout's state is closed by the caller). */
function turnAway(ctx: StepContext, reason: FailureReason, message: string): void {
  const { r } = ctx;
  r.error = { step: r.step, reason, message };
  rejectDigest(ctx.state, { digest: r.digest, tag: r.tag, at: iso(ctx.now), reason: message });
}

export async function revertToPrevious(
  ctx: StepContext,
  reason: FailureReason,
  message: string,
): Promise<StepResult> {
  const { r, app, state, now } = ctx;
  const prev = r.previous;
  const g = prev ? await ctx.deps.containerGroups.get(prev.resourceGroup, prev.group) : undefined;
  const d = g ? diagnoseGroup(g, app.health.maxRestarts) : undefined;
  if (!prev || !d || d.phase !== 'running') {
    const why = !prev
      ? 'no previous group to return to'
      : !d
        ? `${prev.group} is gone`
        : `${prev.group} is not Running (${d.phase === 'failed' ? d.message : d.phase === 'pending' ? d.detail : ''})`;
    if (reason === 'RolledBackByOperator') {
      // The action was accepted while the previous group ran; it stopped since. Say so and carry on.
      delete r.revertRequestedBy;
      addCondition(r, 'operator', now, `${message}: cannot move callers back: ${why}; the rollout goes on`);
      return { kind: 'continue' };
    }
    // Nothing to return to: the new group keeps serving (a failed check is no reason to leave callers with none).
    turnAway(ctx, reason, `${message}; ${why}: ${r.group} keeps serving`);
    addCondition(r, 'failed', now, r.error!.message);
    closeRollout(state, r, 'failed', now);
    return { kind: 'continue' };
  }
  // The same one way to move callers as the switch: the DNS record (if any), then the secret.
  const pointed = (await pointCallers(ctx.deps, app, prev, d.ip)).join(', ');
  state.active = { ...prev, since: iso(now) };
  turnAway(ctx, reason, message);
  addCondition(r, 'rolledBack', now, `${message}; ${pointed} (${prev.group}) again`);
  if (!app.keepFailed && !r.reusesGroupOf)
    state.pendingDeletions.push({
      resourceGroup: r.resourceGroup,
      group: r.group,
      rolloutId: r.id,
      notBefore: iso(now),
      reason: `rolled back rollout ${r.id}`,
    });
  closeRollout(state, r, 'rolledBack', now);
  return { kind: 'continue' };
}
