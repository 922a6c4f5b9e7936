/**
 * The tick's desired-state phase for config: an app whose active group no longer matches its config (the template's
 * hash, the versions of the secrets it uses) gets a blue/green of the same digest, kind `configChanged`, started
 * here and advanced with the other rollouts at the end of the tick. Everything is read already (the group's tags
 * from the resource group's list, the secrets' versions from the vault's listing); a start is one compare-and-swap
 * on the app's row, decided again against the row it replaces.
 */
import type { AppConfig } from '../../config/appsConfig.js';
import { configDrift, decideConfigRollout } from '../configDrift.js';
import { deployGate } from '../deployGate.js';
import { ConflictError, errorMessage, isRetryable } from '../errors.js';
import { iso, ms, type AppState, type PushIntent } from '../model.js';
import type { ContainerGroupView } from '../ports.js';
import { startRollout } from '../pushDecision.js';
import type { SecretListings, SecretTarget } from '../secretTargets.js';
import { note, timeLeft, type Tick } from './tick.js';

const MAX_CAS_ATTEMPTS = 8;

/** The registry's login server: learnt by an earlier rollout, else read from the registry. */
async function loginServerOf(tick: Tick, app: AppConfig, state: AppState): Promise<string> {
  if (state.registryLoginServer) return state.registryLoginServer;
  return (await tick.deps.registries.get(app.registry.resourceId)).loginServer.toLowerCase();
}

/** Start the config rollout if, against the row as stored now, it still should; CAS, re-reading on a conflict. */
async function startConfigRollout(
  tick: Tick,
  app: AppConfig,
  group: ContainerGroupView,
  vaults: SecretListings,
  states: Map<string, AppState>,
  etags: Map<string, string>,
): Promise<void> {
  const { deps } = tick;
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const held = await deps.rolloutStore.get(app.name);
    if (!held) return;
    const now = Math.max(deps.clock.now(), ms(held.state.updatedAt) ?? 0);
    const drift = configDrift(app, held.state, group, vaults);
    const decision = decideConfigRollout(app, held.state, drift, deployGate(app, deps.deployFreeze, now));
    if (decision.action !== 'start') return;
    const state = structuredClone(held.state);
    const active = state.active!;
    const mediaType = state.recent.find((x) => x.digest === active.digest)?.mediaType;
    const intent: PushIntent = {
      eventId: `config-${drift.key}`,
      eventTime: iso(now),
      repository: app.repository,
      tag: active.tag!,
      digest: active.digest!,
      loginServer: await loginServerOf(tick, app, state),
      ...(mediaType ? { mediaType } : {}),
    };
    const r = startRollout(state, intent, app, now, decision.reason, {
      kind: 'configChanged',
      requestedBy: { actor: 'reconcile', reason: drift.changes.join('; '), at: iso(now) },
    });
    r.configKey = drift.key;
    state.updatedAt = iso(now);
    try {
      etags.set(app.name, await deps.rolloutStore.replace(app.name, state, held.etag));
    } catch (e) {
      if (e instanceof ConflictError) continue;
      throw e;
    }
    states.set(app.name, state);
    tick.changed.push({
      kind: 'rollout',
      target: app.name,
      message: `${r.id}: ${decision.reason}: a blue/green of ${active.tag} (${active.digest!.slice(7, 19)}) started`,
    });
    return;
  }
  tick.warnings.push({
    scope: 'app',
    target: app.name,
    message: 'config change deferred: the state kept changing; the next tick tries again',
  });
}

/** For every managed app with a listed active group: report drift, or start its config rollout. */
export async function rollOutConfigChanges(
  tick: Tick,
  targets: ReadonlyArray<SecretTarget>,
  vaults: SecretListings,
  states: Map<string, AppState>,
  etags: Map<string, string>,
): Promise<void> {
  const { deps } = tick;
  for (const t of targets) {
    const app = t.app;
    const state = app ? states.get(app.name) : undefined;
    if (t.kind !== 'app' || !app || !state?.active || !t.group) continue;
    const gate = deployGate(app, deps.deployFreeze, deps.clock.now());
    const decision = decideConfigRollout(app, state, configDrift(app, state, t.group, vaults), gate);
    if (decision.action === 'report')
      tick.warnings.push({ scope: 'app', target: app.name, message: decision.message });
    if (decision.action !== 'start' || !timeLeft(tick)) continue;
    try {
      await startConfigRollout(tick, app, t.group, vaults, states, etags);
    } catch (e) {
      note(tick, e);
      tick.errors.push({
        scope: 'app',
        target: app.name,
        message: `config change not started: ${errorMessage(e)}`,
        retryable: isRetryable(e),
      });
    }
  }
}
