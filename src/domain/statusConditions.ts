/**
 * The status conditions of an app (Available, SecretInSync, Progressing, Degraded), Kubernetes-style: one type
 * each, with a reason and a message a person reads.
 */
import type { AppState } from './model.js';
import type { AppStatus, StatusCondition } from './statusDocument.js';

export function conditions(app: AppStatus, state: AppState | undefined): StatusCondition[] {
  const out: StatusCondition[] = [];
  if (!state?.active)
    out.push({
      type: 'Available',
      status: 'False',
      reason: 'NoActiveGroup',
      message: 'nothing deployed yet',
    });
  else if (app.provisioningState === null)
    out.push({
      type: 'Available',
      status: 'Unknown',
      reason: 'GroupNotListed',
      message: `${app.activeGroup} not found or not listed`,
    });
  else {
    // Status reads list responses, which carry no instance view: judge by provisioning state and IP.
    const ok = app.ip !== null && app.provisioningState === 'Succeeded';
    out.push({
      type: 'Available',
      status: ok ? 'True' : 'False',
      reason: ok ? 'ProvisionedWithIp' : 'NoIp',
      message: `${app.activeGroup}: provisioningState ${app.provisioningState ?? 'unknown'}, IP ${app.ip ?? 'none'}`,
    });
  }
  out.push({
    type: 'SecretInSync',
    status: app.secret.inSync ? 'True' : 'False',
    reason: app.secret.inSync ? 'InSync' : 'OutOfSync',
    message:
      app.secret.problem ??
      (app.secret.inSync ? `${app.secret.name} = ${app.ip}` : `${app.secret.name} differs from ${app.ip}`),
  });
  const r = state?.rollout;
  out.push({
    type: 'Progressing',
    status: r?.state === 'inProgress' ? 'True' : 'False',
    reason: r?.state === 'inProgress' ? r.step : (r?.state ?? 'NoRollout'),
    message: r ? `${r.id} (${r.tag})` : 'no rollout yet',
  });
  out.push({
    type: 'Degraded',
    status: r?.state === 'failed' ? 'True' : 'False',
    reason: r?.error?.reason ?? 'None',
    message: r?.error?.message ?? '',
  });
  return out;
}
