/**
 * The app's stored row as a runner holds it (state + ETag), and the two store operations every writer of a
 * rollout needs: a compare-and-swap save that skips writes that change nothing, and the one conflict rule.
 */
import type { DomainDeps } from '../deps.js';
import { iso, type AppState, type Rollout } from '../model.js';

export interface Held {
  state: AppState;
  etag: string;
}

function same(a: AppState, b: AppState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Write `draft` if it differs from what is held (CAS on the held ETag; ConflictError when someone wrote first). */
export async function save(deps: DomainDeps, held: Held, draft: AppState): Promise<Held> {
  if (same(held.state, draft)) return held;
  draft.updatedAt = iso(deps.clock.now());
  const etag = await deps.rolloutStore.replace(draft.app, draft, held.etag);
  return { state: draft, etag };
}

/** Did the rollout move (another id, step or state) between two reads of the row? */
function moved(before: Rollout | undefined, after: Rollout | undefined): boolean {
  if (!before || !after) return before !== after;
  return before.id !== after.id || before.step !== after.step || before.state !== after.state;
}

/**
 * The conflict rule, the same wherever a writer may have been overtaken (a failed CAS, or a sleep): re-read the
 * row; if the rollout moved or the row is gone, stop (another instance owns it now); if only something else
 * changed (a duplicate push recorded itself, a push was queued), carry on with the fresh row.
 */
export async function reread(
  deps: DomainDeps,
  held: Held,
): Promise<{ held: Held; stop: false } | { held: Held; stop: true; why: string }> {
  const fresh = await deps.rolloutStore.get(held.state.app);
  if (!fresh) return { held, stop: true, why: 'state row vanished' };
  if (fresh.etag === held.etag) return { held, stop: false };
  if (moved(held.state.rollout, fresh.state.rollout))
    return { held: fresh, stop: true, why: 'another instance advanced this rollout' };
  return { held: fresh, stop: false };
}
