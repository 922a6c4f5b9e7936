/**
 * `GET /api/status` and `GET /api/status/{app}` (function key): the domain's status document (docs/design.md). It
 * holds no secret values (the domain reads none). Live listings are cached for STATUS_CACHE_SECONDS by the
 * runtime's status dependencies.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invocationLogger } from '../adapters/invocationLogger.js';
import { getRuntime, type AppRuntime } from '../composition.js';
import { errorMessage } from '../domain/errors.js';
import { collectStatus, selectApp } from '../domain/status.js';

const HEADERS = { 'cache-control': 'no-store' };

function json(status: number, body: unknown): HttpResponseInit {
  return { status, headers: HEADERS, jsonBody: body };
}

export async function status(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const logger = invocationLogger(context);
  const name = request.params['app'];
  let runtime: AppRuntime;
  try {
    runtime = getRuntime();
  } catch (e) {
    logger.error(`status: the app settings are unusable: ${errorMessage(e)}`);
    return json(500, { error: 'ConfigurationError', message: errorMessage(e) });
  }
  const deps = runtime.statusDeps(logger);
  try {
    if (!name) return json(200, await collectStatus(deps));
    const doc = await collectStatus(deps, { app: name });
    const found = selectApp(doc, name);
    if (!found) {
      const known = deps.config.apps.map((a) => a.name);
      return json(404, {
        error: 'AppNotFound',
        message: `no app named "${name}" is configured${known.length ? ` (configured: ${known.join(', ')})` : ''}`,
      });
    }
    if (found.kind === 'refused')
      return json(200, {
        name: found.name,
        refused: true,
        message: `app "${found.name}" is not deployed: its configuration has errors`,
        errors: found.errors,
        generatedAt: doc.generatedAt,
      });
    return json(200, {
      ...found.app,
      generatedAt: doc.generatedAt,
      lastReconcile: doc.lastReconcile,
      errors: doc.errors,
    });
  } catch (e) {
    logger.error(`status${name ? ` ${name}` : ''} failed: ${errorMessage(e)}`);
    return json(500, { error: 'StatusUnavailable', message: errorMessage(e) });
  }
}

app.http('status', { route: 'status/{app?}', methods: ['GET'], authLevel: 'function', handler: status });
