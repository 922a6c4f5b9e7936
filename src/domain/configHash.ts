/**
 * The hash of an app's effective template (effectiveTemplate.ts: everything a group is made of but the image, Key
 * Vault references included, never secret values), kept on every group we create as the `config-hash` tag, so the
 * reconcile tick can tell from one list call whether the active group still matches the config.
 *
 * `v1-` + the first 16 hex digits (64 bits) of the SHA-256 of the template's canonical JSON: 19 characters, far
 * inside ARM's tag value limit (256 characters; "Tag resources, resource groups, and subscriptions", Azure
 * Resource Manager docs, "Limitations"). The prefix names the canonical form: a later version that changes it
 * (a new template field with a default, say) bumps it, and a group whose tag has another prefix counts as
 * "unknown", never as changed, so an upgrade does not roll every app at once.
 */
import { createHash } from 'node:crypto';
import type { AdoptionRecord } from './model.js';
import type { AppConfig } from '../config/appsConfig.js';
import { deployableTemplate, effectiveTemplate, type EffectiveTemplate } from './effectiveTemplate.js';

export const CONFIG_HASH_VERSION = 'v1';

/** The template is canonical (sorted keys, no undefined), so equal templates give one text and one hash. */
export function configHash(t: EffectiveTemplate): string {
  const hex = createHash('sha256').update(JSON.stringify(t)).digest('hex');
  return `${CONFIG_HASH_VERSION}-${hex.slice(0, 16)}`;
}

/** The hash a group of `app` should carry now; undefined when no deployable template exists yet (copySpec). */
export function desiredConfigHash(app: AppConfig, adoption: AdoptionRecord | undefined): string | undefined {
  const t = deployableTemplate(effectiveTemplate(app, adoption));
  return t ? configHash(t) : undefined;
}

/** A tag value this version computes (same canonical form): only those can be compared. */
export function comparableHash(tag: string | undefined): boolean {
  return tag !== undefined && tag.startsWith(`${CONFIG_HASH_VERSION}-`);
}
