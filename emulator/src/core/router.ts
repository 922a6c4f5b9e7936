/** A small router: method + case-insensitive path pattern (ARM paths are case-insensitive), optional host kind. */
import type { IncomingHttpHeaders } from 'node:http';

export type AuthKind = 'arm' | 'keyvault' | 'eventgrid' | 'none';
export type HostKind = 'arm' | 'vault' | 'registry';

export interface EmuRequest {
  method: string;
  url: URL;
  path: string;
  /** Query with keys percent-decoded (Key Vault sends `api%2Dversion`). */
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  params: Record<string, string>;
  rawBody: Buffer;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  body: unknown;
  /** Vault name when the request came to `{vault}.vault.localhost`. */
  vaultName?: string;
  /** Registry name when the request came to a registry's data plane, `{registry}.azurecr.localhost`. */
  registryName?: string;
  requestId: string;
  /** Identity (token subject) that made the call, when authenticated. */
  caller?: { oid: string; audience: string };
}

export interface EmuResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface Route {
  method: string;
  /** e.g. `/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName`; `:name` matches one segment. */
  pattern: string;
  host?: HostKind;
  auth: AuthKind;
  /** Operation id for the request log and fault matching, e.g. `ContainerGroups_Get` (as in the REST specs). */
  operation: string;
  /** Accepted api-versions; omitted means the route takes none. */
  apiVersions?: readonly string[];
  /** Error envelope for api-version and auth failures. Defaults from auth kind. */
  handler: (req: EmuRequest) => Promise<EmuResponse> | EmuResponse;
}

type Handler = Route['handler'];

/** A route builder for one ARM provider: bearer token with ARM's audience, the provider's api-versions. */
export function armRoutes(
  apiVersions: readonly string[],
): (method: string, pattern: string, operation: string, handler: Handler) => Route {
  return (method, pattern, operation, handler) => ({
    method,
    pattern,
    operation,
    handler,
    auth: 'arm',
    apiVersions,
  });
}

/** A control API route (`/_emulator/...`): the emulator's own, no token, no api-version. */
export function controlRoute(method: string, pattern: string, operation: string, handler: Handler): Route {
  return { method, pattern, operation, handler, auth: 'none' };
}

export interface CompiledRoute extends Route {
  regex: RegExp;
  keys: string[];
}

export function compileRoute(route: Route): CompiledRoute {
  const keys: string[] = [];
  const source = route.pattern
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) {
        keys.push(segment.slice(1));
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { ...route, regex: new RegExp(`^${source}/?$`, 'i'), keys };
}

export function matchRoute(
  routes: readonly CompiledRoute[],
  method: string,
  path: string,
  host: HostKind,
): { route: CompiledRoute; params: Record<string, string> } | { methodNotAllowed: true } | undefined {
  // ARM reads empty path segments as absent: the Azure CLI's generic-resource calls send
  // `providers/Microsoft.ContainerInstance//containerGroups/{name}` for a resource with no parent (azure-cli
  // container/custom.py `_create_update_from_file`; Azure/azure-cli#30915 shows ARM passing such a PUT on to ACI).
  const armPath = path.replace(/\/{2,}/g, '/');
  let pathMatched = false;
  for (const route of routes) {
    if ((route.host ?? 'arm') !== host) continue;
    const m = route.regex.exec(host === 'arm' ? armPath : path);
    if (!m) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const params: Record<string, string> = {};
    route.keys.forEach((key, i) => {
      params[key] = decodeURIComponent(m[i + 1] ?? '');
    });
    return { route, params };
  }
  return pathMatched ? { methodNotAllowed: true } : undefined;
}
