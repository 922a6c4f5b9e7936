/**
 * An ImagePushed event is a nudge: check it is ours, decide against the stored state (CAS), then advance the
 * rollout within the event budget. Only TransientErrors escape (so Event Grid redelivers); everything else is
 * an outcome with a reason, answered 2xx by the binding.
 */
import { sameResourceId, type AppConfig } from '../config/appsConfig.js';
import type { ImagePushedEvent, ParsedEvent } from '../events/imagePushed.js';
import type { Budget, DomainDeps } from './deps.js';
import { ConflictError, NotFoundError, TerminalError, TransientError, errorMessage } from './errors.js';
import { iso, ms, type IgnoredPush, type PushIntent } from './model.js';
import { recordIgnored } from './appState.js';
import { deployGate } from './deployGate.js';
import { applyPush, decidePush } from './pushDecision.js';
import { initialState } from './rollout/adoption.js';
import { advance, type AdvanceResult } from './rollout/runner.js';
import { checkTagAllowed } from './tagPolicy.js';

export interface PushResult {
  /**
   * started: a rollout began · superseded: it began and replaced the one in flight · queued: it starts after
   * the current rollout (already switched) finishes · ignored: duplicate or stale · rejected: not for us /
   * not allowed / malformed.
   */
  outcome: 'started' | 'superseded' | 'queued' | 'ignored' | 'rejected';
  reason: string;
  app?: string;
  rolloutId?: string;
  eventId?: string;
  /** How far the rollout got within the budget (without the state). */
  advance?: Omit<AdvanceResult, 'state'>;
  /** This delivery's rollout was replaced by a newer push's rollout (its id) while it advanced. */
  supersededBy?: string;
}

const MAX_CAS_ATTEMPTS = 8;

function matchApp(deps: DomainDeps, event: ImagePushedEvent): { app: AppConfig } | { rejected: string } {
  const { config } = deps;
  const refused = config.refusedApps.find(
    (a) =>
      a.registryResourceId !== undefined &&
      sameResourceId(a.registryResourceId, event.topic) &&
      a.repository === event.repository,
  );
  const byTopic = config.apps.filter((a) => sameResourceId(a.registry.resourceId, event.topic));
  const app = byTopic.find((a) => a.repository === event.repository);
  if (app) return { app };
  if (refused) return { rejected: `app ${refused.name} has config errors: ${refused.errors.join('; ')}` };
  if (byTopic.length === 0) return { rejected: `no app is configured for registry ${event.topic}` };
  return { rejected: `repository ${event.repository} is not configured for registry ${event.topic}` };
}

/**
 * Keep a push that started no rollout in the app's state (CAS; bounded), so status shows why. Only for a configured
 * app that has a stored row: foreign traffic never grows the state. A failure to record is logged, never the
 * delivery's failure.
 */
async function recordNoRollout(
  app: AppConfig,
  event: ImagePushedEvent,
  result: PushResult,
  deps: DomainDeps,
): Promise<void> {
  const entry: IgnoredPush = {
    at: iso(deps.clock.now()),
    eventId: event.id,
    tag: event.tag,
    digest: event.digest,
    outcome: result.outcome === 'rejected' ? 'rejected' : 'ignored',
    reason: result.reason,
  };
  try {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const held = await deps.rolloutStore.get(app.name);
      // Only into an existing row: the first row is a rollout's (it decides adoption), never a refused push's.
      if (!held) return;
      const state = structuredClone(held.state);
      if (!recordIgnored(state, entry)) return;
      state.updatedAt = entry.at;
      try {
        await deps.rolloutStore.replace(app.name, state, held.etag);
        return;
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
      }
    }
    deps.logger.warn(`${app.name}: ignored push ${event.id} not recorded: the state kept changing`);
  } catch (e) {
    deps.logger.warn(`${app.name}: ignored push ${event.id} not recorded: ${errorMessage(e)}`);
  }
}

/**
 * Decide what the push means against the app's stored row and store the decision with a compare-and-swap,
 * re-reading on a conflict: concurrent deliveries decide against the same record, so one digest is one rollout.
 */
export async function decideAndStore(
  app: AppConfig,
  intent: PushIntent,
  deps: DomainDeps,
): Promise<{ ignored: string } | Pick<PushResult, 'outcome' | 'reason' | 'rolloutId'>> {
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const held = await deps.rolloutStore.get(app.name);
    // Stamp the decision after reading the row it is made against, and never before that row's last write
    // (another instance's clock may run a little ahead): a rollout must not start before the one it supersedes
    // ended, and a superseded rollout must not end before it started.
    const now = Math.max(deps.clock.now(), ms(held?.state.updatedAt) ?? 0);
    const state = held?.state ?? (await initialState(app, deps, now));
    const decision = decidePush(state, intent, app, deployGate(app, deps.deployFreeze, now));
    if (decision.action === 'ignore') return { ignored: decision.reason };
    const next = applyPush(state, intent, decision, app, now);
    try {
      if (held) await deps.rolloutStore.replace(app.name, next.state, held.etag);
      else await deps.rolloutStore.create(app.name, next.state);
    } catch (e) {
      if (e instanceof ConflictError) {
        deps.logger.debug(`${app.name}: concurrent update while deciding on ${intent.eventId}; re-reading`);
        continue;
      }
      throw e;
    }
    const kind =
      decision.action === 'start' ? 'started' : decision.action === 'supersede' ? 'superseded' : 'queued';
    return {
      outcome: kind,
      reason: decision.reason,
      ...(next.rolloutId ? { rolloutId: next.rolloutId } : {}),
    };
  }
  throw new TransientError(`${app.name}: state kept changing under ${MAX_CAS_ATTEMPTS} attempts; retry`);
}

function intentOf(event: ImagePushedEvent, loginServer: string): PushIntent {
  return {
    eventId: event.id,
    eventTime: event.eventTime,
    repository: event.repository,
    tag: event.tag,
    digest: event.digest,
    loginServer,
    ...(event.mediaType ? { mediaType: event.mediaType } : {}),
  };
}

/**
 * Why the push changes nothing, judged from the app's stored row alone (duplicate, stale, turned away), or
 * undefined when it may start something: then the login server is checked and the decision made for real
 * (`decideAndStore`, which decides again against the row it writes).
 */
async function ignoredByStoredState(
  app: AppConfig,
  event: ImagePushedEvent,
  deps: DomainDeps,
): Promise<string | undefined> {
  const held = await deps.rolloutStore.get(app.name);
  if (!held) return undefined;
  const decision = decidePush(held.state, intentOf(event, event.registryLoginServer.toLowerCase()), app);
  return decision.action === 'ignore' ? decision.reason : undefined;
}

export async function handleImagePushed(
  event: ImagePushedEvent,
  deps: DomainDeps,
  budget: Budget,
): Promise<PushResult> {
  const { logger } = deps;
  const base = { eventId: event.id };
  // Logged as soon as the decision is made, not when this delivery's advance ends (up to the budget later).
  const decided = (r: PushResult): PushResult => {
    logger.info(
      `ImagePushed ${event.repository}:${event.tag} (${event.id}): ${r.outcome}: ${r.reason} (${r.app ? `app ${r.app}, ` : ''}digest ${event.digest})`,
      {
        ...(r.app ? { app: r.app } : {}),
        tag: event.tag,
        digest: event.digest,
        ...(r.rolloutId ? { rolloutId: r.rolloutId } : {}),
      },
    );
    return r;
  };

  const match = matchApp(deps, event);
  if ('rejected' in match) return decided({ ...base, outcome: 'rejected', reason: match.rejected });
  const { app } = match;
  const appBase = { ...base, app: app.name };
  const noRollout = async (r: PushResult): Promise<PushResult> => {
    decided(r);
    await recordNoRollout(app, event, r, deps);
    return r;
  };

  const tagOk = checkTagAllowed(app.tagPolicy, event.tag);
  if (!tagOk.allowed) return noRollout({ ...appBase, outcome: 'rejected', reason: tagOk.reason });

  // A duplicate (or stale) push is decided from the stored row alone, before any ARM call: a redelivery costs
  // nothing and cannot fail when ARM throttles (issue 16).
  const early = await ignoredByStoredState(app, event, deps);
  if (early !== undefined) return noRollout({ ...appBase, outcome: 'ignored', reason: early });

  let loginServer: string;
  try {
    loginServer = await deps.registries.loginServer(app.registry.resourceId);
  } catch (e) {
    if (e instanceof NotFoundError || e instanceof TerminalError)
      return noRollout({
        ...appBase,
        outcome: 'rejected',
        reason: `registry ${app.registry.name}: ${errorMessage(e)}`,
      });
    throw e;
  }
  if (loginServer !== event.registryLoginServer.toLowerCase())
    return noRollout({
      ...appBase,
      outcome: 'rejected',
      reason: `login server ${event.registryLoginServer} does not match registry ${app.registry.name} (${loginServer})`,
    });

  const stored = await decideAndStore(app, intentOf(event, loginServer), deps);
  if ('ignored' in stored) return noRollout({ ...appBase, outcome: 'ignored', reason: stored.ignored });
  const outcome: PushResult = { ...appBase, ...stored };
  decided(outcome);

  try {
    const { state: _state, ...progress } = await advance(app.name, deps, budget);
    outcome.advance = progress;
    if (outcome.rolloutId && progress.rolloutId && progress.rolloutId !== outcome.rolloutId)
      outcome.supersededBy = progress.rolloutId;
  } catch (e) {
    // The decision is stored; the reconcile timer resumes the rollout.
    logger.warn(`${app.name}: advancing after the event failed: ${errorMessage(e)}`);
  }
  return outcome;
}

/**
 * What an event that is not a usable ImagePushed means: ignored (another event type, a foreign topic) or rejected
 * (malformed). Either way Event Grid gets a 2xx: retrying cannot make it usable.
 */
export function nonPushOutcome(parsed: Exclude<ParsedEvent, { kind: 'imagePushed' }>): PushResult {
  return {
    outcome: parsed.kind === 'ignored' ? 'ignored' : 'rejected',
    reason: parsed.kind === 'ignored' ? parsed.reason : `malformed event: ${parsed.reason}`,
    ...(parsed.id ? { eventId: parsed.id } : {}),
  };
}
