/** Key Vault data-plane versions: 7.x (the Azure CLI and older SDKs) and 2025-07-01 (keyvault-secrets 4.11). */
export const KEY_VAULT_API_VERSIONS = [
  '2016-10-01',
  '7.0',
  '7.1',
  '7.2',
  '7.3',
  '7.4',
  '7.5',
  '7.6-preview.2',
  '7.6',
  '2025-07-01',
] as const;
