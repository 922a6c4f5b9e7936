/**
 * An app's stored state and the rollout record inside it: creating the state, reading the rollout in progress,
 * adding timeline conditions, closing a rollout (recent list, history and notification to the outbox), and
 * remembering pushes that started nothing. Shared by the push decision, the rollout steps, the runner and
 * reconcile; pure functions over the record, no I/O.
 */
import {
  ACTIONS_MAX,
  IGNORED_MAX,
  REJECTED_MAX,
  RECENT_MAX,
  TIMELINE_MAX,
  iso,
  ms,
  type ActionRecord,
  type ActiveDeployment,
  type AppState,
  type HistoryEntry,
  type IgnoredPush,
  type OutboxItem,
  type RejectedDigest,
  type Rollout,
  type RolloutNotificationType,
} from './model.js';
import { clip } from '../events/fieldLimits.js';

export function inProgress(state: AppState | undefined): Rollout | undefined {
  const r = state?.rollout;
  return r && r.state === 'inProgress' ? r : undefined;
}

export function newAppState(app: string, now: number, active?: ActiveDeployment): AppState {
  return {
    schemaVersion: 1,
    app,
    ...(active ? { active } : {}),
    pendingDeletions: [],
    recent: [],
    outbox: [],
    updatedAt: iso(now),
  };
}

/**
 * Remember a push that started no rollout (newest first, bounded). False when it is already there: a redelivered
 * event needs no write.
 */
export function recordIgnored(state: AppState, entryIn: IgnoredPush): boolean {
  const entry = { ...entryIn, reason: clip(entryIn.reason) };
  const list = state.ignored ?? [];
  // One entry per digest and reason, whatever the event id: a push Event Grid redelivers, or a tag pushed again,
  // says nothing new, and writing each one would make every duplicate a write to the app's row (issue 16: under
  // 100 deliveries/s the duplicates' writes contended with the rollout's own).
  if (list.some((x) => x.digest === entry.digest && x.outcome === entry.outcome && x.reason === entry.reason))
    return false;
  state.ignored = [entry, ...list].slice(0, IGNORED_MAX);
  return true;
}

export function addCondition(
  r: Rollout,
  step: Rollout['timeline'][number]['step'],
  at: number,
  message: string,
): void {
  r.timeline.push({ step, at: iso(at), message: clip(message) });
  if (r.timeline.length > TIMELINE_MAX) r.timeline.splice(1, r.timeline.length - TIMELINE_MAX);
}

export function notification(
  state: AppState,
  r: Rollout,
  type: RolloutNotificationType,
  now: number,
  message?: string,
): OutboxItem {
  return {
    kind: 'notify',
    event: {
      type,
      id: `${r.id}.${type}`,
      app: state.app,
      rolloutId: r.id,
      digest: r.digest,
      tag: r.tag,
      group: r.group,
      at: iso(now),
      ...(message ? { message } : {}),
    },
  };
}

/** Mark a rollout finished (any outcome): recent list, history and notification go to the outbox. */
export function closeRollout(
  state: AppState,
  r: Rollout,
  outcome: Exclude<Rollout['state'], 'inProgress'>,
  now: number,
  message?: string,
): void {
  r.state = outcome;
  r.finishedAt = iso(now);
  r.updatedAt = iso(now);
  delete r.waiting;
  delete r.transient;
  state.recent = [
    {
      rolloutId: r.id,
      digest: r.digest,
      tag: r.tag,
      state: outcome,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      ...(r.mediaType ? { mediaType: r.mediaType } : {}),
    },
    ...state.recent.filter((x) => x.rolloutId !== r.id),
  ].slice(0, RECENT_MAX);
  const entry: HistoryEntry = {
    app: state.app,
    rolloutId: r.id,
    digest: r.digest,
    tag: r.tag,
    outcome,
    ...(r.error ? { reason: r.error.reason, message: r.error.message } : message ? { message } : {}),
    colour: r.colour,
    group: r.group,
    ...(r.fromGroup ? { fromGroup: r.fromGroup } : {}),
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    durationMs: now - (ms(r.startedAt) ?? now),
    ...(r.kind && r.kind !== 'push' ? { kind: r.kind } : {}),
    ...(r.requestedBy ? { requestedBy: r.requestedBy } : {}),
    timeline: r.timeline,
  };
  state.outbox.push({ kind: 'history', entry });
  state.outbox.push(notification(state, r, `rollout.${outcome}`, now, r.error?.message ?? message));
}

/** Turn a digest away from automatic redeploys (newest first, bounded; once per digest). */
export function rejectDigest(state: AppState, entry: RejectedDigest): void {
  const rest = (state.rejected ?? []).filter((x) => x.digest !== entry.digest);
  state.rejected = [entry, ...rest].slice(0, REJECTED_MAX);
}

/** Allow a digest again (an operator's retry or an explicit rollback to it). */
export function unrejectDigest(state: AppState, digest: string): void {
  if (!state.rejected) return;
  state.rejected = state.rejected.filter((x) => x.digest !== digest);
  if (state.rejected.length === 0) delete state.rejected;
}

/** Keep an operator action in the app's action log (newest first, bounded). */
export function recordAction(state: AppState, entry: ActionRecord): void {
  state.actions = [entry, ...(state.actions ?? [])].slice(0, ACTIONS_MAX);
}
