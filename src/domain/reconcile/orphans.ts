/**
 * Orphans: groups tagged as ours that no rollout refers to (left by a crash between a create and its state write)
 * are deleted once their grace period has passed, each confirmed against the latest stored state first. A group
 * without our managed-by tag is never touched.
 */
import type { AppConfig } from '../../config/appsConfig.js';
import { mapLimit } from '../concurrency.js';
import { findApp } from '../deps.js';
import { TerminalError, errorMessage } from '../errors.js';
import { GROUP_TAGS, MANAGED_BY, ms, type AppState } from '../model.js';
import type { ContainerGroupView } from '../ports.js';
import { rgKey, type GroupListings } from '../secretTargets.js';
import { note, timeLeft, type Tick } from './tick.js';

/** Groups a rollout still refers to (never orphans). */
function referenced(state: AppState, app: AppConfig): Set<string> {
  const names = new Set<string>();
  if (state.active) names.add(state.active.group);
  const r = state.rollout;
  if (r?.state === 'inProgress') {
    names.add(r.group);
    if (r.fromGroup) names.add(r.fromGroup);
  } else if ((r?.state === 'failed' || r?.state === 'rolledBack') && app.keepFailed) names.add(r.group);
  if (state.rollbackTarget) names.add(state.rollbackTarget.group);
  for (const p of state.pendingDeletions) names.add(p.group);
  return names;
}

export async function removeOrphans(
  tick: Tick,
  listings: GroupListings,
  states: Map<string, AppState>,
): Promise<void> {
  const { deps } = tick;
  const { config } = deps;
  const grace = config.reconcile.orphanGraceSeconds * 1000;
  const candidates: Array<{ app: AppConfig; g: ContainerGroupView }> = [];
  const seen = new Set<string>();
  for (const [rg, l] of listings) {
    if (!l.ok) continue;
    for (const g of l.value) {
      if (g.tags[GROUP_TAGS.managedBy] !== MANAGED_BY) continue;
      const key = `${rg}/${g.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const appName = g.tags[GROUP_TAGS.app] ?? '';
      const app = findApp(config, appName);
      if (!app) {
        tick.warnings.push({
          scope: 'group',
          target: `${g.resourceGroup}/${g.name}`,
          message: `managed group of app "${appName}", which is not configured (or has config errors); left alone`,
        });
        continue;
      }
      if (rgKey(app.resourceGroup) !== rg) continue;
      const state = states.get(app.name);
      if (!state || referenced(state, app).has(g.name)) continue;
      const created = ms(g.tags[GROUP_TAGS.createdAt]);
      if (created === undefined) {
        tick.warnings.push({
          scope: 'group',
          target: key,
          message: `orphan without a ${GROUP_TAGS.createdAt} tag; left alone`,
        });
        continue;
      }
      if (deps.clock.now() - created < grace || g.provisioningState === 'Deleting') continue;
      candidates.push({ app, g });
    }
  }
  await mapLimit(candidates, config.reconcile.writeConcurrency, async ({ app, g }) => {
    const where = `${g.resourceGroup}/${g.name}`;
    if (!timeLeft(tick)) return;
    try {
      // Confirm against the latest state: a rollout may have started since the tick read it.
      const fresh = await deps.rolloutStore.get(app.name);
      if (!fresh || referenced(fresh.state, app).has(g.name)) return;
      await deps.containerGroups.delete(g.resourceGroup, g.name);
      tick.writes++;
      tick.changed.push({
        kind: 'groupDeleted',
        target: where,
        message: `orphan ${where} (rollout ${g.tags[GROUP_TAGS.rolloutId] ?? '?'}) deleted`,
      });
    } catch (e) {
      note(tick, e);
      const terminal = e instanceof TerminalError;
      tick.errors.push({
        scope: 'group',
        target: where,
        message: `orphan delete failed: ${errorMessage(e)}`,
        retryable: !terminal,
      });
    }
  });
}
