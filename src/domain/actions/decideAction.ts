/**
 * What an operator's action means for an app's stored state: pure, like the push decision, so the caller writes
 * the result with a compare-and-swap and concurrent actions (or pushes) decide against the same record. An action
 * that does not apply now is refused with the reason (HTTP 409); one that applies is recorded in the app's action
 * log, on the rollout's timeline and as a notification.
 */
import type { AppConfig } from '../../config/appsConfig.js';
import {
  COMMITTED_STEPS,
  iso,
  ms,
  type ActorNote,
  type AppState,
  type OperatorAction,
  type PushIntent,
  type Colour,
  type Rollout,
  type RollbackTarget,
} from '../model.js';
import {
  addCondition,
  closeRollout,
  inProgress,
  recordAction,
  rejectDigest,
  unrejectDigest,
} from '../appState.js';
import { heldUntilWords, type DeployGate } from '../deployGate.js';
import { startRollout, type RolloutOrigin } from '../pushDecision.js';
import { latestFailedVersion, previousGoodVersion, type Version } from './actionTargets.js';

export interface ActionRequest {
  app: string;
  action: OperatorAction;
  /** rollback / retry: a digest or a rollout id. */
  to?: string;
  reason?: string;
  /** retry / redeploy: start even while the deploy gate holds (outside the deploy windows, during a freeze). */
  force?: boolean;
  /** The signed-in principal (Easy Auth), else "function key". */
  actor: string;
}

/** What only Azure knows, read before deciding (only what the action needs). */
export interface ActionFacts {
  /** The registry's login server, for actions that start a rollout. */
  loginServer?: string;
  /** The group kept in the rollback window runs. */
  rollbackTargetRunning?: boolean;
  /** The group that served before the in-flight rollout's switch still runs. */
  previousRunning?: boolean;
  /** Whether a deploy may start now (deployGate.ts); absent: it may. */
  gate?: DeployGate;
}

export type ActionDecision = { refused: string } | { state: AppState; message: string; rolloutId?: string };

type Decide = (
  state: AppState,
  app: AppConfig,
  req: ActionRequest,
  facts: ActionFacts,
  now: number,
) => ActionDecision;

function note(req: ActionRequest, now: number): ActorNote {
  return { actor: req.actor, ...(req.reason ? { reason: req.reason } : {}), at: iso(now) };
}

function by(req: ActionRequest): string {
  return `${req.action}${req.force ? ' (forced)' : ''} by ${req.actor}${req.reason ? `: ${req.reason}` : ''}`;
}

/** Start a rollout of an earlier (or the active) version on operator's behalf. */
function startVersion(
  state: AppState,
  app: AppConfig,
  req: ActionRequest,
  facts: ActionFacts,
  now: number,
  version: Version,
  kind: RolloutOrigin['kind'],
): ActionDecision {
  if (!facts.loginServer) return { refused: `the registry of ${app.name} could not be read; try again` };
  const intent: PushIntent = {
    eventId: `operator-${req.action}-${iso(now)}`,
    eventTime: iso(now),
    repository: app.repository,
    tag: version.tag,
    digest: version.digest,
    loginServer: facts.loginServer,
    ...(version.mediaType ? { mediaType: version.mediaType } : {}),
  };
  unrejectDigest(state, version.digest);
  const r = startRollout(state, intent, app, now, `${by(req)}: ${kind} to ${version.tag}`, {
    kind,
    requestedBy: note(req, now),
  });
  return {
    state,
    rolloutId: r.id,
    message: `${kind} of ${version.tag} (${version.digest.slice(7, 19)}) started: ${r.id}`,
  };
}

function refuseInFlight(r: Rollout, what: string): ActionDecision {
  return {
    refused: `rollout ${r.id} (${r.tag}) is in progress at ${r.step}; ${what}`,
  };
}

const pause: Decide = (state, app, req, _facts, now) => {
  if (state.paused)
    return { refused: `${app.name} is already paused (by ${state.paused.actor} at ${state.paused.at})` };
  state.paused = note(req, now);
  return { state, message: `${app.name} paused: pushes are queued until resume` };
};

const resume: Decide = (state, app, _req, facts) => {
  if (!state.paused) return { refused: `${app.name} is not paused` };
  delete state.paused;
  const q = state.queued;
  const gate = facts.gate;
  const when = gate?.held ? ` ${heldUntilWords(gate)} (${gate.message})` : '';
  return {
    state,
    message: q ? `${app.name} resumed; queued ${q.tag} starts${when}` : `${app.name} resumed; nothing queued`,
  };
};

const promote: Decide = (state, app, req, _facts, now) => {
  const r = inProgress(state);
  if (!r || r.step !== 'awaitingPromotion')
    return {
      refused: r
        ? `rollout ${r.id} is at ${r.step}, not awaiting promotion`
        : `nothing of ${app.name} awaits promotion`,
    };
  if (r.promotedBy) return { refused: `rollout ${r.id} was already promoted by ${r.promotedBy.actor}` };
  r.promotedBy = note(req, now);
  delete r.resumeAt;
  addCondition(r, 'operator', now, by(req));
  return { state, rolloutId: r.id, message: `${r.id} (${r.tag}) promoted: callers move to ${r.group}` };
};

const abort: Decide = (state, app, req, _facts, now) => {
  const r = inProgress(state);
  if (!r) return { refused: `no rollout of ${app.name} is in progress` };
  if (COMMITTED_STEPS.has(r.step))
    return { refused: `rollout ${r.id} has already switched callers (${r.step}); use rollback` };
  const message = `aborted by ${req.actor}${req.reason ? `: ${req.reason}` : ''}`;
  r.error = { step: r.step, reason: 'AbortedByOperator', message };
  addCondition(r, 'aborted', now, message);
  if (r.step !== 'accepted' && !r.reusesGroupOf)
    state.pendingDeletions.push({
      resourceGroup: r.resourceGroup,
      group: r.group,
      rolloutId: r.id,
      notBefore: iso(now),
      reason: `aborted rollout ${r.id}`,
    });
  closeRollout(state, r, 'aborted', now, message);
  return {
    state,
    rolloutId: r.id,
    message: `${r.id} (${r.tag}) aborted; ${state.active?.group ?? 'nothing'} keeps serving`,
  };
};

/** Rollback while the in-flight rollout's previous group still serves: revert now (the step does the write). */
function rollbackInFlight(
  state: AppState,
  r: Rollout,
  req: ActionRequest,
  facts: ActionFacts,
  now: number,
): ActionDecision {
  if (!COMMITTED_STEPS.has(r.step)) return refuseInFlight(r, 'it has not switched callers yet: use abort');
  if (r.step === 'deletingOld' || !r.previous)
    return refuseInFlight(r, 'its previous group is being deleted: roll back once it has finished');
  if (!facts.previousRunning)
    return refuseInFlight(r, `${r.previous.group} is not Running: roll back once it has finished`);
  if (req.to !== undefined && req.to !== r.previous.digest && req.to !== r.previous.rolloutId)
    return refuseInFlight(r, `only ${r.previous.tag ?? r.previous.group} can be returned to now`);
  if (r.revertRequestedBy)
    return { refused: `rollback of ${r.id} already requested by ${r.revertRequestedBy.actor}` };
  r.revertRequestedBy = note(req, now);
  delete r.resumeAt;
  addCondition(r, 'operator', now, by(req));
  return { state, rolloutId: r.id, message: `${r.id} (${r.tag}) rolls back to ${r.previous.group}` };
}

/** The group kept in the rollback window, if the action may return to it now. */
function keptTarget(
  state: AppState,
  req: ActionRequest,
  facts: ActionFacts,
  now: number,
): (RollbackTarget & { colour: Colour }) | undefined {
  const t = state.rollbackTarget;
  if (!t || (ms(t.until) ?? 0) <= now || !facts.rollbackTargetRunning || t.colour === 'adopted' || !t.digest)
    return undefined;
  if (req.to !== undefined && req.to !== t.digest && req.to !== t.rolloutId) return undefined;
  return { ...t, colour: t.colour };
}

const rollback: Decide = (state, app, req, facts, now) => {
  const r = inProgress(state);
  if (r) return rollbackInFlight(state, r, req, facts, now);
  const from = state.active;
  const t = keptTarget(state, req, facts, now);
  if (t) {
    // Fast path: a rollout that creates nothing, gates once on the kept group's health and switches.
    const intent: PushIntent = {
      eventId: `operator-rollback-${iso(now)}`,
      eventTime: iso(now),
      repository: app.repository,
      tag: t.tag ?? '',
      digest: t.digest!,
      loginServer: facts.loginServer ?? '',
    };
    const started = startRollout(state, intent, app, now, `${by(req)}: back to ${t.group}`, {
      kind: 'rollback',
      requestedBy: note(req, now),
      reuse: t,
    });
    if (from?.digest)
      rejectDigest(state, { digest: from.digest, tag: from.tag ?? '', at: iso(now), reason: by(req) });
    unrejectDigest(state, t.digest!);
    return {
      state,
      rolloutId: started.id,
      message: `rolling back to ${t.group} (${t.tag}), kept since the last rollout`,
    };
  }
  const choice = previousGoodVersion(state, req.to);
  if ('refused' in choice) return choice;
  const started = startVersion(state, app, req, facts, now, choice.version, 'rollback');
  if ('state' in started && from?.digest && from.digest !== choice.version.digest)
    rejectDigest(state, { digest: from.digest, tag: from.tag ?? '', at: iso(now), reason: by(req) });
  return started;
};

/** A retry or redeploy waits for the deploy gate like a push, unless forced. */
function held(req: ActionRequest, facts: ActionFacts): ActionDecision | undefined {
  const gate = facts.gate;
  if (!gate?.held || req.force) return undefined;
  return { refused: `${gate.message}; send {"force": true} to ${req.action} now` };
}

const retry: Decide = (state, app, req, facts, now) => {
  const r = inProgress(state);
  if (r) return refuseInFlight(r, 'retry once it has finished');
  const waits = held(req, facts);
  if (waits) return waits;
  const choice = latestFailedVersion(state, req.to);
  if ('refused' in choice) return choice;
  return startVersion(state, app, req, facts, now, choice.version, 'retry');
};

const redeploy: Decide = (state, app, req, facts, now) => {
  const r = inProgress(state);
  if (r) return refuseInFlight(r, 'redeploy once it has finished');
  const waits = held(req, facts);
  if (waits) return waits;
  const a = state.active;
  if (!a?.digest || !a.tag) return { refused: `${app.name} has no deployed digest to redeploy` };
  const mediaType = state.recent.find((x) => x.digest === a.digest)?.mediaType;
  return startVersion(
    state,
    app,
    req,
    facts,
    now,
    { digest: a.digest, tag: a.tag, ...(mediaType ? { mediaType } : {}) },
    'redeploy',
  );
};

const DECIDE: Record<OperatorAction, Decide> = { rollback, promote, abort, pause, resume, retry, redeploy };

/** Decide on a copy of `stateIn`; an accepted action is recorded in the action log and the outbox. */
export function decideAction(
  stateIn: AppState,
  app: AppConfig,
  req: ActionRequest,
  facts: ActionFacts,
  now: number,
): ActionDecision {
  const state = structuredClone(stateIn);
  const decision = DECIDE[req.action](state, app, req, facts, now);
  if ('refused' in decision) return decision;
  const at = iso(now);
  state.updatedAt = at;
  recordAction(state, {
    action: req.action,
    actor: req.actor,
    ...(req.reason ? { reason: req.reason } : {}),
    at,
    outcome: decision.message,
    ...(decision.rolloutId ? { rolloutId: decision.rolloutId } : {}),
    ...(req.to ? { to: req.to } : {}),
    ...(req.force ? { forced: true } : {}),
  });
  state.outbox.push({
    kind: 'notify',
    event: {
      type: `operator.${req.action}`,
      id: `${app.name}.${req.action}.${at}`,
      app: app.name,
      at,
      actor: req.actor,
      ...(req.reason ? { reason: req.reason } : {}),
      ...(decision.rolloutId ? { rolloutId: decision.rolloutId } : {}),
      message: decision.message,
    },
  });
  return { ...decision, state };
}
