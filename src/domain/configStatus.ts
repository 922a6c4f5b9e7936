/**
 * The `config` part of an app's status: whether its active group matches the config (template hash, secret
 * versions) and what happens about it, in the words the reconcile tick would use (configDrift.ts decides both).
 */
import type { AppConfig } from '../config/appsConfig.js';
import { configDrift, decideConfigRollout } from './configDrift.js';
import type { DeployGate } from './deployGate.js';
import type { AppState } from './model.js';
import type { ContainerGroupView } from './ports.js';
import type { SecretListings } from './secretTargets.js';
import type { ConfigStatus } from './statusDocument.js';

function message(
  app: AppConfig,
  state: AppState | undefined,
  group: ContainerGroupView | undefined,
  drift: ReturnType<typeof configDrift>,
  gate: DeployGate,
): string {
  if (!state?.active) return 'nothing deployed yet';
  if (drift.state === 'inSync')
    return `${group?.name ?? state.active.group} matches the config (${drift.desiredHash})`;
  if (drift.state === 'unknown') return `unknown: ${drift.unknownBecause ?? 'not compared'}`;
  const decision = decideConfigRollout(app, state, drift, gate);
  if (decision.action === 'report') return decision.message;
  return `config drift: ${drift.changes.join('; ')}; the next reconcile tick starts a blue/green of ${state.active.tag ?? 'the active digest'}`;
}

export function configStatus(
  app: AppConfig,
  state: AppState | undefined,
  group: ContainerGroupView | undefined,
  vaults: SecretListings,
  gate: DeployGate,
): ConfigStatus {
  const drift = configDrift(app, state, group, vaults);
  return {
    state: state?.active ? drift.state : 'unknown',
    desiredHash: drift.desiredHash,
    activeHash: drift.activeHash,
    rolloutOnConfigChange: app.rolloutOnConfigChange,
    rolloutOnSecretChange: app.rolloutOnSecretChange,
    changes: drift.changes,
    secrets: drift.secrets,
    message: message(app, state, group, drift, gate),
  };
}
