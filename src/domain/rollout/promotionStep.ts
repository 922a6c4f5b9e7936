/**
 * Manual promotion (Argo Rollouts' `autoPromotionEnabled: false`, Keel's approvals): after the health gate the
 * new group's IP goes to the app's preview secret, and the rollout waits for an operator's `promote` (or
 * `abort`), or promotes itself after `autoPromoteAfterSeconds`. A newer push supersedes the waiting rollout (this
 * step is before the switch), so the preview always names the newest candidate.
 */
import { previewSecretName } from '../../config/rolloutControls.js';
import { diagnoseGroup } from '../groupDiagnosis.js';
import { MANAGED_BY, SECRET_TAGS, iso, ms } from '../model.js';
import { addCondition } from '../appState.js';
import { fail, goto, ours, pullRetry, waitFor, type Step, type StepContext } from './step.js';

/** How often a waiting rollout re-reads its group, so a candidate that crashed meanwhile fails the rollout. */
const RECHECK_MS = 60_000;

/** Manual mode holds a rollout before the switch, except an app's first deploy (nothing to protect) and rollbacks. */
export function needsPromotion(ctx: StepContext): boolean {
  return ctx.app.promotion.mode === 'manual' && ctx.state.active !== undefined && ctx.r.kind !== 'rollback';
}

export const awaitingPromotion: Step = async (ctx) => {
  const { r, app } = ctx;
  if (r.promotedBy) {
    const by = r.promotedBy;
    return goto(ctx, 'switching', `promoted by ${by.actor}${by.reason ? `: ${by.reason}` : ''}`);
  }
  const g = await ctx.deps.containerGroups.get(r.resourceGroup, r.group);
  if (!g || !ours(g, r)) return fail(ctx, 'GroupLost', `${r.group} disappeared while awaiting promotion`);
  const d = diagnoseGroup(g, app.health.maxRestarts, pullRetry(ctx));
  if (d.phase === 'failed') return fail(ctx, d.reason, d.message);
  if (d.phase !== 'running')
    return fail(ctx, 'GroupLost', `${r.group} stopped running while awaiting promotion (${d.detail})`);
  if (r.preview?.ip !== d.ip) {
    const name = previewSecretName(app);
    await ctx.deps.secrets.set(app.secret.vaultUrl, name, d.ip, {
      [SECRET_TAGS.ip]: d.ip,
      [SECRET_TAGS.app]: app.name,
      [SECRET_TAGS.colour]: r.colour,
      [SECRET_TAGS.group]: r.group,
      [SECRET_TAGS.resourceGroup]: r.resourceGroup,
      [SECRET_TAGS.digest]: r.digest,
      [SECRET_TAGS.managedBy]: MANAGED_BY,
    });
    r.preview = { secretName: name, ip: d.ip, writtenAt: r.preview?.writtenAt ?? iso(ctx.now) };
    addCondition(
      r,
      'awaitingPromotion',
      ctx.now,
      `preview secret ${name} = ${d.ip}; waiting for promote or abort`,
    );
  }
  const auto = app.promotion.autoPromoteAfterSeconds;
  const autoAt = auto !== undefined ? (ms(r.preview.writtenAt) ?? ctx.now) + auto * 1000 : undefined;
  if (autoAt !== undefined && ctx.now >= autoAt)
    return goto(ctx, 'switching', `promoted automatically after ${auto} s`);
  const next = Math.min(autoAt ?? Infinity, ctx.now + RECHECK_MS);
  return waitFor(
    ctx,
    next - ctx.now,
    `awaiting promotion: preview ${r.preview.secretName} = ${r.preview.ip}${autoAt !== undefined ? `; promotes itself at ${iso(autoAt)}` : ''}`,
  );
};
