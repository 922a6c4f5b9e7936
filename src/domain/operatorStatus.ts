/**
 * The operator's part of an app's status: paused, the preview waiting for promotion, the rollback window, digests
 * turned away, the action log, and which actions apply now. "Applies now" is the action decision itself
 * (decideAction) run on the stored state with Azure assumed willing, so status and the action route never
 * disagree about the rules; Azure is checked when the action is taken.
 */
import type { AppConfig } from '../config/appsConfig.js';
import { decideAction } from './actions/decideAction.js';
import { GATE_OPEN, type DeployGate } from './deployGate.js';
import { OPERATOR_ACTIONS, ms, type AppState, type OperatorAction } from './model.js';
import { inProgress } from './appState.js';
import type { OperatorStatus } from './statusDocument.js';

function applicable(
  app: AppConfig,
  state: AppState | undefined,
  now: number,
  gate: DeployGate,
): OperatorAction[] {
  if (!state) return [];
  const facts = { loginServer: 'status.invalid', rollbackTargetRunning: true, previousRunning: true, gate };
  return OPERATOR_ACTIONS.filter(
    (action) =>
      !('refused' in decideAction(state, app, { app: app.name, action, actor: 'status' }, facts, now)),
  );
}

/** `gate`: the app's deploy gate now (retry and redeploy apply while it holds only when forced). */
export function operatorStatus(
  app: AppConfig,
  state: AppState | undefined,
  now: number,
  gate: DeployGate = GATE_OPEN,
): OperatorStatus {
  const r = inProgress(state);
  const preview = r?.step === 'awaitingPromotion' ? r.preview : undefined;
  const t = state?.rollbackTarget;
  const open = t && (ms(t.until) ?? 0) > now ? t : undefined;
  return {
    paused: state?.paused ?? null,
    previewIp: preview?.ip ?? null,
    previewSecret: preview?.secretName ?? null,
    rollbackTarget: open
      ? {
          group: open.group,
          resourceGroup: open.resourceGroup,
          digest: open.digest ?? null,
          tag: open.tag ?? null,
          until: open.until,
        }
      : null,
    rejected: state?.rejected ?? [],
    actions: state?.actions ?? [],
    availableActions: applicable(app, state, now, gate),
  };
}
