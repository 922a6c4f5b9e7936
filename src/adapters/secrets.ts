/**
 * Key Vault secrets through `@azure/keyvault-secrets`, one SecretClient per vault (cached). Listing reads
 * properties only (the mirrored IP is in the `ip` tag); values are fetched one by one only when asked.
 *
 * Throttling: the SDK retries a 429 only when it carries Retry-After, and Key Vault's often does not. Such a
 * 429 becomes a TransientError (throttled, no retryAfterMs), so the domain's own bounded backoff applies.
 * Secret values never appear in errors or logs.
 */
import type { SecretClient, SecretProperties as KeyVaultSecretProperties } from '@azure/keyvault-secrets';
import type { ListingObserver, SecretProperties, Secrets, VersionedSecret } from '../domain/ports.js';
import { TransientError } from '../domain/errors.js';
import { fromAzureError, statusOf } from './azureErrors.js';

/** Resumptions of one listing after failures of its later pages (each after a backoff). */
const PAGE_RESUMPTIONS = 8;

/** `work`, or the signal's reason once it aborts (the work itself is left to finish or fail unobserved). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** The port's view of the SDK's properties (listing and single read alike). */
function propertiesOf(p: KeyVaultSecretProperties): SecretProperties {
  const props: SecretProperties = { name: p.name, tags: { ...(p.tags ?? {}) } };
  if (p.updatedOn) props.updatedOn = p.updatedOn;
  if (p.createdOn) props.createdOn = p.createdOn;
  if (p.enabled !== undefined) props.enabled = p.enabled;
  return props;
}

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

  /**
   * A throttled (or otherwise transient) failure of a later page resumes the listing at that page, after a
   * backoff, instead of failing it: a caller's retry would start again from the first page, so with half of the
   * calls throttled a listing of more than a few pages would never complete. The first page's failures go to
   * the caller (which retries them with its own backoff and counts the throttling); a resumed later page is
   * reported through `observer.onThrottled`, or a tick whose only throttled calls were later pages would
   * record none (issue 19).
   */
  async listIpSecrets(vaultUrl: string, observer?: ListingObserver): Promise<Map<string, SecretProperties>> {
    const out = new Map<string, SecretProperties>();
    let continuationToken: string | undefined;
    for (let resumed = 0; ; resumed++) {
      let pagesRead = 0;
      try {
        const byPage = this.client(vaultUrl)
          .listPropertiesOfSecrets({ abortSignal: this.signal() })
          .byPage(continuationToken ? { continuationToken } : undefined);
        const pages = byPage[Symbol.asyncIterator]();
        for (;;) {
          // The SDK passes the abort signal to the first page's request only: stop waiting for a later page
          // when the time is up, so a hung page costs one timeout instead of the whole tick. The timeout is
          // each page's, not the listing's: a 10,000-secret vault is 400 pages in a row, which at Azure's
          // latency take longer than one request may (found by the 20,000-group benchmark, issue 15).
          const next = await untilAborted(pages.next(), this.signal());
          if (next.done) break;
          const page = next.value;
          pagesRead++;
          for (const p of page) out.set(p.name, propertiesOf(p));
        }
        return out;
      } catch (e) {
        const error = fromAzureError(`Key Vault list ${vaultKey(vaultUrl)}`, e);
        // The failed request's URL is the nextLink of the last page read: where to resume.
        const failedPage = (e as { request?: { url?: unknown } }).request?.url;
        const isLaterPage =
          typeof failedPage === 'string' && (pagesRead > 0 || continuationToken !== undefined);
        if (!(error instanceof TransientError) || !isLaterPage || resumed >= PAGE_RESUMPTIONS) throw error;
        if (error.throttled) observer?.onThrottled?.();
        continuationToken = failedPage;
        const backoff = error.retryAfterMs ?? Math.min(4_000, 250 * 2 ** Math.min(resumed, 4));
        await new Promise((resolve) =>
          setTimeout(resolve, backoff + Math.floor(Math.random() * backoff * 0.2)),
        );
      }
    }
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

  async getSecret(vaultUrl: string, name: string): Promise<VersionedSecret | undefined> {
    try {
      const s = await this.client(vaultUrl).getSecret(name, { abortSignal: this.signal() });
      if (s.value === undefined) return undefined;
      return {
        value: s.value,
        ...(s.properties.version ? { version: s.properties.version } : {}),
        ...(s.properties.createdOn ? { createdOn: s.properties.createdOn } : {}),
      };
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw fromAzureError(`Key Vault get ${vaultKey(vaultUrl)}/secrets/${name}`, e);
    }
  }

  /** Key Vault has no properties-only read of the latest version: a GET of the secret, value dropped at once. */
  async getProperties(vaultUrl: string, name: string): Promise<SecretProperties | undefined> {
    try {
      const s = await this.client(vaultUrl).getSecret(name, { abortSignal: this.signal() });
      return propertiesOf(s.properties);
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
