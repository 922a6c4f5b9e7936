/**
 * Key Vault's own authentication: a 401 with the challenge (keyVaultErrors.unauthorized) for a missing or bad
 * token, or a token for another audience; AKV10000/AKV10022 as Key Vault words them.
 */
import type { EmulatorContext } from '../core/context.js';
import type { EmuRequest } from '../core/router.js';
import { AUDIENCES } from '../core/tokens.js';
import { keyVaultErrors } from './keyVaultErrors.js';

const VAULT_AUDIENCES = new Set<string>(AUDIENCES.keyvault);

export function authenticateVaultCaller(
  ctx: EmulatorContext,
  req: EmuRequest,
  token: string | undefined,
): void {
  const tenantId = ctx.options.tenantId;
  if (!token)
    throw keyVaultErrors.unauthorized('AKV10000: Request is missing a Bearer or PoP token.', tenantId);
  const verified = ctx.tokens.verify(token);
  if (!verified.ok)
    throw keyVaultErrors.unauthorized(`AKV10022: Invalid token: ${verified.reason}`, tenantId);
  if (!VAULT_AUDIENCES.has(verified.claims.aud)) {
    throw keyVaultErrors.unauthorized(
      `AKV10022: Invalid audience. Expected https://vault.localhost, found: ${verified.claims.aud}.`,
      tenantId,
    );
  }
  req.caller = { oid: verified.claims.oid, audience: verified.claims.aud };
}
