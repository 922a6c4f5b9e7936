/**
 * Catch-up: a push whose ImagePushed event never arrived (dead-lettered, a deleted or mis-filtered subscription) is
 * found in the registry and decided like the event would have been. Every `reconcile.catchUpSeconds` (0 = off) the
 * tick lists each app's repository tags (one paged data-plane call per repository, a few repositories at a time),
 * takes the newest tag its policy allows (by the policy's order, push time breaking ties) and hands it to the push
 * decision with the tag's push time as the event time: the same compare-and-swap as an event, so an event that
 * arrives too (or a second catch-up) finds the rollout and changes nothing. Pause, deploy windows and the freeze
 * queue it as they queue a push.
 *
 * Only the newest allowed tag is considered: when it is active, in flight, queued, turned away or already rolled
 * out, catch-up does nothing for the app (it never goes back to an older tag).
 */
import type { AppConfig } from '../../config/appsConfig.js';
import { mapLimit } from '../concurrency.js';
import { NotFoundError, errorMessage, isRetryable } from '../errors.js';
import { iso, ms, type AppState, type CatchUpRun, type PushIntent } from '../model.js';
import { decideAndStore } from '../onImagePushed.js';
import type { RegistryTag } from '../ports.js';
import { decidePush } from '../pushDecision.js';
import { checkTagAllowed, compareTags } from '../tagPolicy.js';
import { note, retrying, timeLeft, type Tick } from './tick.js';

/** Repositories listed at once. */
const CATCH_UP_CONCURRENCY = 4;

/** Is a run due? A tick starting a little early (up to 2 s, or a tenth of the period) still counts. */
export function catchUpDue(catchUpSeconds: number, lastAt: string | undefined, now: number): boolean {
  if (catchUpSeconds <= 0) return false;
  const last = ms(lastAt);
  const period = catchUpSeconds * 1000;
  return last === undefined || now - last >= period - Math.min(2_000, period / 10);
}

/** The newest tag the policy allows: highest by its order, the latest pushed among equals. */
export function newestAllowed(app: AppConfig, tags: ReadonlyArray<RegistryTag>): RegistryTag | undefined {
  return tags
    .filter((t) => checkTagAllowed(app.tagPolicy, t.name).allowed)
    .sort(
      (a, b) =>
        compareTags(app.tagPolicy, b.name, a.name) || (ms(b.lastUpdatedOn) ?? 0) - (ms(a.lastUpdatedOn) ?? 0),
    )[0];
}

type Found = CatchUpRun['found'][number];

async function loginServerOf(
  tick: Tick,
  app: AppConfig,
  state: AppState | undefined,
  cache: Map<string, Promise<string>>,
): Promise<string> {
  if (state?.registryLoginServer) return state.registryLoginServer;
  const key = app.registry.resourceId.toLowerCase();
  let p = cache.get(key);
  if (!p) {
    p = retrying(tick, () => tick.deps.registries.get(app.registry.resourceId)).then((r) =>
      r.loginServer.toLowerCase(),
    );
    cache.set(key, p);
  }
  return p;
}

/** One app: list, pick, and decide (CAS) when the pick is news to the app's row. */
async function catchUpApp(
  tick: Tick,
  app: AppConfig,
  states: Map<string, AppState>,
  loginServers: Map<string, Promise<string>>,
): Promise<Found | undefined> {
  const { deps } = tick;
  const state = states.get(app.name);
  const loginServer = await loginServerOf(tick, app, state, loginServers);
  const tags = await retrying(tick, () => deps.registryManifests.listTags(loginServer, app.repository));
  const newest = newestAllowed(app, tags);
  if (!newest) return undefined;
  const intent: PushIntent = {
    eventId: `catchup:${app.repository}:${newest.name}@${newest.digest.slice(7, 19)}`,
    eventTime: newest.lastUpdatedOn,
    repository: app.repository,
    tag: newest.name,
    digest: newest.digest,
    loginServer,
    source: 'catchUp',
  };
  // Against the row read at the tick's start: the usual answer is "already active". The CAS below decides anew.
  if (state && decidePush(state, intent, app).action === 'ignore') return undefined;
  let mediaType: string;
  try {
    // The listing has no media type; an image index must be known as one to be resolved to the app's platform.
    mediaType = (
      await retrying(tick, () =>
        deps.registryManifests.getManifest(loginServer, app.repository, newest.digest),
      )
    ).mediaType;
  } catch (e) {
    if (e instanceof NotFoundError) return undefined; // deleted since it was listed
    throw e;
  }
  const stored = await decideAndStore(app, { ...intent, ...(mediaType ? { mediaType } : {}) }, deps);
  if ('ignored' in stored) return undefined;
  const fresh = await deps.rolloutStore.get(app.name);
  if (fresh) states.set(app.name, fresh.state);
  deps.logger.info(
    `catch-up: ${app.name}: ${app.repository}:${newest.name} (${newest.digest}) pushed at ${newest.lastUpdatedOn} reached no event: ${stored.outcome}: ${stored.reason}`,
    {
      app: app.name,
      tag: newest.name,
      digest: newest.digest,
      ...(stored.rolloutId ? { rolloutId: stored.rolloutId } : {}),
    },
  );
  return {
    app: app.name,
    tag: newest.name,
    digest: newest.digest,
    outcome: stored.outcome,
    ...(stored.rolloutId ? { rolloutId: stored.rolloutId } : {}),
  };
}

/** A run over every app: what it found, and which apps it could not check. */
export async function catchUp(tick: Tick, states: Map<string, AppState>): Promise<CatchUpRun> {
  const { deps } = tick;
  const run: CatchUpRun = { at: iso(deps.clock.now()), checked: 0, found: [], failed: [] };
  const loginServers = new Map<string, Promise<string>>();
  const results = await mapLimit(deps.config.apps, CATCH_UP_CONCURRENCY, async (app) => {
    if (!timeLeft(tick)) throw new Error('the tick ran out of time before this repository was listed');
    return catchUpApp(tick, app, states, loginServers);
  });
  results.forEach((r, i) => {
    const app = deps.config.apps[i]!;
    if (r.ok) {
      run.checked++;
      if (r.value) run.found.push(r.value);
      return;
    }
    note(tick, r.error);
    run.failed.push({ app: app.name, message: errorMessage(r.error) });
    tick.errors.push({
      scope: 'app',
      target: app.name,
      message: `catch-up: ${errorMessage(r.error)}`,
      retryable: isRetryable(r.error),
    });
  });
  deps.logger.info(
    `catch-up run of ${run.at}: ${run.checked} repositories checked, ${run.found.length} push(es) found without an event${run.found.length ? ` (${run.found.map((f) => `${f.app} ${f.tag}: ${f.outcome}`).join(', ')})` : ''}${run.failed.length ? `, ${run.failed.length} not checked` : ''}`,
  );
  for (const f of run.found)
    tick.changed.push({
      kind: 'rollout',
      target: f.app,
      message: `catch-up: ${f.tag} (${f.digest.slice(7, 19)}) ${f.outcome}${f.rolloutId ? ` (${f.rolloutId})` : ''}`,
    });
  return run;
}
