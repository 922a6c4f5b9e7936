/**
 * The template a rollout deploys (effectiveTemplate.ts, given what the app adopted), or why it cannot deploy one:
 * an adopted spec (copySpec) with secrets still to supply or fields the template cannot keep is refused before
 * anything is created.
 */
import { deployableTemplate, effectiveTemplate, type EffectiveTemplate } from '../effectiveTemplate.js';
import { adoptionRefusal } from './adoptionSpec.js';
import type { StepContext } from './step.js';

export function rolloutTemplate(
  ctx: Pick<StepContext, 'app' | 'state'>,
): { ok: true; template: EffectiveTemplate } | { ok: false; message: string } {
  const outcome = effectiveTemplate(ctx.app, ctx.state.adoption);
  const template = deployableTemplate(outcome);
  if (template) return { ok: true, template };
  return { ok: false, message: adoptionRefusal(ctx.app.adoptGroup!, outcome.missing, outcome.problems) };
}
