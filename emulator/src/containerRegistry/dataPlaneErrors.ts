/**
 * The registry data plane's errors, one method per code, in the distribution-spec error body
 * `{ errors: [{ code, message, detail? }] }` (opencontainers/distribution-spec spec.md, "Error Codes"). Messages are
 * ACR's where its documentation shows them (Azure/acr docs/AAD-OAuth.md: 401 UNAUTHORIZED "authentication
 * required" with the `Www-Authenticate: Bearer realm=…,service=…,scope=…` challenge) and distribution's otherwise
 * (distribution/distribution registry/handlers: "OCI index found, but accept header does not support OCI indexes").
 */
import { EmulatorHttpError } from '../core/errors.js';

export interface Challenge {
  /** Token endpoint URL, e.g. https://contoso.azurecr.io/oauth2/token. */
  realm: string;
  /** The registry's login server. */
  service: string;
  /** e.g. `repository:web:pull`; absent for `GET /v2/`. */
  scope?: string;
  /** `insufficient_scope` when a token was presented that does not grant the scope. */
  error?: string;
}

function challengeHeader(c: Challenge): string {
  const parts = [`realm="${c.realm}"`, `service="${c.service}"`];
  if (c.scope) parts.push(`scope="${c.scope}"`);
  if (c.error) parts.push(`error="${c.error}"`);
  return `Bearer ${parts.join(',')}`;
}

const registryError = (
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
  detail?: unknown,
) =>
  new EmulatorHttpError(
    status,
    code,
    message,
    'registry',
    { 'docker-distribution-api-version': 'registry/2.0', ...headers },
    detail,
  );

export const dataPlaneErrors = {
  /** 401 with the challenge telling the client where to get a token. */
  unauthorized(c: Challenge, message = 'authentication required'): EmulatorHttpError {
    const scope = /^repository:([^:]+):(.+)$/.exec(c.scope ?? '');
    const detail = scope
      ? [{ Type: 'repository', Name: scope[1], Action: scope[2] }]
      : c.scope === undefined
        ? undefined
        : [{ Type: 'registry', Name: 'catalog', Action: '*' }];
    return registryError(401, 'UNAUTHORIZED', message, { 'www-authenticate': challengeHeader(c) }, detail);
  },
  /** A token service request it cannot honour (bad grant type, service of another registry, bad token). */
  tokenRefused(message: string): EmulatorHttpError {
    return registryError(401, 'UNAUTHORIZED', message);
  },
  unsupported(message: string): EmulatorHttpError {
    return registryError(400, 'UNSUPPORTED', message);
  },
  nameUnknown(repository: string): EmulatorHttpError {
    return registryError(
      404,
      'NAME_UNKNOWN',
      `repository name not known to registry`,
      {},
      { name: repository },
    );
  },
  manifestUnknown(message = 'manifest unknown', detail?: unknown): EmulatorHttpError {
    return registryError(404, 'MANIFEST_UNKNOWN', message, {}, detail);
  },
  /** `n` of a paged listing is not a positive integer (distribution's registry/api/errcode PAGINATION_NUMBER_INVALID). */
  paginationNumberInvalid(n: string): EmulatorHttpError {
    return registryError(400, 'PAGINATION_NUMBER_INVALID', 'invalid number of results requested', {}, { n });
  },
  registryUnknown(name: string): EmulatorHttpError {
    return registryError(404, 'NAME_UNKNOWN', `the emulator has no registry named '${name}'`);
  },
  /** The server's front door: a registry host path no route serves. */
  noRoute(method: string, path: string): EmulatorHttpError {
    return new EmulatorHttpError(404, 'NAME_UNKNOWN', `No route for ${method} ${path}.`, 'registry');
  },
  /** An injected throttle (the control API's faults); ACR's 429 code. */
  tooManyRequests(headers: Record<string, string>): EmulatorHttpError {
    return new EmulatorHttpError(429, 'TOOMANYREQUESTS', 'too many requests', 'registry', headers);
  },
};
