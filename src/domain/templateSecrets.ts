/**
 * The Key Vault references of a template, each under a slot name, and their values read just before a group is
 * created. Values live only in the returned map for the PUT: never in state, status, logs or errors (errors name
 * the slot and the secret, never a value).
 */
import type { KeyVaultRef } from '../config/templateConfig.js';
import type { EffectiveTemplate } from './effectiveTemplate.js';
import type { FailureReason, SecretVersion } from './model.js';
import type { Secrets, VersionedSecret } from './ports.js';

/** Slot names, one per place a template takes a secret. */
export const slot = {
  env: (container: string, name: string) => `env:${container}/${name}`,
  storageKey: (volume: string) => `storageKey:${volume}`,
  secretFile: (volume: string, file: string) => `secretFile:${volume}/${file}`,
  registryPassword: (server: string) => `registryPassword:${server}`,
  workspaceKey: () => 'workspaceKey',
};

export interface SecretReference {
  slot: string;
  ref: KeyVaultRef;
  /** For messages: `secure env web.DB_PASSWORD`. */
  what: string;
  kind: 'secureEnv' | 'other';
}

/** Every Key Vault reference of the template, in template order. */
export function secretReferences(t: EffectiveTemplate): SecretReference[] {
  const out: SecretReference[] = [];
  for (const c of [...t.initContainers, ...t.containers])
    for (const [name, ref] of Object.entries(c.secureEnvFromKeyVault))
      out.push({
        slot: slot.env(c.name, name),
        ref,
        what: `secure env ${c.name}.${name}`,
        kind: 'secureEnv',
      });
  for (const v of t.volumes) {
    if (v.azureFile)
      out.push({
        slot: slot.storageKey(v.name),
        ref: v.azureFile.storageAccountKeyFromKeyVault,
        what: `storage account key of volume ${v.name}`,
        kind: 'other',
      });
    for (const [file, ref] of Object.entries(v.secret ?? {}))
      out.push({
        slot: slot.secretFile(v.name, file),
        ref,
        what: `file ${file} of secret volume ${v.name}`,
        kind: 'other',
      });
  }
  for (const c of t.registryCredentials)
    if (c.passwordFromKeyVault)
      out.push({
        slot: slot.registryPassword(c.server),
        ref: c.passwordFromKeyVault,
        what: `password of registry ${c.server}`,
        kind: 'other',
      });
  const la = t.diagnostics?.logAnalytics;
  if (la)
    out.push({
      slot: slot.workspaceKey(),
      ref: la.workspaceKeyFromKeyVault,
      what: 'Log Analytics workspace key',
      kind: 'other',
    });
  return out;
}

/** Values by slot name. */
export type SecretValues = ReadonlyMap<string, string>;

export type ResolvedSecrets =
  | {
      ok: true;
      values: SecretValues;
      /** Which version of each referenced secret was read (for config-change rollouts; never a value). */
      versions: SecretVersion[];
    }
  | {
      ok: false;
      reason: Extract<FailureReason, 'SecureEnvMissing' | 'KeyVaultSecretMissing'>;
      message: string;
    };

/** Reads every referenced secret (each vault secret once). A missing secret fails with what needed it. */
export async function resolveSecrets(t: EffectiveTemplate, secrets: Secrets): Promise<ResolvedSecrets> {
  const values = new Map<string, string>();
  const read = new Map<string, VersionedSecret | undefined>();
  const versions: SecretVersion[] = [];
  for (const r of secretReferences(t)) {
    const id = `${r.ref.vaultUrl}/${r.ref.secretName}`;
    if (!read.has(id)) {
      const secret = await secrets.getSecret(r.ref.vaultUrl, r.ref.secretName);
      read.set(id, secret);
      if (secret)
        versions.push({
          vaultUrl: r.ref.vaultUrl,
          name: r.ref.secretName,
          ...(secret.version ? { version: secret.version } : {}),
          ...(secret.createdOn ? { createdOn: secret.createdOn.toISOString() } : {}),
        });
    }
    const value = read.get(id)?.value;
    if (value === undefined)
      return {
        ok: false,
        reason: r.kind === 'secureEnv' ? 'SecureEnvMissing' : 'KeyVaultSecretMissing',
        message: `${r.what}: secret ${r.ref.secretName} not found in ${r.ref.vaultUrl}`,
      };
    values.set(r.slot, value);
  }
  return { ok: true, values, versions };
}
