/**
 * An app's `adoptGroup`: the existing group it takes over as its active deployment until the first rollout replaces
 * it. A name (a group in the app's resource group, the original form) or an object:
 *
 *   { "resourceGroup": "rg-legacy", "name": "web-legacy", "copySpec": true, "keyVaultReferences": { … } }
 *
 * With `copySpec` the adopted group's whole spec, except the image, is the app's template (domain/rollout/
 * adoptionSpec.ts). ARM never returns a secure environment value, a storage account key, a secret volume's files,
 * a registry password or a Log Analytics key, so those are supplied here as Key Vault references, under the names
 * the adoption's refusal lists.
 */
import { z } from 'zod';
import { aciName, envName, keyVaultRef, resourceGroup, volumeName } from './configFields.js';

const SECRET_FILE = /^[-._a-zA-Z0-9]{1,253}$/;

const keyVaultReferencesSchema = z.strictObject({
  /** Container (or init container) name → variable → reference. */
  secureEnv: z.record(aciName('container name'), z.record(envName, keyVaultRef)).default({}),
  /** Azure Files volume name → the storage account key's reference. */
  storageAccountKeys: z.record(volumeName, keyVaultRef).default({}),
  /** Secret volume name → file name → reference (ARM returns a secret volume empty: its files are named here). */
  secretVolumes: z
    .record(
      volumeName,
      z.record(z.string().regex(SECRET_FILE, { message: 'not a valid file name' }), keyVaultRef),
    )
    .default({}),
  /** Registry server → the password's reference (for username/password credentials). */
  registryPasswords: z.record(z.string().min(1), keyVaultRef).default({}),
  logAnalyticsWorkspaceKey: keyVaultRef.optional(),
});

export const adoptGroupSchema = z
  .union([
    aciName('adoptGroup'),
    z.strictObject({
      /** Default: the app's resource group. */
      resourceGroup: resourceGroup.optional(),
      name: aciName('adoptGroup.name'),
      copySpec: z.boolean().default(false),
      keyVaultReferences: keyVaultReferencesSchema.optional(),
    }),
  ])
  .nullable()
  .default(null);

export type KeyVaultReferences = z.output<typeof keyVaultReferencesSchema>;

export interface AdoptGroupConfig {
  resourceGroup: string;
  name: string;
  copySpec: boolean;
  keyVaultReferences: KeyVaultReferences;
}

const noReferences = (): KeyVaultReferences => ({
  secureEnv: {},
  storageAccountKeys: {},
  secretVolumes: {},
  registryPasswords: {},
});

/** Both forms as one shape, the resource group defaulting to the app's. */
export function normaliseAdoptGroup(
  raw: z.output<typeof adoptGroupSchema>,
  appResourceGroup: string,
): AdoptGroupConfig | null {
  if (raw === null) return null;
  if (typeof raw === 'string')
    return {
      resourceGroup: appResourceGroup,
      name: raw,
      copySpec: false,
      keyVaultReferences: noReferences(),
    };
  return {
    resourceGroup: raw.resourceGroup ?? appResourceGroup,
    name: raw.name,
    copySpec: raw.copySpec,
    keyVaultReferences: raw.keyVaultReferences ?? noReferences(),
  };
}
