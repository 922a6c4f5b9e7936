/**
 * Key Vault's error codes, each written once (Azurite's error-factory idea), in Key Vault's envelope
 * `{ error: { code, message } }` (KeyVaultError in azure-rest-api-specs specification/keyvault). The 401's body,
 * `{"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}}`, is as
 * Azure answers it in Azure/azure-sdk-for-python#24557 and Azure/azure-sdk-for-net#39216.
 */
import { controlErrors } from '../core/controlErrors.js';
import { EmulatorHttpError, keyVaultError } from '../core/errors.js';

const NOT_FOUND_HINT =
  'If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182';

export const keyVaultErrors = {
  /** Key Vault's code for any invalid request field or query parameter. */
  badParameter: (message: string): EmulatorHttpError => keyVaultError(400, 'BadParameter', message),

  /**
   * The 401 with Key Vault's challenge: the SDK's first request carries no token and learns from it where to get
   * one; a client holding a bad token can start over.
   */
  unauthorized: (message: string, tenantId: string): EmulatorHttpError =>
    new EmulatorHttpError(401, 'Unauthorized', message, 'keyvault', {
      'www-authenticate': `Bearer authorization="https://login.windows.net/${tenantId}", resource="https://vault.localhost"`,
    }),

  missingApiVersion: (): EmulatorHttpError =>
    keyVaultErrors.badParameter('The api-version query parameter is missing.'),

  unrecognizedApiVersion: (version: string, latest: string): EmulatorHttpError =>
    keyVaultErrors.badParameter(
      `The specified version (${version}) is not recognized. Consider using the latest supported version (${latest}).`,
    ),

  noRoute: (method: string, path: string): EmulatorHttpError =>
    keyVaultError(404, 'NotFound', `No route for ${method} ${path}.`),

  /** In Azure an unknown vault name does not resolve in DNS; locally every *.vault.localhost reaches us. */
  vaultNotFound: (name: string): EmulatorHttpError =>
    keyVaultError(
      404,
      'VaultNotFound',
      `The vault '${name}' does not exist. (In Azure its host name would not resolve; add it with POST /_emulator/vaults.)`,
    ),

  secretNotFound: (ref: string): EmulatorHttpError =>
    keyVaultError(
      404,
      'SecretNotFound',
      `A secret with (name/id) ${ref} was not found in this key vault. ${NOT_FOUND_HINT}`,
    ),

  deletedSecretNotFound: (name: string): EmulatorHttpError =>
    keyVaultError(404, 'SecretNotFound', `Deleted Secret not found: ${name}`),

  secretDeletedButRecoverable: (name: string): EmulatorHttpError =>
    keyVaultError(
      409,
      'Conflict',
      `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
    ),

  secretDisabled: (): EmulatorHttpError =>
    keyVaultError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.'),

  throttled: (headers: Record<string, string>): EmulatorHttpError =>
    new EmulatorHttpError(
      429,
      'Throttled',
      'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached',
      'keyvault',
      headers,
    ),

  notImplemented: (what: string): EmulatorHttpError =>
    keyVaultError(501, 'NotImplemented', `The local emulator does not implement ${what}.`),

  // --- the emulator's control API (not Azure's: plain body) ---------------------------------------------------
  control: {
    invalidVaultName: (): EmulatorHttpError =>
      controlErrors.badRequest(
        "'name' must be a vault name: 3-24 letters, digits and single dashes, starting with a letter.",
      ),
    vaultExists: (name: string): EmulatorHttpError =>
      new EmulatorHttpError(409, 'VaultAlreadyExists', `The vault '${name}' exists already.`, 'plain'),
    noSuchVault: (name: string | undefined): EmulatorHttpError =>
      new EmulatorHttpError(404, 'VaultNotFound', `The emulator has no vault named '${name}'.`, 'plain'),
  },
};
