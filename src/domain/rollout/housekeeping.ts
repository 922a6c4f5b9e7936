/**
 * Housekeeping of an app's row, apart from the rollout steps: history and notifications left in the outbox, and
 * groups of failed or superseded rollouts waiting to be deleted. Each pass is idempotent (history rows are keyed
 * by rollout, notifications are at least once, a deletion re-checks the group), so a pass that loses a CAS race
 * is simply run again on the fresh row.
 */
import type { DomainDeps } from '../deps.js';
import { optionsOf } from '../deps.js';
import { ConflictError, TerminalError, errorMessage } from '../errors.js';
import { GROUP_TAGS, iso, ms, type PendingDeletion } from '../model.js';
import type { ContainerGroupView } from '../ports.js';
import { save, type Held } from './heldState.js';

/** Passes lost to concurrent writers before housekeeping leaves the rest to the next run. */
const MAX_CONFLICTS = 5;

/**
 * Delete a group, or re-issue the delete when an earlier one seems stuck (still Deleting `deleteReissueMs` after
 * it was requested). Returns the time of the request when one was sent, undefined while an earlier one runs.
 */
export async function deleteWithReissue(
  deps: DomainDeps,
  g: ContainerGroupView,
  resourceGroup: string,
  requestedAt: string | undefined,
  now: number,
): Promise<string | undefined> {
  const requested = ms(requestedAt);
  if (
    g.provisioningState === 'Deleting' &&
    requested !== undefined &&
    now - requested <= optionsOf(deps).deleteReissueMs
  )
    return undefined;
  await deps.containerGroups.delete(resourceGroup, g.name);
  return iso(now);
}

/** Append history and publish notifications left in the outbox, then remove them (at least once). */
async function flushOutbox(deps: DomainDeps, held: Held): Promise<Held> {
  if (held.state.outbox.length === 0) return held;
  const done = new Set<number>();
  for (const [i, item] of held.state.outbox.entries()) {
    try {
      if (item.kind === 'history') await deps.rolloutStore.appendHistory(held.state.app, item.entry);
      else await deps.notifier?.publish(item.event);
      done.add(i);
    } catch (e) {
      if (item.kind === 'notify') {
        deps.logger.warn(`notification ${item.event.type} for ${item.event.app} dropped: ${errorMessage(e)}`);
        done.add(i);
      } else {
        deps.logger.warn(`history for ${held.state.app} not written yet: ${errorMessage(e)}`);
      }
    }
  }
  const draft = structuredClone(held.state);
  draft.outbox = held.state.outbox.filter((_, i) => !done.has(i));
  return save(deps, held, draft);
}

/** One pending deletion: kept while its group is still there, dropped once it is gone or not ours to delete. */
async function processDeletion(deps: DomainDeps, p: PendingDeletion, now: number): Promise<boolean> {
  try {
    const g = await deps.containerGroups.get(p.resourceGroup, p.group);
    if (!g) return false;
    if (p.rolloutId && g.tags[GROUP_TAGS.rolloutId] !== p.rolloutId) return false; // name reused by a newer rollout
    const issued = await deleteWithReissue(deps, g, p.resourceGroup, p.requestedAt, now);
    if (issued) {
      p.requestedAt = issued;
      deps.logger.info(`deleting ${p.resourceGroup}/${p.group} (${p.reason})`);
    }
    return true;
  } catch (e) {
    if (e instanceof TerminalError) {
      deps.logger.warn(`cannot delete ${p.resourceGroup}/${p.group} (${p.reason}): ${errorMessage(e)}`);
      return false;
    }
    return true;
  }
}

/** Delete groups of failed/superseded rollouts whose time has come; drop entries once the group is gone. */
async function processPendingDeletions(deps: DomainDeps, held: Held, now: number): Promise<Held> {
  const isDue = (p: PendingDeletion) => (ms(p.notBefore) ?? 0) <= now;
  if (!held.state.pendingDeletions.some(isDue)) return held;
  const draft = structuredClone(held.state);
  const keep: PendingDeletion[] = [];
  for (const p of draft.pendingDeletions) {
    if (!isDue(p)) keep.push(p);
    else if (draft.active?.group === p.group && draft.active.resourceGroup === p.resourceGroup) continue;
    else if (await processDeletion(deps, p, now)) keep.push(p);
  }
  draft.pendingDeletions = keep;
  // The rollback window closed with its deletion: the kept group is no longer a target.
  if (draft.rollbackTarget && (ms(draft.rollbackTarget.until) ?? 0) <= now) delete draft.rollbackTarget;
  return save(deps, held, draft);
}

/**
 * Run both passes on the held row. A CAS conflict re-reads the row and runs them again (they are idempotent);
 * after a few lost races the rest is left to the next run. Store failures other than conflicts propagate.
 */
export async function housekeep(deps: DomainDeps, held: Held): Promise<Held> {
  for (let conflicts = 0; ; conflicts++) {
    try {
      const flushed = await flushOutbox(deps, held);
      return await processPendingDeletions(deps, flushed, deps.clock.now());
    } catch (e) {
      if (!(e instanceof ConflictError) || conflicts >= MAX_CONFLICTS) throw e;
      const fresh = await deps.rolloutStore.get(held.state.app);
      if (!fresh) return held;
      held = fresh;
    }
  }
}
