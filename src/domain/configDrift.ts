/**
 * Desired state beyond the image: does the active group still match the app's config, and the secrets its template
 * references? Pure: the reconcile tick and status pass what they listed (the group with its tags, the vaults'
 * secret properties) and get the same answer.
 *
 * - Template: the desired `configHash` against the active group's `config-hash` tag. A group without the tag, or
 *   with another version's (created before config hashes, adopted, an older canonical form) is "unknown": never
 *   rolled out for, so upgrading does not roll every app at once; the next rollout of any kind records the tag.
 * - Secrets (`rolloutOnSecretChange`): the creation time of each referenced secret's current version, as the
 *   vault's listing shows it, against the version the group was created with. Only a newer version counts: a
 *   tag or attribute update of the secret changes its `updated` time, not its version's `created` time.
 */
import { createHash } from 'node:crypto';
import type { AppConfig } from '../config/appsConfig.js';
import { inProgress } from './appState.js';
import { comparableHash, configHash } from './configHash.js';
import type { DeployGate } from './deployGate.js';
import { deployableTemplate, effectiveTemplate, type EffectiveTemplate } from './effectiveTemplate.js';
import { GROUP_TAGS, ms, type AppState } from './model.js';
import type { ContainerGroupView } from './ports.js';
import type { SecretListings } from './secretTargets.js';
import { secretReferences } from './templateSecrets.js';

export interface SecretDrift {
  vaultUrl: string;
  name: string;
  /** The version the active group was created with (null when not recorded). */
  version: string | null;
  createdOn: string | null;
  /** Creation time of the vault's current version, as listed (null when not listed). */
  latestCreatedOn: string | null;
  changed: boolean;
}

export interface ConfigDrift {
  state: 'inSync' | 'drift' | 'unknown';
  desiredHash: string | null;
  activeHash: string | null;
  template: 'inSync' | 'changed' | 'unknown';
  /** Only with rolloutOnSecretChange. */
  secrets: SecretDrift[];
  /** What differs, in words. */
  changes: string[];
  /** Why the state is unknown, when it is. */
  unknownBecause?: string;
  /** The desired config (hash and secret versions), so one config is rolled out for at most once. */
  key: string;
}

/** The secrets a template references, once each. */
function referencedSecrets(t: EffectiveTemplate): Array<{ vaultUrl: string; name: string }> {
  const seen = new Map<string, { vaultUrl: string; name: string }>();
  for (const r of secretReferences(t))
    seen.set(`${r.ref.vaultUrl}|${r.ref.secretName.toLowerCase()}`, {
      vaultUrl: r.ref.vaultUrl,
      name: r.ref.secretName,
    });
  return [...seen.values()];
}

/** Vaults to list for apps that roll out on secret changes (their templates' references). */
export function secretChangeVaults(
  config: { apps: AppConfig[] },
  states: ReadonlyMap<string, AppState>,
): string[] {
  return [
    ...new Set(
      config.apps
        .filter((a) => a.rolloutOnSecretChange)
        .flatMap((a) => {
          const t = deployableTemplate(effectiveTemplate(a, states.get(a.name)?.adoption));
          return t ? referencedSecrets(t).map((s) => s.vaultUrl) : [];
        }),
    ),
  ];
}

function secretDrift(
  t: EffectiveTemplate,
  state: AppState,
  vaults: SecretListings | undefined,
): SecretDrift[] {
  return referencedSecrets(t).map(({ vaultUrl, name }) => {
    const recorded = state.active?.secretVersions?.find(
      (v) => v.vaultUrl === vaultUrl && v.name.toLowerCase() === name.toLowerCase(),
    );
    const listing = vaults?.get(vaultUrl);
    const latest = listing?.ok ? listing.value.get(name.toLowerCase())?.createdOn : undefined;
    const latestIso = latest ? latest.toISOString() : null;
    const was = ms(recorded?.createdOn);
    return {
      vaultUrl,
      name,
      version: recorded?.version ?? null,
      createdOn: recorded?.createdOn ?? null,
      latestCreatedOn: latestIso,
      changed: was !== undefined && latest !== undefined && latest.getTime() > was,
    };
  });
}

function keyOf(desiredHash: string | null, secrets: SecretDrift[]): string {
  const stamp = secrets.map((s) => `${s.vaultUrl}/${s.name}@${s.latestCreatedOn ?? s.createdOn ?? '?'}`);
  return `${desiredHash ?? '?'}|${createHash('sha256').update(stamp.join(',')).digest('hex').slice(0, 12)}`;
}

function templateState(
  desiredHash: string | null,
  group: ContainerGroupView | undefined,
): { template: ConfigDrift['template']; activeHash: string | null; unknownBecause?: string } {
  const tag = group?.tags[GROUP_TAGS.configHash];
  const activeHash = tag ?? null;
  if (!group) return { template: 'unknown', activeHash, unknownBecause: 'the active group was not listed' };
  if (!desiredHash)
    return {
      template: 'unknown',
      activeHash,
      unknownBecause: 'no deployable template yet (adoptGroup.copySpec)',
    };
  if (!comparableHash(tag))
    return {
      template: 'unknown',
      activeHash,
      unknownBecause: `${group.name} has no ${GROUP_TAGS.configHash} tag of this version (created before config hashes, or adopted); the next rollout records it`,
    };
  return { template: tag === desiredHash ? 'inSync' : 'changed', activeHash };
}

/** Compare what the active group was created from with what the config asks for now. */
export function configDrift(
  app: AppConfig,
  state: AppState | undefined,
  group: ContainerGroupView | undefined,
  vaults: SecretListings | undefined,
): ConfigDrift {
  const t = deployableTemplate(effectiveTemplate(app, state?.adoption));
  const desiredHash = t ? configHash(t) : null;
  const tpl = templateState(desiredHash, group);
  const secrets = t && state?.active && app.rolloutOnSecretChange ? secretDrift(t, state, vaults) : [];
  const changes: string[] = [];
  if (tpl.template === 'changed') changes.push(`template changed (${tpl.activeHash} → ${desiredHash})`);
  for (const s of secrets.filter((x) => x.changed))
    changes.push(
      `secret ${s.name} has a new version (created ${s.latestCreatedOn}; the group has ${s.version ?? '?'})`,
    );
  const state_: ConfigDrift['state'] =
    changes.length > 0 ? 'drift' : tpl.template === 'unknown' ? 'unknown' : 'inSync';
  return {
    state: state_,
    desiredHash,
    activeHash: tpl.activeHash,
    template: tpl.template,
    secrets,
    changes,
    ...(state_ === 'unknown' && tpl.unknownBecause ? { unknownBecause: tpl.unknownBecause } : {}),
    key: keyOf(desiredHash, secrets),
  };
}

export type ConfigDecision =
  { action: 'none' } | { action: 'report'; message: string } | { action: 'start'; reason: string };

/**
 * Whether drift starts a `configChanged` rollout of the active digest now. It starts once per desired config: a
 * config rollout that failed, was aborted or was rolled back is not retried by itself, and after an operator's
 * rollback no config rollout starts by itself (the operator chose what runs); redeploy applies the config then.
 */
export function decideConfigRollout(
  app: AppConfig,
  state: AppState,
  drift: ConfigDrift,
  gate: DeployGate,
): ConfigDecision {
  if (drift.state !== 'drift') return { action: 'none' };
  const what = drift.changes.join('; ');
  const templateWanted = drift.template === 'changed' && app.rolloutOnConfigChange;
  const secretsWanted = drift.secrets.some((s) => s.changed);
  if (!templateWanted && !secretsWanted)
    return {
      action: 'report',
      message: `config drift: ${what}; rolloutOnConfigChange is false: redeploy to apply it`,
    };
  const current = inProgress(state);
  if (current) return { action: 'report', message: `config drift: ${what}; waits for rollout ${current.id}` };
  if (state.paused)
    return { action: 'report', message: `config drift: ${what}; waits: ${app.name} is paused` };
  if (gate.held) return { action: 'report', message: `config drift: ${what}; waits: ${gate.message}` };
  if (!state.active?.digest || !state.active.tag)
    return {
      action: 'report',
      message: `config drift: ${what}; the active group's digest is not known: push or redeploy to apply it`,
    };
  const last = state.rollout;
  if (last?.kind === 'rollback')
    return {
      action: 'report',
      message: `config drift: ${what}; not rolled out by itself after the rollback ${last.id}: redeploy to apply it`,
    };
  if (last?.kind === 'configChanged' && last.configKey === drift.key)
    return {
      action: 'report',
      message: `config drift: ${what}; the config rollout ${last.id} for it ended ${last.state}${last.error ? ` (${last.error.message})` : ''}: fix it and redeploy`,
    };
  return { action: 'start', reason: `config change: ${what}` };
}
