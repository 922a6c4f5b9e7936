/**
 * What a (valid, allowed) push means for an app's stored state: start a rollout, supersede the one in flight,
 * queue behind one that has already switched, or ignore it as a duplicate / stale event. Pure: the caller
 * writes the result with a compare-and-swap, so concurrent deliveries decide against the same record.
 */
import type { AppConfig } from '../config/appsConfig.js';
import {
  COMMITTED_STEPS,
  groupNameFor,
  iso,
  ms,
  type ActiveDeployment,
  type AppState,
  type Colour,
  type PushIntent,
  type ActorNote,
  type QueuedPush,
  type RollbackTarget,
  type Rollout,
  type RolloutKind,
} from './model.js';
import { addCondition, closeRollout, inProgress, notification } from './appState.js';
import { GATE_OPEN, heldUntilWords, type DeployGate } from './deployGate.js';
import { checkNotDowngrade, outranksAll, type VersionRef } from './tagPolicy.js';

export type PushDecision =
  | { action: 'ignore'; reason: string }
  | { action: 'start'; reason: string }
  | { action: 'supersede'; reason: string }
  | { action: 'queue'; reason: string };

/**
 * `gate` says whether a deploy may start now (deployGate.ts): while it holds (freeze, outside the app's deploy
 * windows) an allowed push is queued, newest allowed winning, and starts when the gate opens.
 */
export function decidePush(
  state: AppState | undefined,
  push: PushIntent,
  app: AppConfig,
  gate: DeployGate = GATE_OPEN,
): PushDecision {
  const short = push.digest.slice(7, 19);
  const current = inProgress(state);
  const active = state?.active;
  const queued = state?.queued;

  // Duplicates: same digest as what serves, what is being rolled out, or what waits.
  if (active?.digest === push.digest)
    return {
      action: 'ignore',
      reason: `duplicate: digest ${short} (${push.tag}) is already active in ${active.group}`,
    };
  if (current?.digest === push.digest)
    return {
      action: 'ignore',
      reason: `duplicate: digest ${short} is already being rolled out (${current.id})`,
    };
  if (queued?.digest === push.digest)
    return { action: 'ignore', reason: `duplicate: digest ${short} is already queued` };
  const turnedAway = state?.rejected?.find((x) => x.digest === push.digest);
  if (turnedAway && !app.force)
    return {
      action: 'ignore',
      reason: `rejected: digest ${short} was turned away at ${turnedAway.at} (${turnedAway.reason}); use the retry action to deploy it again`,
    };
  const seen = state?.recent.find((r) => r.digest === push.digest);
  if (seen) {
    const fresh = (ms(push.eventTime) ?? 0) > (ms(seen.startedAt) ?? 0);
    if (!(app.force && fresh))
      return {
        action: 'ignore',
        reason: `duplicate: digest ${short} was already rolled out in ${seen.rolloutId} (${seen.state})${app.force ? '' : '; set "force" to redeploy it'}`,
      };
  }

  // Stale: a lower version than what serves / is in flight / waits, or (when versions do not decide) an
  // event older than the last one acted on.
  const against: VersionRef[] = [];
  if (active?.tag) against.push({ label: 'active', tag: active.tag });
  if (current) against.push({ label: 'in-flight', tag: current.tag });
  if (queued) against.push({ label: 'queued', tag: queued.tag });
  const down = checkNotDowngrade(app.tagPolicy, app.force, push.tag, against);
  if (!down.allowed) return { action: 'ignore', reason: down.reason };
  const last = ms(state?.lastAppliedEventTime);
  const t = ms(push.eventTime) ?? 0;
  if (last !== undefined && t < last && !outranksAll(app.tagPolicy, app.force, push.tag, against))
    return {
      action: 'ignore',
      reason: `stale: event time ${push.eventTime} is older than the last applied event (${state?.lastAppliedEventTime})`,
    };

  if (state?.paused)
    return {
      action: 'queue',
      reason: `queued: ${state.app} is paused (by ${state.paused.actor}${state.paused.reason ? `: ${state.paused.reason}` : ''}); ${push.tag} starts on resume`,
    };
  if (gate.held)
    return {
      action: 'queue',
      reason: `queued: ${gate.message}; ${push.tag} starts ${heldUntilWords(gate)}`,
    };
  if (!current) return { action: 'start', reason: `${startWords(push)} of ${push.tag} (${short}) started` };
  if (COMMITTED_STEPS.has(current.step))
    return {
      action: 'queue',
      reason: `queued: rollout ${current.id} has already switched (${current.step}); ${push.tag} starts when it finishes`,
    };
  return {
    action: 'supersede',
    reason: `${push.tag} supersedes the rollout of ${current.tag} (${current.id})`,
  };
}

/** How a rollout's first timeline entry names what started it. */
function startWords(push: PushIntent): string {
  return push.source === 'catchUp' ? 'catch-up rollout' : 'rollout';
}

/** Sortable and readable: start time (ms) and the digest's first 12 hex digits, as `docker images` shows. */
export function rolloutId(push: PushIntent, now: number): string {
  return `${iso(now).replace(/[-:.]/g, '')}-${push.digest.slice(7, 19)}`;
}

/** The colour the next rollout uses: whichever of `{app}-blue`/`{app}-green` is not serving. */
export function idleColour(app: string, active: ActiveDeployment | undefined): Colour {
  if (!active) return 'blue';
  if (active.group === groupNameFor(app, 'blue')) return 'green';
  if (active.group === groupNameFor(app, 'green')) return 'blue';
  return 'blue';
}

/** Who started a rollout that no push started. */
export interface RolloutOrigin {
  kind: Exclude<RolloutKind, 'push' | 'catchUp'>;
  requestedBy: ActorNote;
  /** A rollback to the group kept in the rollback window: the rollout moves callers to it and creates nothing. */
  reuse?: RollbackTarget & { colour: Colour };
}

/**
 * Start a rollout of `push` on the idle colour (mutates `state`). Its start closes the rollback window: the kept
 * previous group has the idle colour, so cleaning it is this rollout's first step.
 */
export function startRollout(
  state: AppState,
  push: PushIntent,
  app: AppConfig,
  now: number,
  reason: string,
  origin?: RolloutOrigin,
): Rollout {
  const reuse = origin?.reuse;
  const colour = reuse?.colour ?? idleColour(app.name, state.active);
  const r: Rollout = {
    id: rolloutId(push, now),
    state: 'inProgress',
    ...(origin
      ? { kind: origin.kind, requestedBy: origin.requestedBy }
      : push.source === 'catchUp'
        ? { kind: 'catchUp' as const }
        : {}),
    ...(reuse ? { reusesGroupOf: reuse.rolloutId ? { rolloutId: reuse.rolloutId } : {} } : {}),
    // The kept group runs and served until the last rollout: only the quick health gate stands before the switch.
    step: reuse ? 'healthGate' : 'accepted',
    repository: push.repository,
    tag: push.tag,
    digest: push.digest,
    loginServer: push.loginServer,
    image: reuse?.image ?? `${push.loginServer}/${push.repository}@${push.digest}`,
    // The kept group keeps the secret versions it was created with.
    ...(reuse?.secretVersions ? { secretVersions: reuse.secretVersions } : {}),
    ...(push.mediaType ? { mediaType: push.mediaType } : {}),
    eventId: push.eventId,
    eventTime: push.eventTime,
    colour,
    resourceGroup: reuse?.resourceGroup ?? app.resourceGroup,
    group: reuse?.group ?? groupNameFor(app.name, colour),
    startedAt: iso(now),
    updatedAt: iso(now),
    healthSuccesses: 0,
    recreations: 0,
    timeline: [],
  };
  addCondition(r, 'accepted', now, `${reason}; target ${r.group}, image ${r.image}`);
  state.rollout = r;
  delete state.rollbackTarget;
  // Only pushes order pushes: an operator's rollout must not make a delayed delivery look stale.
  if (!origin) state.lastAppliedEventTime = maxTime(state.lastAppliedEventTime, push.eventTime);
  state.outbox.push(notification(state, r, 'rollout.started', now));
  return r;
}

function maxTime(a: string | undefined, b: string): string {
  return a !== undefined && (ms(a) ?? 0) > (ms(b) ?? 0) ? a : b;
}

/**
 * Apply a decision to a copy of the state. Returns the new state and the id of the rollout started (if any).
 * For 'ignore' the state is returned unchanged.
 */
export function applyPush(
  stateIn: AppState,
  push: PushIntent,
  decision: PushDecision,
  app: AppConfig,
  now: number,
): { state: AppState; rolloutId?: string } {
  if (decision.action === 'ignore') return { state: stateIn };
  const state = structuredClone(stateIn);
  state.updatedAt = iso(now);
  if (decision.action === 'queue') {
    const q: QueuedPush = { ...push, receivedAt: iso(now) };
    state.queued = q;
    state.lastAppliedEventTime = maxTime(state.lastAppliedEventTime, push.eventTime);
    const current = inProgress(state);
    if (current) addCondition(current, 'queued', now, decision.reason);
    return { state };
  }
  if (decision.action === 'supersede') {
    const old = state.rollout!;
    const r = rolloutId(push, now);
    old.supersededBy = r;
    addCondition(old, 'superseded', now, `superseded by ${push.tag} (${r})`);
    closeRollout(state, old, 'superseded', now, `superseded by ${push.tag} (${r})`);
    // Its group (if created) is removed; guarded by its rollout id, as the new rollout reuses the name.
    state.pendingDeletions.push({
      resourceGroup: old.resourceGroup,
      group: old.group,
      rolloutId: old.id,
      notBefore: iso(now),
      reason: `superseded rollout ${old.id}`,
    });
  }
  const r = startRollout(state, push, app, now, decision.reason);
  return { state, rolloutId: r.id };
}
