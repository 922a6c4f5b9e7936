/**
 * Key Vault secrets at `https://{vault}.vault.localhost:{port}`, several independent vaults. This file wires the
 * parts: secretStore (state), secretRoutes (the data plane), secretViews (answers, paging), secretInput (request
 * fields), vaultAuth (the 401 challenge and token check), vaultControlRoutes (`/_emulator/vaults`), keyVaultErrors.
 */
import type { EmulatorContext, EmulatorService } from '../core/context.js';
import { SecretRoutes } from './secretRoutes.js';
import { SecretStore } from './secretStore.js';
import { VaultControlRoutes } from './vaultControlRoutes.js';

export function keyVaultService(ctx: EmulatorContext): EmulatorService {
  const store = new SecretStore(ctx);
  return {
    name: 'keyVault',
    routes: [...new SecretRoutes(ctx, store).routes(), ...new VaultControlRoutes(ctx, store).routes()],
    start: () => store.ensureSeeded(),
    reset: () => store.ensureSeeded(),
    describe: () => ({ vaults: store.vaults().map((v) => v.name) }),
  };
}
