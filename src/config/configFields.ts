/**
 * The field validators APPS_CONFIG's schemas share (apps, templates, watched groups): Azure's names and ids, ports,
 * Key Vault references. Each states the rule it enforces in its message, so a refused field says what is allowed.
 */
import { z } from 'zod';

const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const RG = '[-\\w._()]{1,90}';
export const REGISTRY_ID = new RegExp(
  `^/subscriptions/(${GUID})/resourceGroups/(${RG})/providers/Microsoft\\.ContainerRegistry/registries/([a-zA-Z0-9]{5,50})$`,
  'i',
);
const SUBNET_ID = new RegExp(
  `^/subscriptions/${GUID}/resourceGroups/${RG}/providers/Microsoft\\.Network/virtualNetworks/[-\\w._]{2,64}/subnets/[-\\w._]{1,80}$`,
  'i',
);
const IDENTITY_ID = new RegExp(
  `^/subscriptions/${GUID}/resourceGroups/${RG}/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities/[-\\w]{3,128}$`,
  'i',
);
export const GUID_PATTERN = new RegExp(`^${GUID}$`);

// ---- ACI's naming rules. The REST spec (Microsoft.ContainerInstance/stable/2023-05-01/containerInstance.json)
// declares these names as plain strings; the rules are the ones ACI applies when it validates a create, as listed in
// the "Naming conventions" table of "Troubleshoot common issues in Azure Container Instances"
// (container-instances/container-instances-troubleshooting) and as ACI's ContainerGroupNameInvalid /
// InvalidContainerName errors state them (regex '[a-z0-9]([-a-z0-9]*[a-z0-9])?', at most 63 characters).

/** Container group and container names: 1-63 lowercase letters, digits and '-', '-' not first or last. */
export const ACI_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const ACI_NAME_RULE = "1-63 lowercase letters, digits or '-', not starting or ending with '-'";
/** Environment variable names: 1-63 letters, digits and '_', '_' not first or last (any case). */
const ENV_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_]{0,61}[A-Za-z0-9])?$/;
const ENV_NAME_RULE =
  "not a valid ACI environment variable name: 1-63 letters, digits or '_', not starting or ending with '_'";
/** Volume names (same table): 5-63 lowercase letters, digits and '-', '-' not first or last, no '--'. */
const VOLUME_NAME = /^(?!.*--)[a-z0-9][a-z0-9-]{3,61}[a-z0-9]$/;
const RESOURCE_GROUP = /^[-\w._()]{0,89}[-\w_()]$/;
const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;

export const aciName = (what: string) =>
  z.string().refine((s) => ACI_NAME.test(s), { message: `${what} must be ${ACI_NAME_RULE}` });

export const envName = z.string().regex(ENV_NAME, { message: ENV_NAME_RULE });

export const volumeName = z.string().refine((s) => VOLUME_NAME.test(s), {
  message:
    "volume names are 5-63 lowercase letters, digits or '-', not starting or ending with '-', without '--' (ACI's naming table)",
});

export const resourceGroup = z
  .string()
  .refine((s) => RESOURCE_GROUP.test(s), { message: 'not a valid resource group name' });

/** https URL of a vault, normalised to `https://host[:port]` (no trailing slash). */
export function normaliseVaultUrl(url: string): string {
  const u = new URL(url);
  return `https://${u.host.toLowerCase()}`;
}

export const vaultUrl = z
  .string()
  .refine(
    (s) => {
      try {
        const u = new URL(s);
        return u.protocol === 'https:' && (u.pathname === '/' || u.pathname === '') && !u.search && !u.hash;
      } catch {
        return false;
      }
    },
    { message: 'must be an https vault URL without a path, e.g. https://kv-apps.vault.azure.net' },
  )
  .transform(normaliseVaultUrl);

export const secretName = z
  .string()
  .refine((s) => SECRET_NAME.test(s), { message: "Key Vault secret names are 1-127 letters, digits or '-'" });

/** A secret read from Key Vault at deploy time (never stored, logged or shown). */
export const keyVaultRef = z.strictObject({ vaultUrl, secretName });

export const registryResourceId = z.string().refine((s) => REGISTRY_ID.test(s), {
  message:
    'must be a registry resource id: /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.ContainerRegistry/registries/{name}',
});
export const subnetId = z.string().refine((s) => SUBNET_ID.test(s), {
  message:
    'must be a subnet resource id: /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}',
});
export const identityId = z.string().refine((s) => IDENTITY_ID.test(s), {
  message:
    'must be a user-assigned identity resource id: /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}',
});

export const port = z.number().refine((n) => Number.isInteger(n) && n >= 1 && n <= 65535, {
  message: 'must be a port number from 1 to 65535',
});
