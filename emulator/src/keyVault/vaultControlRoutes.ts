/** The emulator's control API for Key Vault (`/_emulator/vaults...`): list and add vaults, list a vault's secrets. */
import type { EmulatorContext } from '../core/context.js';
import { controlRoute, type EmuRequest, type EmuResponse, type Route } from '../core/router.js';
import { keyVaultErrors } from './keyVaultErrors.js';
import { isObject } from './secretInput.js';
import { latest, VAULT_NAME_PATTERN, type SecretStore } from './secretStore.js';

export class VaultControlRoutes {
  constructor(
    private readonly ctx: EmulatorContext,
    private readonly store: SecretStore,
  ) {}

  routes(): Route[] {
    return [
      controlRoute('GET', '/_emulator/vaults', 'Emulator_ListVaults', () => this.listVaults()),
      controlRoute('POST', '/_emulator/vaults', 'Emulator_AddVault', (req) => this.addVault(req)),
      controlRoute('GET', '/_emulator/vaults/:vaultName/secrets', 'Emulator_ListVaultSecrets', (req) =>
        this.listSecrets(req),
      ),
    ];
  }

  private listVaults(): EmuResponse {
    return {
      status: 200,
      body: {
        value: this.store.vaults().map((v) => ({
          name: v.name,
          vaultUrl: this.ctx.vaultUrl(v.name),
          secrets: this.store.sortedLive(v).length,
        })),
      },
    };
  }

  private addVault(req: EmuRequest): EmuResponse {
    const name = isObject(req.body) ? req.body['name'] : undefined;
    if (typeof name !== 'string' || !VAULT_NAME_PATTERN.test(name))
      throw keyVaultErrors.control.invalidVaultName();
    if (this.store.vault(name)) throw keyVaultErrors.control.vaultExists(name);
    const vault = this.store.addVault(name);
    return { status: 201, body: { name: vault.name, vaultUrl: this.ctx.vaultUrl(vault.name) } };
  }

  /** Every secret of a vault (deleted ones included), values only with `?values=true`. */
  private listSecrets(req: EmuRequest): EmuResponse {
    const vault = this.store.vault(req.params['vaultName'] ?? '');
    if (!vault) throw keyVaultErrors.control.noSuchVault(req.params['vaultName']);
    const withValues = req.query.get('values') === 'true';
    return {
      status: 200,
      body: {
        vault: vault.name,
        vaultUrl: this.ctx.vaultUrl(vault.name),
        value: Object.values(vault.secrets)
          .filter((s) => s.versions.length > 0)
          .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()))
          .map((s) => {
            const v = latest(s)!;
            return {
              name: s.name,
              version: v.version,
              versions: s.versions.length,
              enabled: v.enabled,
              deleted: Boolean(s.deleted),
              tags: v.tags ?? {},
              ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
              updated: new Date(v.updated * 1000).toISOString(),
              ...(withValues ? { value: v.value } : {}),
            };
          }),
      },
    };
  }
}
