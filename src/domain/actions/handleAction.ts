/**
 * An operator's action (`POST /api/apps/{app}/{action}`): read what the decision needs from Azure, decide against
 * the app's stored row and store the result with a compare-and-swap (re-reading on a conflict, as a push does),
 * then move the rollout it touched forward within the request's budget. What is left (a drain, a verify period)
 * is resumed by the reconcile timer from the stored state.
 */
import { findApp, type Budget, type DomainDeps } from '../deps.js';
import { ConflictError, NotFoundError, TransientError, errorMessage } from '../errors.js';
import { COMMITTED_STEPS, ms, type AppState, type RolloutState, type RolloutStep } from '../model.js';
import { inProgress } from '../appState.js';
import { deployGate } from '../deployGate.js';
import { diagnoseGroup } from '../groupDiagnosis.js';
import { initialState } from '../rollout/adoption.js';
import { advance } from '../rollout/runner.js';
import type { AppConfig } from '../../config/appsConfig.js';
import { decideAction, type ActionFacts, type ActionRequest } from './decideAction.js';

export type ActionResult =
  | {
      outcome: 'accepted';
      app: string;
      action: ActionRequest['action'];
      message: string;
      rolloutId?: string;
      /** Where the rollout stood when the request's budget ended (the timer carries on). */
      rolloutState?: RolloutState;
      step?: RolloutStep;
    }
  | { outcome: 'notApplicable'; app: string; action: ActionRequest['action']; reason: string }
  | { outcome: 'unknownApp'; app: string; reason: string };

const MAX_CAS_ATTEMPTS = 8;

async function runs(
  deps: DomainDeps,
  app: AppConfig,
  resourceGroup: string,
  group: string,
): Promise<boolean> {
  const g = await deps.containerGroups.get(resourceGroup, group);
  return g !== undefined && diagnoseGroup(g, app.health.maxRestarts).phase === 'running';
}

/** Read only what this action can need: the registry for new rollouts, the groups a rollback may return to. */
async function gatherFacts(
  app: AppConfig,
  state: AppState,
  req: ActionRequest,
  deps: DomainDeps,
  now: number,
): Promise<ActionFacts> {
  const facts: ActionFacts = { gate: deployGate(app, deps.deployFreeze, now) };
  const r = inProgress(state);
  if (req.action === 'rollback' || req.action === 'retry' || req.action === 'redeploy') {
    if (!r) {
      try {
        facts.loginServer = await deps.registries.loginServer(app.registry.resourceId);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
  }
  if (req.action !== 'rollback') return facts;
  if (r?.previous && COMMITTED_STEPS.has(r.step))
    facts.previousRunning = await runs(deps, app, r.previous.resourceGroup, r.previous.group);
  const t = state.rollbackTarget;
  if (!r && t && (ms(t.until) ?? 0) > now)
    facts.rollbackTargetRunning = await runs(deps, app, t.resourceGroup, t.group);
  return facts;
}

/** Decide and store (CAS), re-reading on a conflict. */
async function decideAndStore(
  app: AppConfig,
  req: ActionRequest,
  deps: DomainDeps,
): Promise<{ refused: string } | { message: string; rolloutId?: string }> {
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const held = await deps.rolloutStore.get(app.name);
    // As for pushes: never stamp a decision before the row's last write.
    const now = Math.max(deps.clock.now(), ms(held?.state.updatedAt) ?? 0);
    const state = held?.state ?? (await initialState(app, deps, now));
    const facts = await gatherFacts(app, state, req, deps, now);
    const decision = decideAction(state, app, req, facts, now);
    if ('refused' in decision) return decision;
    try {
      if (held) await deps.rolloutStore.replace(app.name, decision.state, held.etag);
      else await deps.rolloutStore.create(app.name, decision.state);
    } catch (e) {
      if (e instanceof ConflictError) continue;
      throw e;
    }
    return { message: decision.message, ...(decision.rolloutId ? { rolloutId: decision.rolloutId } : {}) };
  }
  throw new TransientError(`${app.name}: state kept changing under ${MAX_CAS_ATTEMPTS} attempts; try again`);
}

export async function handleOperatorAction(
  req: ActionRequest,
  deps: DomainDeps,
  budget: Budget,
): Promise<ActionResult> {
  const app = findApp(deps.config, req.app);
  if (!app) {
    const refused = deps.config.refusedApps.find((a) => a.name === req.app);
    return {
      outcome: 'unknownApp',
      app: req.app,
      reason: refused
        ? `app ${req.app} has config errors: ${refused.errors.join('; ')}`
        : `app ${req.app} is not configured`,
    };
  }
  const decided = await decideAndStore(app, req, deps);
  const who = `${req.actor}${req.reason ? ` (${req.reason})` : ''}`;
  if ('refused' in decided) {
    deps.logger.info(`${app.name}: ${req.action} by ${who} not applicable: ${decided.refused}`);
    return { outcome: 'notApplicable', app: app.name, action: req.action, reason: decided.refused };
  }
  deps.logger.info(`${app.name}: ${req.action} by ${who}: ${decided.message}`, {
    app: app.name,
    ...(decided.rolloutId ? { rolloutId: decided.rolloutId } : {}),
  });
  const result: ActionResult = { outcome: 'accepted', app: app.name, action: req.action, ...decided };
  try {
    const progress = await advance(app.name, deps, budget);
    const r = progress.state?.rollout;
    // resume starts the queued push inside advance: report that rollout.
    if (req.action === 'resume' && r?.state === 'inProgress') result.rolloutId = r.id;
    if (r && r.id === result.rolloutId) {
      result.rolloutState = r.state;
      result.step = r.step;
    }
  } catch (e) {
    // The decision is stored; the reconcile timer carries it out.
    deps.logger.warn(`${app.name}: advancing after ${req.action} failed: ${errorMessage(e)}`);
  }
  return result;
}
