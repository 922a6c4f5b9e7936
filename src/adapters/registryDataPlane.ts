/**
 * Azure Container Registry's data plane (the Docker Registry HTTP API v2 at `https://{loginServer}`), read with the
 * function's managed identity. There is no management-plane call for a manifest's content, so this adapter speaks
 * HTTP itself (Node's fetch; TLS trust is the process's, as for the SDK clients).
 *
 * The flow, from "Azure Container Registry integration with Azure Active Directory" (Azure/acr docs/AAD-OAuth.md):
 * 1. an Entra ID token for ACR's audience. The registry accepts ACR-scoped tokens
 *    (`https://containerregistry.azure.net/.default`) always, and ARM-scoped ones only while its
 *    "authentication-as-arm" policy is enabled ("Configure registry acceptance of Microsoft Entra authentication
 *    scopes", container-registry/container-registry-disable-authentication-as-arm), so ask for ACR's;
 * 2. `POST /oauth2/exchange` (form: grant_type=access_token, service, access_token) → `{ refresh_token }`;
 * 3. `POST /oauth2/token` (form: grant_type=refresh_token, service, scope=repository:{repo}:pull, refresh_token)
 *    → `{ access_token }`;
 * 4. `GET /v2/{repo}/manifests/{digest}` with that bearer token and an Accept header listing the manifest and
 *    index media types (OCI distribution-spec, "Pulling an Image Manifest"). The body is verified against the
 *    digest it was fetched by, as the spec requires of clients ("Content Digests").
 *
 * Errors (distribution-spec error body `{ errors: [{ code, message }] }`): 401/403 → TerminalError
 * `RegistryAccessDenied` naming the role to grant; 404 → NotFoundError; 408, 429 (with Retry-After) and 5xx, and
 * no answer at all → TransientError; other 4xx → TerminalError.
 */
import { createHash } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { NotFoundError, TerminalError, TransientError } from '../domain/errors.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from '../domain/imageIndex.js';
import type { FetchedManifest, RegistryManifests, RegistryTag } from '../domain/ports.js';
import { fromAzureError, retryAfterMs } from './azureErrors.js';

/** Entra ID scope of Azure Container Registry's data plane. */
export const ACR_TOKEN_SCOPE = 'https://containerregistry.azure.net/.default';

/** What the registry may answer for a manifest; without the index types it refuses an index (MANIFEST_UNKNOWN). */
export const MANIFEST_ACCEPT = [OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST].join(', ');

/** Azure's addressing: a registry's API is its login server. */
export const DEFAULT_ENDPOINT_TEMPLATE = 'https://{loginServer}';

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Tags per page of ACR's tag listing, and the most pages read (the most recently updated 5,000 tags). */
const TAG_PAGE_SIZE = 100;
const MAX_TAG_PAGES = 50;

/** The tags of one page of a TagList body (entries without a name, digest or time are skipped). */
function tagsOf(list: unknown): RegistryTag[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((t: Record<string, unknown>) => {
    const { name, digest, createdTime, lastUpdateTime } = t ?? {};
    if (typeof name !== 'string' || typeof digest !== 'string' || typeof lastUpdateTime !== 'string')
      return [];
    return [
      {
        name,
        digest,
        lastUpdatedOn: lastUpdateTime,
        ...(typeof createdTime === 'string' ? { createdOn: createdTime } : {}),
      },
    ];
  });
}

/** The next page's URL from a `Link: </acr/v1/…>; rel="next"` header, resolved against the registry; same origin only. */
export function nextPage(link: string | null, base: string): string | undefined {
  const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/i.exec(link) : null;
  if (!m) return undefined;
  const url = new URL(m[1]!, `${base}/`);
  return url.origin === new URL(base).origin ? url.toString() : undefined;
}

export interface RegistryDataPlaneOptions {
  /**
   * The registry API's base URL, with `{loginServer}` (e.g. contoso.azurecr.io) and/or `{registry}` (the login
   * server's first label) placeholders. Default `https://{loginServer}`.
   */
  endpointTemplate?: string;
  requestTimeoutMs?: number;
  /** Tags per page of the tag listing (default 100). */
  tagPageSize?: number;
}

interface RegistryErrorBody {
  code?: string;
  message?: string;
}

function firstError(text: string): RegistryErrorBody {
  try {
    const body = JSON.parse(text) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    const e = body.errors?.[0];
    return {
      ...(typeof e?.code === 'string' ? { code: e.code } : {}),
      ...(typeof e?.message === 'string' ? { message: e.message } : {}),
    };
  } catch {
    return {};
  }
}

function oneLine(s: string, max = 300): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

export class RegistryDataPlaneAdapter implements RegistryManifests {
  private readonly template: string;
  private readonly timeoutMs: number;
  private readonly tagPageSize: number;

  constructor(
    private readonly credential: TokenCredential,
    options: RegistryDataPlaneOptions = {},
  ) {
    this.template = (options.endpointTemplate ?? DEFAULT_ENDPOINT_TEMPLATE).replace(/\/+$/, '');
    this.timeoutMs = options.requestTimeoutMs ?? 20_000;
    this.tagPageSize = options.tagPageSize ?? TAG_PAGE_SIZE;
  }

  /** Base URL of the registry whose login server this is. */
  endpointOf(loginServer: string): string {
    const host = loginServer.toLowerCase();
    return this.template.replaceAll('{loginServer}', host).replaceAll('{registry}', host.split('.')[0]!);
  }

  /** An ACR access token for `action` on `repository`: Entra ID token → refresh token → access token. */
  private async accessToken(
    loginServer: string,
    repository: string,
    action: 'pull' | 'metadata_read',
    denied: string,
  ): Promise<string> {
    const base = this.endpointOf(loginServer);
    const service = loginServer.toLowerCase();
    let entra: string;
    try {
      const token = await this.credential.getToken(ACR_TOKEN_SCOPE, {
        abortSignal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!token) throw new TransientError(`${service}: no Entra ID token for ${ACR_TOKEN_SCOPE}`);
      entra = token.token;
    } catch (e) {
      throw fromAzureError(`Entra ID token for ${service}`, e);
    }

    const refresh = await this.tokenCall(
      `${base}/oauth2/exchange`,
      { grant_type: 'access_token', service, access_token: entra },
      'refresh_token',
      `${service} token exchange`,
      denied,
    );
    return this.tokenCall(
      `${base}/oauth2/token`,
      {
        grant_type: 'refresh_token',
        service,
        scope: `repository:${repository}:${action}`,
        refresh_token: refresh,
      },
      'access_token',
      `${service} token for ${repository}`,
      denied,
    );
  }

  async getManifest(loginServer: string, repository: string, digest: string): Promise<FetchedManifest> {
    const base = this.endpointOf(loginServer);
    const service = loginServer.toLowerCase();
    const denied = `the function app's identity needs the AcrPull role on ${service} (or "Container Registry Repository Reader" when the registry uses ABAC repository permissions) to read ${repository}`;
    const access = await this.accessToken(loginServer, repository, 'pull', denied);

    const what = `${service}: manifest ${digest} of ${repository}`;
    const res = await this.send(`${base}/v2/${repository}/manifests/${digest}`, what, {
      method: 'GET',
      headers: { authorization: `Bearer ${access}`, accept: MANIFEST_ACCEPT },
    });
    if (!res.ok) throw await this.failure(res, what, denied);
    const body = Buffer.from(await res.arrayBuffer());
    if (body.length > MAX_MANIFEST_BYTES)
      throw new TerminalError(`${what}: ${body.length} bytes, more than a manifest can be`);
    const actual = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (actual !== digest)
      throw new TerminalError(`${what}: the body's digest is ${actual}, not the one asked for`, {
        code: 'DigestMismatch',
      });
    let manifest: unknown;
    try {
      manifest = JSON.parse(body.toString('utf8'));
    } catch {
      throw new TerminalError(`${what}: the body is not JSON`, { code: 'InvalidManifest' });
    }
    const declared = (manifest as { mediaType?: unknown } | null)?.mediaType;
    const contentType = res.headers.get('content-type')?.split(';')[0]?.trim();
    const mediaType = contentType || (typeof declared === 'string' ? declared : '');
    return { mediaType, digest, manifest };
  }

  /**
   * Every tag of `repository`, most recently updated first: ACR's `GET /acr/v1/{repository}/_tags?orderby=timedesc`
   * (ContainerRegistry_GetTags, azure-rest-api-specs specification/containerregistry/data-plane/
   * Azure.ContainerRegistry/stable/2021-07-01/containerregistry.json), which gives each tag's digest and
   * `lastUpdateTime` (its push time) in one paged call; Docker's `/v2/{repository}/tags/list` gives names only and
   * would need a manifest request per tag. Pages follow the relative `Link: <…>; rel="next"` header (same origin
   * only: the token is never sent elsewhere), at most MAX_TAG_PAGES of them. The token asks for `metadata_read`,
   * which AcrPull (and "Container Registry Repository Reader") grants. A repository not (yet) in the registry → [].
   */
  async listTags(loginServer: string, repository: string): Promise<RegistryTag[]> {
    const base = this.endpointOf(loginServer);
    const service = loginServer.toLowerCase();
    const denied = `the function app's identity needs the AcrPull role on ${service} (or "Container Registry Repository Reader" when the registry uses ABAC repository permissions) to list the tags of ${repository}`;
    const access = await this.accessToken(loginServer, repository, 'metadata_read', denied);
    const what = `${service}: tags of ${repository}`;
    const out: RegistryTag[] = [];
    let url: string | undefined = `${base}/acr/v1/${repository}/_tags?n=${this.tagPageSize}&orderby=timedesc`;
    for (let page = 0; url !== undefined && page < MAX_TAG_PAGES; page++) {
      const res = await this.send(url, what, {
        method: 'GET',
        headers: { authorization: `Bearer ${access}`, accept: 'application/json' },
      });
      if (res.status === 404 && page === 0) {
        await res.text().catch(() => '');
        return [];
      }
      if (!res.ok) throw await this.failure(res, what, denied);
      const body = (await res.json().catch(() => undefined)) as { tags?: unknown } | undefined;
      out.push(...tagsOf(body?.tags));
      url = nextPage(res.headers.get('link'), base);
    }
    return out;
  }

  /** A form POST to the registry's token service, answering one field of its JSON body. */
  private async tokenCall(
    url: string,
    form: Record<string, string>,
    field: 'refresh_token' | 'access_token',
    what: string,
    denied: string,
  ): Promise<string> {
    const res = await this.send(url, what, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    if (!res.ok) throw await this.failure(res, what, denied);
    const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    const value = body?.[field];
    if (typeof value !== 'string' || !value)
      throw new TransientError(`${what}: the answer has no ${field}`, { statusCode: res.status });
    return value;
  }

  private async send(url: string, what: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      // No answer at all (refused, reset, DNS, timeout): worth retrying.
      const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
      if (err.name === 'TimeoutError' || err.name === 'AbortError')
        throw new TransientError(`${what}: timed out after ${this.timeoutMs} ms`, { code: 'AbortError' });
      const code = err.cause?.code;
      throw new TransientError(`${what}: ${err.cause?.message ?? err.message ?? 'request failed'}`, {
        ...(code ? { code } : {}),
      });
    }
  }

  private async failure(res: Response, what: string, denied: string): Promise<Error> {
    const text = await res.text().catch(() => '');
    const { code, message } = firstError(text);
    const detail = `${res.status}${code ? ` ${code}` : ''}: ${oneLine(message ?? text) || res.statusText}`;
    const info = { statusCode: res.status, ...(code ? { code } : {}) };
    if (res.status === 401 || res.status === 403) {
      // ACR's firewall answers 403 DENIED "client with IP '…' is not allowed access".
      const firewall = /not allowed access|aka\.ms\/acr\/firewall/i.test(message ?? '');
      const fix = firewall
        ? `the registry's network rules refuse the function app; allow its outbound addresses or reach the registry through a private endpoint`
        : denied;
      return new TerminalError(`${what}: ${detail}. ${fix[0]!.toUpperCase()}${fix.slice(1)}.`, {
        ...info,
        code: 'RegistryAccessDenied',
      });
    }
    if (res.status === 404) return new NotFoundError(`${what}: ${detail}`, info);
    if (res.status === 408 || res.status === 429 || res.status >= 500) {
      const after = retryAfterMs(res.headers);
      return new TransientError(`${what}: ${detail}`, {
        ...info,
        ...(after !== undefined ? { retryAfterMs: after } : {}),
        throttled: res.status === 429,
      });
    }
    return new TerminalError(`${what}: ${detail}`, info);
  }
}
