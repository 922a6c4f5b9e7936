/**
 * The status of an app's adoption (`adoptGroup`): which group, and with copySpec the template copied from it, in
 * APPS_CONFIG's form so that it can be moved into config as it is (Key Vault references stand where ARM returns no
 * secret; `<missing>` marks one still to supply), with what is missing, what cannot be kept, and what changes.
 * Secrets are never in it: the copy holds references only.
 */
import type { AppConfig, TemplateConfig } from '../config/appsConfig.js';
import { deployableTemplate, effectiveTemplate } from './effectiveTemplate.js';
import type { AppState } from './model.js';
import type { MissingSecret } from './rollout/adoptionSpec.js';

export interface AdoptionStatus {
  resourceGroup: string;
  group: string;
  copySpec: boolean;
  /** When the adopted group's spec was read (copySpec). */
  readAt: string | null;
  /** copySpec: the app's template, copied from the adopted group. */
  template: TemplateConfig | null;
  missing: MissingSecret[];
  problems: string[];
  notes: string[];
  /** Whether a rollout can create a group from it now. */
  deployable: boolean;
}

export function adoptionStatus(app: AppConfig, state: AppState | undefined): AdoptionStatus | null {
  const adopt = app.adoptGroup;
  if (!adopt) return null;
  const base = { resourceGroup: adopt.resourceGroup, group: adopt.name, copySpec: adopt.copySpec };
  if (!adopt.copySpec)
    return { ...base, readAt: null, template: null, missing: [], problems: [], notes: [], deployable: true };
  const outcome = effectiveTemplate(app, state?.adoption);
  let template: TemplateConfig | null = null;
  if (outcome.template) {
    const { location: _location, subnetId: _subnetId, ...t } = outcome.template;
    template = t;
  }
  return {
    ...base,
    readAt: state?.adoption?.readAt ?? null,
    template,
    missing: outcome.missing,
    problems: outcome.problems,
    notes: outcome.notes,
    deployable: deployableTemplate(outcome) !== undefined,
  };
}
