import { parseKeyVaultSecretIdentifier } from '@azure/keyvault-secrets';
import { describe, expect, it } from 'vitest';
import { vaultNextLinkBase, vaultUrl } from '../../../emulator/src/keyVault/vaultAddress.js';

describe("emulated Key Vault addresses (ids without HTTPS's default port, nextLinks with it)", () => {
  it('leaves :443 out of the address ids carry, and keeps any other port', () => {
    expect(vaultUrl('kv-apps', 443)).toBe('https://kv-apps.vault.localhost');
    expect(vaultUrl('kv-apps', 7443)).toBe('https://kv-apps.vault.localhost:7443');
  });

  it('writes the port it was called on into nextLinks, the default one included', () => {
    expect(vaultNextLinkBase('kv-apps', 443)).toBe('https://kv-apps.vault.localhost:443');
    expect(vaultNextLinkBase('kv-apps', 7443)).toBe('https://kv-apps.vault.localhost:7443');
  });

  it('gives ids from which @azure/keyvault-secrets derives the vault, name and version', () => {
    for (const port of [443, 7443]) {
      const id = `${vaultUrl('kv-apps', port)}/secrets/web-ip/0123456789abcdef0123456789abcdef`;
      expect(parseKeyVaultSecretIdentifier(id)).toEqual({
        sourceId: id,
        vaultUrl: vaultUrl('kv-apps', port),
        name: 'web-ip',
        version: '0123456789abcdef0123456789abcdef',
      });
    }
  });
});
