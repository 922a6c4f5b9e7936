/**
 * Strict about api-versions, as Azurite is: a route that lists its versions refuses a missing or unknown one, in
 * the service's own words (ARM: MissingApiVersionParameter / NoRegisteredProviderFound; Key Vault: BadParameter).
 */
import { armErrors } from '../core/armErrors.js';
import type { CompiledRoute, EmuRequest } from '../core/router.js';
import { keyVaultErrors } from '../keyVault/keyVaultErrors.js';

export function checkApiVersion(route: CompiledRoute, req: EmuRequest): void {
  if (!route.apiVersions) return;
  const version = req.query.get('api-version');
  if (route.auth === 'keyvault') {
    if (!version) throw keyVaultErrors.missingApiVersion();
    if (!route.apiVersions.includes(version))
      throw keyVaultErrors.unrecognizedApiVersion(version, route.apiVersions.at(-1) ?? '');
    return;
  }
  if (!version) throw armErrors.missingApiVersionParameter();
  if (!route.apiVersions.includes(version)) {
    const type = /providers\/([^/]+\/[^/]+)/i.exec(req.path)?.[1] ?? 'resource';
    throw armErrors.noRegisteredProviderFound(version, type.split('/')[1] ?? type, route.apiVersions);
  }
}
