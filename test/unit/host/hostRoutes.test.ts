import { describe, expect, it } from 'vitest';
import {
  compareRoutePrecedence,
  matchRouteTemplate,
  parseRouteTemplate,
  RouteTemplateError,
} from '../../../host/src/routes.js';
import { buildHttpRoutes, findHttpRoute } from '../../../host/src/httpTriggers.js';
import type { RegisteredFunction } from '../../../host/src/functionsCore.js';

const match = (template: string, path: string) => matchRouteTemplate(parseRouteTemplate(template), path);

describe('route templates', () => {
  it('matches literals case-insensitively and ignores a trailing slash', () => {
    expect(match('status', 'status')).toEqual({});
    expect(match('status', 'STATUS/')).toEqual({});
    expect(match('status', 'status/web')).toBeUndefined();
    expect(match('status', 'other')).toBeUndefined();
  });

  it('captures parameters, decoded, and optional ones only when present', () => {
    expect(match('status/{app}', 'status/web')).toEqual({ app: 'web' });
    expect(match('status/{app}', 'status')).toBeUndefined();
    expect(match('status/{app?}', 'status')).toEqual({});
    expect(match('status/{app?}', 'status/my%20app')).toEqual({ app: 'my app' });
    expect(match('greet/{name}/{title?}', 'greet/ada/dr')).toEqual({ name: 'ada', title: 'dr' });
    expect(match('greet/{name}/{title?}', 'greet/ada/dr/extra')).toBeUndefined();
  });

  it('applies defaults, catch-alls and complex segments', () => {
    expect(match('list/{page=1}', 'list')).toEqual({ page: '1' });
    expect(match('list/{page=1}', 'list/3')).toEqual({ page: '3' });
    expect(match('files/{*path}', 'files/a/b/c.txt')).toEqual({ path: 'a/b/c.txt' });
    expect(match('files/{*path}', 'files')).toEqual({});
    expect(match('files/{name}.{ext}', 'files/report.pdf')).toEqual({ name: 'report', ext: 'pdf' });
  });

  it('applies inline constraints', () => {
    expect(match('items/{id:int}', 'items/42')).toEqual({ id: '42' });
    expect(match('items/{id:int}', 'items/x')).toBeUndefined();
    expect(match('items/{id:int:min(10)}', 'items/9')).toBeUndefined();
    expect(match('items/{id:int:range(1,5)}', 'items/5')).toEqual({ id: '5' });
    expect(match('u/{name:alpha:maxlength(3)}', 'u/abcd')).toBeUndefined();
    expect(match('u/{id:guid}', 'u/1b4e28ba-2fa1-11d2-883f-0016d3cca427')).toEqual({
      id: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
    });
    expect(match('u/{flag:bool}', 'u/TRUE')).toEqual({ flag: 'TRUE' });
    expect(match('v/{x:regex(^a:b$)}', 'v/a:b')).toEqual({ x: 'a:b' });
  });

  it('rejects invalid templates', () => {
    expect(() => parseRouteTemplate('a/{x')).toThrow(RouteTemplateError);
    expect(() => parseRouteTemplate('a/{x:nope}')).toThrow(/Unknown route constraint/);
    expect(() => parseRouteTemplate('a/{x?}/b')).toThrow(/optional parameter/);
    expect(() => parseRouteTemplate('{*all}/b')).toThrow(/catch-all/);
    expect(() => parseRouteTemplate('{x}/{X}')).toThrow(/repeats/);
  });

  it('orders routes from most to least specific', () => {
    const templates = ['{*all}', 'status/{app?}', 'status/{app}', 'status/web', 'status/{id:int}', 'status'];
    const sorted = templates
      .map(parseRouteTemplate)
      .sort(compareRoutePrecedence)
      .map((r) => r.template);
    expect(sorted).toEqual([
      'status',
      'status/web',
      'status/{id:int}',
      'status/{app}',
      'status/{app?}',
      '{*all}',
    ]);
  });
});

function httpFunction(name: string, options: Record<string, unknown>): RegisteredFunction {
  const trigger = { name: 'req', type: 'httpTrigger', direction: 'in' as const, ...options };
  return { name, trigger, metadata: { name, bindings: { req: trigger } }, callback: () => undefined };
}

describe('HTTP route table', () => {
  const routes = buildHttpRoutes([
    httpFunction('statusAll', { route: 'status/{app?}', methods: ['GET'], authLevel: 'function' }),
    httpFunction('statusWeb', { route: 'status/web', methods: ['GET'] }),
    httpFunction('defaultRoute', {}),
  ]);

  it('picks the most specific route whose method matches', () => {
    const web = findHttpRoute(routes, 'GET', '/status/web');
    expect(web.kind === 'match' && web.route.fn.name).toBe('statusWeb');
    const other = findHttpRoute(routes, 'get', '/status/api');
    expect(other.kind === 'match' && [other.route.fn.name, other.params]).toEqual([
      'statusAll',
      { app: 'api' },
    ]);
    expect(other.kind === 'match' && other.route.authLevel).toBe('function');
  });

  it('uses the function name as the default route, with GET and POST', () => {
    const found = findHttpRoute(routes, 'POST', '/defaultRoute');
    expect(found.kind === 'match' && found.route.authLevel).toBe('anonymous');
    expect(findHttpRoute(routes, 'PUT', '/defaultRoute')).toEqual({
      kind: 'methodNotAllowed',
      allowed: ['GET', 'POST'],
    });
    expect(findHttpRoute(routes, 'GET', '/missing')).toEqual({ kind: 'none' });
  });

  it('routes two-parameter templates like the operator actions, literal segment case-insensitively', () => {
    const actions = buildHttpRoutes([
      ...routes.map((r) => r.fn),
      httpFunction('operatorActions', {
        route: 'apps/{app}/{action}',
        methods: ['POST'],
        authLevel: 'function',
      }),
    ]);
    const found = findHttpRoute(actions, 'POST', '/APPS/web%2Dblue/rollback/');
    expect(found.kind === 'match' && [found.route.fn.name, found.params]).toEqual([
      'operatorActions',
      { app: 'web-blue', action: 'rollback' },
    ]);
    expect(findHttpRoute(actions, 'GET', '/apps/web/rollback')).toEqual({
      kind: 'methodNotAllowed',
      allowed: ['POST'],
    });
    expect(findHttpRoute(actions, 'POST', '/apps/web')).toEqual({ kind: 'none' });
    expect(findHttpRoute(actions, 'POST', '/apps/web/rollback/extra')).toEqual({ kind: 'none' });
  });

  it('refuses an unknown auth level', () => {
    expect(() => buildHttpRoutes([httpFunction('x', { authLevel: 'system' })])).toThrow(
      /Unsupported authLevel/,
    );
  });
});
