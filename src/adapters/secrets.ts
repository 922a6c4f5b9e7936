/**
 * Key Vault secrets through `@azure/keyvault-secrets`, one SecretClient per vault (cached). Listing reads
 * properties only (the mirrored IP is in the `ip` tag); values are fetched one by one only when asked.
 *
 * Throttling: the SDK retries a 429 only when it carries Retry-After, and Key Vault's often does not. Such a
 * 429 becomes a TransientError (throttled, no retryAfterMs), so the domain's own bounded backoff applies.
 * Secret values never appear in errors or logs.
 */
import type { SecretClient } from '@azure/keyvault-secrets';
import type { SecretProperties, Secrets } from '../domain/ports.js';
import { fromAzureError, statusOf } from './azureErrors.js';

/** `https://host[:port]` in lower case: one client per vault whatever the spelling. */
export function vaultKey(vaultUrl: string): string {
  const u = new URL(vaultUrl);
  return `${u.protocol}//${u.host.toLowerCase()}`;
}

export class SecretsAdapter implements Secrets {
  private readonly clients = new Map<string, SecretClient>();

  constructor(
    private readonly clientFor: (vaultUrl: string) => SecretClient,
    private readonly options: { requestTimeoutMs?: number } = {},
  ) {}

  private client(vaultUrl: string): SecretClient {
    const key = vaultKey(vaultUrl);
    let c = this.clients.get(key);
    if (!c) {
      c = this.clientFor(key);
      this.clients.set(key, c);
    }
    return c;
  }

  private signal(): AbortSignal {
    return AbortSignal.timeout(this.options.requestTimeoutMs ?? 30_000);
  }

  async listIpSecrets(vaultUrl: string): Promise<Map<string, SecretProperties>> {
    const out = new Map<string, SecretProperties>();
    try {
      const pages = this.client(vaultUrl).listPropertiesOfSecrets({ abortSignal: this.signal() }).byPage();
      for await (const page of pages) {
        for (const p of page) {
          const props: SecretProperties = { name: p.name, tags: { ...(p.tags ?? {}) } };
          if (p.updatedOn) props.updatedOn = p.updatedOn;
          if (p.enabled !== undefined) props.enabled = p.enabled;
          out.set(p.name, props);
        }
      }
    } catch (e) {
      throw fromAzureError(`Key Vault list ${vaultKey(vaultUrl)}`, e);
    }
    return out;
  }

  async getValue(vaultUrl: string, name: string): Promise<string | undefined> {
    try {
      const s = await this.client(vaultUrl).getSecret(name, { abortSignal: this.signal() });
      return s.value;
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw fromAzureError(`Key Vault get ${vaultKey(vaultUrl)}/secrets/${name}`, e);
    }
  }

  async set(vaultUrl: string, name: string, value: string, tags: Record<string, string>): Promise<void> {
    try {
      await this.client(vaultUrl).setSecret(name, value, { tags: { ...tags }, abortSignal: this.signal() });
    } catch (e) {
      throw fromAzureError(`Key Vault set ${vaultKey(vaultUrl)}/secrets/${name}`, e);
    }
  }
}
