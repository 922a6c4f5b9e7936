/**
 * Who is calling: the bearer token of an ARM or Event Grid route, checked against the emulator's token issuer and
 * the route's audiences (ARM's AuthenticationFailed / InvalidAuthenticationToken / ...TokenAudience); Key Vault's
 * routes through its own challenge (keyVault/vaultAuth.ts). Control routes take no token.
 */
import { armErrors } from '../core/armErrors.js';
import type { EmulatorContext } from '../core/context.js';
import type { CompiledRoute, EmuRequest } from '../core/router.js';
import { AUDIENCES } from '../core/tokens.js';
import { authenticateVaultCaller } from '../keyVault/vaultAuth.js';

const ARM_AUDIENCES = new Set<string>(AUDIENCES.arm);
const EVENTGRID_AUDIENCES = new Set<string>(AUDIENCES.eventgrid);

export function authenticate(ctx: EmulatorContext, route: CompiledRoute, req: EmuRequest): void {
  if (route.auth === 'none') return;
  const header = String(req.headers['authorization'] ?? '');
  const token = /^Bearer\s+(.+)$/i.exec(header)?.[1];
  if (route.auth === 'keyvault') {
    authenticateVaultCaller(ctx, req, token);
    return;
  }
  const allowed = route.auth === 'arm' ? ARM_AUDIENCES : EVENTGRID_AUDIENCES;
  if (!token) throw armErrors.authenticationHeaderMissing();
  const verified = ctx.tokens.verify(token);
  if (!verified.ok) throw armErrors.invalidAuthenticationToken(verified.reason);
  if (!allowed.has(verified.claims.aud))
    throw armErrors.invalidAuthenticationTokenAudience(verified.claims.aud, allowed);
  req.caller = { oid: verified.claims.oid, audience: verified.claims.aud };
}
