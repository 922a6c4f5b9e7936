/**
 * A registry's data plane, at `https://{registry}.azurecr.localhost:{port}` (Azure: `https://{loginServer}`):
 * the parts an Entra ID client uses to read manifests.
 * - `GET /v2/`: 401 with the Bearer challenge without a token (distribution-spec, "API Version Check").
 * - `POST /oauth2/exchange` (form: grant_type=access_token, service, access_token[, tenant]) → `{ refresh_token }`
 *   for an Entra ID token whose audience is ACR's (`https://containerregistry.azure.net`) or ARM's (accepted while
 *   the registry's authentication-as-arm policy is enabled, which it is here).
 * - `POST /oauth2/token` (form: grant_type=refresh_token, service, scope, refresh_token) → `{ access_token }`.
 *   Both per "Azure Container Registry integration with Azure Active Directory" (Azure/acr docs/AAD-OAuth.md).
 * - `GET|HEAD /v2/{repository}/manifests/{tag|digest}` with `Authorization: Bearer`: the manifest with its media
 *   type as `Content-Type` and `Docker-Content-Digest` (distribution-spec, "Pulling an Image Manifest"); 401 with
 *   the challenge (scope `repository:{repo}:pull`) without a token or with one that does not grant the pull;
 *   404 NAME_UNKNOWN / MANIFEST_UNKNOWN; an index or OCI manifest the Accept header does not list → 404
 *   MANIFEST_UNKNOWN, as distribution's registry answers.
 * - `GET /acr/v1/{repository}/_tags` with a token granting `metadata_read`: ACR's paged tag listing
 *   (dataPlaneTags.ts).
 * Not modelled: network rules (the emulator cannot tell where a caller comes from), blobs, the Docker
 * `/v2/{repository}/tags/list` (it gives names only, no digests or times), push.
 */
import { DEFAULT_TENANT_ID, type EmulatorContext } from '../core/context.js';
import { controlErrors } from '../core/controlErrors.js';
import type { EmuRequest, EmuResponse, Route } from '../core/router.js';
import { AUDIENCES, normaliseResource } from '../core/tokens.js';
import { dataPlaneErrors } from './dataPlaneErrors.js';
import { registryErrors } from './registryErrors.js';
import { contentOf } from './dataPlaneManifests.js';
import { tagListQuery, tagPage } from './dataPlaneTags.js';
import type { DataPlaneTokens } from './dataPlaneTokens.js';
import { DIGEST_PATTERN, REPOSITORY_PATTERN } from './imageReference.js';
import {
  loginServerOf,
  MANIFEST_LIST_MEDIA_TYPE,
  OCI_INDEX_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  type RegistryRecord,
  type RegistryStore,
} from './registryStore.js';

/** Entra ID audiences a registry accepts at `/oauth2/exchange` (ARM's while authentication-as-arm is enabled). */
const EXCHANGE_AUDIENCES = new Set<string>([...AUDIENCES.registry, ...AUDIENCES.arm]);

/** Repository names have up to this many path components here (`team/sub/web`). */
const MAX_REPOSITORY_DEPTH = 4;

/** What the Accept header must list for each stored media type (distribution registry/handlers/manifests.go). */
const NOT_ACCEPTED: Record<string, string> = {
  [OCI_INDEX_MEDIA_TYPE]: 'OCI index found, but accept header does not support OCI indexes',
  [OCI_MANIFEST_MEDIA_TYPE]: 'OCI manifest found, but accept header does not support OCI manifests',
  [MANIFEST_LIST_MEDIA_TYPE]: 'manifest list found, but accept header does not support manifest lists',
};

function form(req: EmuRequest): URLSearchParams {
  return new URLSearchParams(req.rawBody.toString('utf8'));
}

function bearer(req: EmuRequest): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(String(req.headers['authorization'] ?? ''))?.[1];
}

/** Media types the client accepts (comma-separated, possibly several headers; parameters dropped). */
function accepted(req: EmuRequest): Set<string> {
  const raw = req.headers['accept'];
  const values = Array.isArray(raw) ? raw : raw ? [raw] : [];
  return new Set(
    values
      .flatMap((v) => v.split(','))
      .map((v) => v.split(';')[0]!.trim().toLowerCase())
      .filter(Boolean),
  );
}

export function dataPlaneRoutes(
  ctx: EmulatorContext,
  store: RegistryStore,
  tokens: DataPlaneTokens,
): Route[] {
  return new DataPlaneRoutes(ctx, store, tokens).routes();
}

/** The registry's own API on its login server: /v2 ping, the token exchange, manifests; and data-plane access control. */
class DataPlaneRoutes {
  constructor(
    private readonly ctx: EmulatorContext,
    private readonly store: RegistryStore,
    private readonly tokens: DataPlaneTokens,
  ) {}

  /** The registry this request's host names; 404 when the emulator has none of that name. */
  private registryOf(req: EmuRequest): RegistryRecord {
    const name = req.registryName ?? '';
    const r = this.store.get(name);
    if (!r) throw dataPlaneErrors.registryUnknown(name);
    return r;
  }

  /** Where a client gets a token: this registry's token endpoint, as reached (host and port of the request). */
  private realm(req: EmuRequest): string {
    return `https://${req.headers.host ?? ''}/oauth2/token`;
  }

  private ping(req: EmuRequest): EmuResponse {
    const r = this.registryOf(req);
    const service = loginServerOf(r);
    const token = bearer(req);
    if (!token || !this.tokens.verify(token, service, 'access_token').ok)
      throw dataPlaneErrors.unauthorized({ realm: this.realm(req), service });
    return { status: 200, headers: { 'docker-distribution-api-version': 'registry/2.0' }, body: {} };
  }

  private exchange(req: EmuRequest): EmuResponse {
    const r = this.registryOf(req);
    const service = loginServerOf(r);
    const f = form(req);
    if (f.get('grant_type') !== 'access_token')
      throw dataPlaneErrors.unsupported(
        `grant_type '${f.get('grant_type') ?? ''}' is not supported; use access_token with an Entra ID access token`,
      );
    if (f.get('service')?.toLowerCase() !== service)
      throw dataPlaneErrors.tokenRefused(
        `service '${f.get('service') ?? ''}' is not this registry (${service})`,
      );
    const entra = this.ctx.tokens.verify(f.get('access_token') ?? '');
    if (!entra.ok) throw dataPlaneErrors.tokenRefused(`the access token is not valid: ${entra.reason}`);
    const aud = normaliseResource(entra.claims.aud);
    if (!EXCHANGE_AUDIENCES.has(aud))
      throw dataPlaneErrors.tokenRefused(
        `the access token's audience ${aud} is not accepted; use https://containerregistry.azure.net`,
      );
    const tenant = f.get('tenant');
    if (tenant && tenant !== entra.claims.tid)
      throw dataPlaneErrors.tokenRefused(`tenant ${tenant} does not match the access token's`);
    return {
      status: 200,
      body: {
        refresh_token: this.tokens.refreshToken(
          entra.claims.oid,
          entra.claims.tid ?? DEFAULT_TENANT_ID,
          service,
        ),
      },
    };
  }

  private token(req: EmuRequest): EmuResponse {
    const r = this.registryOf(req);
    const service = loginServerOf(r);
    const f = form(req);
    if (f.get('grant_type') !== 'refresh_token')
      throw dataPlaneErrors.unsupported(
        `grant_type '${f.get('grant_type') ?? ''}' is not supported; use refresh_token with a refresh token from /oauth2/exchange`,
      );
    if (f.get('service')?.toLowerCase() !== service)
      throw dataPlaneErrors.tokenRefused(
        `service '${f.get('service') ?? ''}' is not this registry (${service})`,
      );
    const refresh = this.tokens.verify(f.get('refresh_token') ?? '', service, 'refresh_token');
    if (!refresh.ok) throw dataPlaneErrors.tokenRefused(`the refresh token is not valid: ${refresh.reason}`);
    const scopes = f
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    return { status: 200, body: { access_token: this.tokens.accessToken(refresh.claims, r.name, scopes) } };
  }

  /** The repository a data-plane path names (`r0`…`r3` segments). */
  private repositoryOf(req: EmuRequest): string {
    return Object.keys(req.params)
      .filter((k) => /^r\d$/.test(k))
      .sort()
      .map((k) => req.params[k]!)
      .join('/');
  }

  /**
   * The request's bearer token must grant `action` on the repository; otherwise 401 with the challenge naming the
   * scope to ask for (`repository:{repo}:pull` for manifests, `:metadata_read` for ACR's listings).
   */
  private authorize(req: EmuRequest, r: RegistryRecord, repository: string, action: string): void {
    const service = loginServerOf(r);
    const scope = `repository:${repository}:${action}`;
    const presented = bearer(req);
    const verified = presented ? this.tokens.verify(presented, service, 'access_token') : undefined;
    if (!verified?.ok) throw dataPlaneErrors.unauthorized({ realm: this.realm(req), service, scope });
    const granted = verified.claims.access?.some(
      (a) => a.type === 'repository' && a.name === repository && a.actions.includes(action),
    );
    if (!granted)
      throw dataPlaneErrors.unauthorized({
        realm: this.realm(req),
        service,
        scope,
        error: 'insufficient_scope',
      });
  }

  private manifest(req: EmuRequest): EmuResponse {
    const r = this.registryOf(req);
    const repository = this.repositoryOf(req);
    const reference = req.params['reference'] ?? '';
    this.authorize(req, r, repository, 'pull');

    if (!REPOSITORY_PATTERN.test(repository)) throw dataPlaneErrors.nameUnknown(repository);
    const repo = r.repositories[repository];
    if (!repo) throw dataPlaneErrors.nameUnknown(repository);
    const digest = DIGEST_PATTERN.test(reference) ? reference : repo.tags[reference];
    const m = digest ? repo.manifests[digest] : undefined;
    if (!m) throw dataPlaneErrors.manifestUnknown('manifest unknown', { Tag: reference });
    const accepts = accepted(req);
    const wildcard = accepts.has('*/*');
    const refusal = NOT_ACCEPTED[m.mediaType];
    if (refusal && !wildcard && !accepts.has(m.mediaType)) throw dataPlaneErrors.manifestUnknown(refusal);
    const body = Buffer.from(contentOf(m));
    return {
      status: 200,
      headers: {
        'content-type': m.mediaType,
        'docker-content-digest': m.digest,
        'docker-distribution-api-version': 'registry/2.0',
        etag: `"${m.digest}"`,
      },
      body,
    };
  }

  private tags(req: EmuRequest): EmuResponse {
    const r = this.registryOf(req);
    const repository = this.repositoryOf(req);
    this.authorize(req, r, repository, 'metadata_read');
    const repo = REPOSITORY_PATTERN.test(repository) ? r.repositories[repository] : undefined;
    if (!repo) throw dataPlaneErrors.nameUnknown(repository);
    const page = tagPage(r, repository, repo, tagListQuery(req.query, this.ctx.options.pageSize.tags));
    return {
      status: 200,
      headers: {
        'docker-distribution-api-version': 'registry/2.0',
        ...(page.link ? { link: page.link } : {}),
      },
      body: page.body,
    };
  }

  routes(): Route[] {
    const manifestRoutes: Route[] = [];
    for (let depth = 1; depth <= MAX_REPOSITORY_DEPTH; depth++) {
      const repoPattern = Array.from({ length: depth }, (_, i) => `:r${i}`).join('/');
      for (const method of ['GET', 'HEAD'])
        manifestRoutes.push({
          method,
          pattern: `/v2/${repoPattern}/manifests/:reference`,
          host: 'registry',
          auth: 'none',
          operation: method === 'GET' ? 'Manifests_Get' : 'Manifests_Exists',
          handler: (req) => this.manifest(req),
        });
      manifestRoutes.push({
        method: 'GET',
        pattern: `/acr/v1/${repoPattern}/_tags`,
        host: 'registry',
        auth: 'none',
        operation: 'ContainerRegistry_GetTags',
        handler: (req) => this.tags(req),
      });
    }

    const control: Route = {
      method: 'POST',
      pattern: '/_emulator/registries/:registryName/dataPlaneAccess',
      auth: 'none',
      operation: 'Emulator_SetDataPlaneAccess',
      handler: (req) => {
        const r = this.store.get(req.params['registryName'] ?? '');
        const body = (req.body ?? {}) as { principalId?: unknown; pull?: unknown };
        if (!r) throw registryErrors.control.registryNotFound(req.params['registryName'] ?? '');
        if (typeof body.principalId !== 'string' || typeof body.pull !== 'boolean')
          throw controlErrors.badRequest(
            "The body must be { principalId: string, pull: boolean } (pull false denies the principal's pulls).",
          );
        const denied = this.tokens.setPullAccess(r.name, body.principalId, body.pull);
        return { status: 200, body: { registry: r.name, deniedPull: denied } };
      },
    };

    return [
      {
        method: 'GET',
        pattern: '/v2',
        host: 'registry',
        auth: 'none',
        operation: 'V2Support_Check',
        handler: (req) => this.ping(req),
      },
      {
        method: 'POST',
        pattern: '/oauth2/exchange',
        host: 'registry',
        auth: 'none',
        operation: 'Authentication_ExchangeAadAccessTokenForAcrRefreshToken',
        handler: (req) => this.exchange(req),
      },
      {
        method: 'POST',
        pattern: '/oauth2/token',
        host: 'registry',
        auth: 'none',
        operation: 'Authentication_ExchangeAcrRefreshTokenForAcrAccessToken',
        handler: (req) => this.token(req),
      },
      ...manifestRoutes,
      control,
    ];
  }
}
