/**
 * HTTP triggers: `/{routePrefix}/{route}` with the registered methods, route parameters and auth level. The
 * request reaches the function as the worker's RPC `http` data (so `@azure/functions` builds its real
 * `HttpRequest`), and the function's RPC HTTP output becomes the response.
 */
import type { RegisteredFunction } from './functionsCore.js';
import type {
  RpcHttpCookie,
  RpcHttpData,
  RpcInvocationResponse,
  RpcTypedData,
} from './functionsCoreTypes.js';
import { normaliseAuthLevel, type AuthLevel } from './keys.js';
import {
  compareRoutePrecedence,
  matchRouteTemplate,
  parseRouteTemplate,
  type RouteTemplate,
} from './routes.js';

export interface HttpRoute {
  fn: RegisteredFunction;
  route: RouteTemplate;
  /** Upper-case methods. */
  methods: Set<string>;
  authLevel: AuthLevel;
}

/** Routes for every HTTP-triggered function, most specific first. Throws on an invalid route or auth level. */
export function buildHttpRoutes(functions: RegisteredFunction[]): HttpRoute[] {
  const routes = functions.map((fn) => {
    const trigger = fn.trigger;
    const template =
      typeof trigger['route'] === 'string' && trigger['route'] !== '' ? trigger['route'] : fn.name;
    const methods = Array.isArray(trigger['methods']) ? (trigger['methods'] as unknown[]) : ['GET', 'POST'];
    return {
      fn,
      route: parseRouteTemplate(template),
      methods: new Set(methods.map((m) => String(m).toUpperCase())),
      authLevel: normaliseAuthLevel(trigger['authLevel']),
    };
  });
  // Stable sort keeps registration order between equally specific routes.
  return routes.sort((a, b) => compareRoutePrecedence(a.route, b.route));
}

export type RouteLookup =
  | { kind: 'match'; route: HttpRoute; params: Record<string, string> }
  | { kind: 'methodNotAllowed'; allowed: string[] }
  | { kind: 'none' };

export function findHttpRoute(routes: HttpRoute[], method: string, path: string): RouteLookup {
  const allowed = new Set<string>();
  for (const route of routes) {
    const params = matchRouteTemplate(route.route, path);
    if (!params) continue;
    if (route.methods.has(method.toUpperCase())) return { kind: 'match', route, params };
    route.methods.forEach((m) => allowed.add(m));
  }
  return allowed.size > 0 ? { kind: 'methodNotAllowed', allowed: [...allowed] } : { kind: 'none' };
}

export function toRpcHttpRequest(input: {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  params: Record<string, string>;
  body: Buffer;
}): RpcHttpData {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  const data: RpcHttpData = { method: input.method, url: input.url, headers, params: input.params };
  // No `query`: the library then reads it from the URL, which keeps repeated keys.
  if (input.body.length > 0) data.body = { bytes: new Uint8Array(input.body) };
  return data;
}

function typedDataToBuffer(data: RpcTypedData | null | undefined): Buffer {
  if (!data) return Buffer.alloc(0);
  if (data.bytes) return Buffer.from(data.bytes);
  if (data.stream) return Buffer.from(data.stream);
  if (typeof data.string === 'string') return Buffer.from(data.string);
  if (typeof data.json === 'string') return Buffer.from(data.json);
  if (typeof data.int === 'number') return Buffer.from(String(data.int));
  if (typeof data.double === 'number') return Buffer.from(String(data.double));
  return Buffer.alloc(0);
}

export function serializeCookie(cookie: RpcHttpCookie): string {
  const parts = [`${cookie.name ?? ''}=${cookie.value ?? ''}`];
  if (cookie.domain?.value) parts.push(`Domain=${cookie.domain.value}`);
  if (cookie.path?.value) parts.push(`Path=${cookie.path.value}`);
  const seconds = cookie.expires?.value?.seconds;
  if (typeof seconds === 'number') parts.push(`Expires=${new Date(seconds * 1000).toUTCString()}`);
  if (typeof cookie.maxAge?.value === 'number') parts.push(`Max-Age=${cookie.maxAge.value}`);
  if (cookie.secure?.value) parts.push('Secure');
  if (cookie.httpOnly?.value) parts.push('HttpOnly');
  if (cookie.sameSite === 'lax') parts.push('SameSite=Lax');
  else if (cookie.sameSite === 'strict') parts.push('SameSite=Strict');
  else if (cookie.sameSite === 'explicitNone') parts.push('SameSite=None');
  return parts.join('; ');
}

export interface HttpReply {
  status: number;
  headers: [string, string][];
  body: Buffer;
}

/** The HTTP output of an invocation: the `$return` http binding, else any other http output binding. */
export function fromRpcHttpResponse(response: RpcInvocationResponse): HttpReply {
  const http =
    response.returnValue?.http ?? response.outputData?.find((o) => o.data?.http)?.data?.http ?? undefined;
  if (!http) return { status: 204, headers: [], body: Buffer.alloc(0) };
  const status = Number(http.statusCode ?? 200);
  const headers: [string, string][] = Object.entries(http.headers ?? {}).map(([k, v]) => [k, String(v)]);
  for (const cookie of http.cookies ?? []) headers.push(['set-cookie', serializeCookie(cookie)]);
  return {
    status: Number.isInteger(status) && status >= 100 && status <= 999 ? status : 200,
    headers,
    body: typedDataToBuffer(http.body),
  };
}
