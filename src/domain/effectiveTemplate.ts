/**
 * The effective template: everything an app's container groups are made of except the pushed image, from its
 * config (`template`, `location`, `subnetId`) or, with `adoptGroup.copySpec`, from the adopted group's definition
 * plus the Key Vault references supplied for its secrets. The one function that says what a rollout deploys.
 *
 * Pure and deterministic: the same config and adopted definition give the same value, with object keys sorted and
 * no undefined fields, so it can be compared or hashed (config-change rollouts hash it). Secrets appear only as
 * Key Vault references, never as values.
 */
import type { AppConfig, TemplateConfig } from '../config/appsConfig.js';
import type { AdoptionRecord } from './model.js';
import { copyTemplate, type MissingSecret } from './rollout/adoptionSpec.js';

export interface EffectiveTemplate extends TemplateConfig {
  location: string;
  subnetId: string;
}

export interface TemplateOutcome {
  /** Absent only with copySpec before the adopted group's definition was read. */
  template?: EffectiveTemplate;
  /** Secrets of an adopted group still to be supplied as Key Vault references (copySpec). */
  missing: MissingSecret[];
  /** What an adopted group has that the template cannot keep, or why it was not read (copySpec). */
  problems: string[];
  /** What changes knowingly on the way (copySpec). */
  notes: string[];
}

/** Objects with sorted keys and no undefined values, arrays in order: one JSON text per value. */
function canonical<T>(value: T): T {
  if (Array.isArray(value)) return value.map(canonical) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = canonical(v);
  }
  return out as T;
}

function adoptedTemplate(app: AppConfig, adoption: AdoptionRecord | undefined): TemplateOutcome {
  const adopt = app.adoptGroup!;
  const where = `${adopt.resourceGroup}/${adopt.name}`;
  if (adoption?.definition === undefined || adoption.group !== adopt.name)
    return {
      missing: [],
      problems: [
        adoption?.problem ??
          `adoptGroup ${where} (copySpec) has not been read yet: its spec becomes the template once it is adopted`,
      ],
      notes: [],
    };
  const copy = copyTemplate(app, adopt, adoption.definition);
  const exposed = new Set(copy.template.containers.flatMap((c) => c.ports));
  const problems = [...copy.problems];
  if (!exposed.has(app.health.port))
    problems.push(
      `health.port ${app.health.port} is not exposed by the adopted group (ports: ${[...exposed].join(', ') || 'none'})`,
    );
  return {
    template: canonical({ ...copy.template, location: app.location, subnetId: app.subnetId }),
    missing: copy.missing,
    problems,
    notes: copy.notes,
  };
}

/** What a rollout of `app` deploys (but the image), given what was adopted. */
export function effectiveTemplate(app: AppConfig, adoption?: AdoptionRecord): TemplateOutcome {
  if (app.adoptGroup?.copySpec) return adoptedTemplate(app, adoption);
  const template = app.template!;
  return {
    template: canonical({ ...template, location: app.location, subnetId: app.subnetId }),
    missing: [],
    problems: [],
    notes: [],
  };
}

/** A template a group can be created from: present, nothing to supply, nothing lost. */
export function deployableTemplate(o: TemplateOutcome): EffectiveTemplate | undefined {
  return o.template && o.missing.length === 0 && o.problems.length === 0 ? o.template : undefined;
}

/** Containers that run the pushed image (the others run fixed sidecar images). */
export function pushedContainerNames(t: Pick<TemplateConfig, 'containers'>): string[] {
  return t.containers.filter((c) => c.image === undefined).map((c) => c.name);
}

/** The platform an app runs: `template.platform`, else amd64 of its OS (what ACI runs). */
export function templatePlatform(t: Pick<TemplateConfig, 'platform' | 'osType'>): string {
  return t.platform ?? `${t.osType.toLowerCase()}/amd64`;
}
