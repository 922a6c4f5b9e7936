/**
 * The apps' active groups: adopt an existing group named by `adoptGroup` until the first rollout replaces it,
 * report drift (the group runs another image than the rollout recorded) and a group that is not Running, and
 * restart it when the app asks for it (recorded first with a CAS, so two instances never both restart it).
 */
import type { AppConfig } from '../../config/appsConfig.js';
import { optionsOf } from '../deps.js';
import { errorMessage, isRetryable } from '../errors.js';
import { iso, ms, type AppState } from '../model.js';
import type { ContainerGroupView } from '../ports.js';
import { inProgress, newAppState } from '../appState.js';
import { adoptedActive, adoptionRead, driftContainers, readAdoption } from '../rollout/adoption.js';
import { rgKey, type GroupListings } from '../secretTargets.js';
import { note, timeLeft, type Tick } from './tick.js';

export async function adopt(
  tick: Tick,
  app: AppConfig,
  listings: GroupListings,
  states: Map<string, AppState>,
  etags: Map<string, string>,
): Promise<void> {
  const { deps } = tick;
  const existing = states.get(app.name);
  const cfg = app.adoptGroup;
  // Not while a rollout runs: its switch decides what is active.
  if (!cfg || inProgress(existing)) return;
  const needsActive = !existing?.active;
  const needsDefinition = cfg.copySpec && !adoptionRead(app, existing);
  if (!needsActive && !needsDefinition) return;
  const l = listings.get(rgKey(cfg.resourceGroup));
  if (!l?.ok) return;
  const g = l.value.find((x) => x.name === cfg.name);
  if (!g) {
    tick.warnings.push({
      scope: 'app',
      target: app.name,
      message: `adoptGroup ${cfg.resourceGroup}/${cfg.name} not found${needsActive ? '' : ': its spec cannot be copied (copySpec)'}`,
    });
    return;
  }
  const now = deps.clock.now();
  const state: AppState = {
    ...(existing ? structuredClone(existing) : newAppState(app.name, now)),
    ...(needsActive ? { active: adoptedActive(app, g, now) } : {}),
    ...(needsDefinition ? { adoption: await readAdoption(app, deps, now) } : {}),
    updatedAt: iso(now),
  };
  try {
    const etag = etags.get(app.name);
    etags.set(
      app.name,
      existing && etag
        ? await deps.rolloutStore.replace(app.name, state, etag)
        : await deps.rolloutStore.create(app.name, state),
    );
    states.set(app.name, state);
    tick.changed.push({
      kind: 'adopted',
      target: app.name,
      message: needsActive
        ? `adopted ${cfg.resourceGroup}/${g.name} as the active group`
        : `read the spec of ${cfg.resourceGroup}/${g.name} (copySpec)`,
    });
  } catch (e) {
    tick.warnings.push({ scope: 'app', target: app.name, message: `adoption deferred: ${errorMessage(e)}` });
  }
}

export async function checkActiveGroup(
  tick: Tick,
  app: AppConfig,
  g: ContainerGroupView,
  states: Map<string, AppState>,
  etags: Map<string, string>,
): Promise<void> {
  const { deps } = tick;
  const state = states.get(app.name);
  const active = state?.active;
  if (!state || !active) return;
  const where = `${g.resourceGroup}/${g.name}`;
  if (active.image) {
    const names = driftContainers(app, g, state);
    const running = g.containers.filter((c) => names.includes(c.name)).map((c) => c.image);
    const drifted = running.filter((img) => img !== active.image);
    if (drifted.length > 0)
      tick.warnings.push({
        scope: 'group',
        target: where,
        message: `drift: ${where} runs ${drifted.join(', ')}, the rollout recorded ${active.image}`,
      });
  }
  if (g.state === undefined || g.state === 'Running' || g.state === 'Pending') return;
  tick.warnings.push({
    scope: 'group',
    target: where,
    message: `active group ${where} is ${g.state}, not Running`,
  });
  if (!app.restartUnhealthy) return;
  const o = optionsOf(deps);
  const now = deps.clock.now();
  const last = ms(state.lastRestartAt);
  if (last !== undefined && now - last < o.restartCooldownMs) return;
  const etag = etags.get(app.name);
  if (!etag || !timeLeft(tick)) return;
  try {
    // Record the attempt first (CAS): two instances never both restart it.
    const next = { ...structuredClone(state), lastRestartAt: iso(now), updatedAt: iso(now) };
    etags.set(app.name, await deps.rolloutStore.replace(app.name, next, etag));
    states.set(app.name, next);
    await deps.containerGroups.restart(g.resourceGroup, g.name);
    tick.writes++;
    tick.changed.push({
      kind: 'groupRestarted',
      target: where,
      message: `restarted ${where} (was ${g.state})`,
    });
  } catch (e) {
    note(tick, e);
    tick.errors.push({
      scope: 'group',
      target: where,
      message: `restart failed: ${errorMessage(e)}`,
      retryable: isRetryable(e),
    });
  }
}
