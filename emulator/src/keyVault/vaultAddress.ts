/**
 * A vault's addresses. Key Vault's ids (`id`, `kid`, `recoveryId`) name the vault without a port
 * (`https://{vault}.vault.azure.net/secrets/{name}/{version}`), while its `nextLink`s name the port they were
 * called on, the default one included (`https://{vault}.vault.azure.net:443/secrets?api-version=…&$skiptoken=…`): so
 * Key Vault's answers recorded by the azure-sdk-for-js tests (keyvault-certificates/secrets recordings, api-version
 * 7.3). The emulator runs on any port, so only HTTPS's default port is left out of ids; `@azure/keyvault-secrets`
 * derives `vaultUrl` from `id` through `new URL()`, which keeps any other port.
 */

const HTTPS_DEFAULT_PORT = 443;

/** The vault's URL as its ids carry it: `https://{name}.vault.localhost[:port]`, no `:443`. */
export function vaultUrl(name: string, port: number): string {
  return port === HTTPS_DEFAULT_PORT
    ? `https://${name}.vault.localhost`
    : `https://${name}.vault.localhost:${port}`;
}

/** The base of a `nextLink`: always with the port the vault was called on. */
export function vaultNextLinkBase(name: string, port: number): string {
  return `https://${name}.vault.localhost:${port}`;
}
