/**
 * `GET /api/dashboard` (function key): the status document as a server-rendered HTML page that reloads itself
 * (`?refresh=N` seconds, default 5, 0 = off). Same data and same composition call as `GET /api/status`
 * (listings cached for STATUS_CACHE_SECONDS, so a refreshing browser costs at most one list per resource group
 * per cache period). The page holds no secret values: the status document has none.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invocationLogger } from '../adapters/invocationLogger.js';
import { getRuntime } from '../composition.js';
import { DEFAULT_REFRESH_SECONDS, renderDashboard } from '../dashboard/renderDashboard.js';
import { markup } from '../dashboard/markup.js';
import { errorMessage } from '../domain/errors.js';
import { collectStatus } from '../domain/status.js';

const MAX_REFRESH_SECONDS = 3600;

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // The page has no scripts, images or forms; inline CSS only. The URL carries the function key: no referrer.
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

function refreshSeconds(request: HttpRequest): number {
  const raw = request.query.get('refresh');
  if (raw === null || raw.trim() === '') return DEFAULT_REFRESH_SECONDS;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? Math.min(n, MAX_REFRESH_SECONDS) : DEFAULT_REFRESH_SECONDS;
}

/** A minimal page for when there is no status document at all (it refreshes too, so it recovers by itself). */
function errorPage(title: string, message: string, refresh: number): string {
  const meta = refresh > 0 ? markup`<meta http-equiv="refresh" content="${refresh}">` : '';
  return markup`<!doctype html>
<html lang="en"><head><meta charset="utf-8">${meta}<title>${title}</title></head>
<body><main><h1>${title}</h1><p data-testid="dashboard-error">${message}</p></main></body></html>
`.value;
}

export async function dashboard(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const logger = invocationLogger(context);
  const refresh = refreshSeconds(request);
  let deps;
  try {
    deps = getRuntime().statusDeps(logger);
  } catch (e) {
    logger.error(`dashboard: the app settings are unusable: ${errorMessage(e)}`);
    return {
      status: 500,
      headers: HEADERS,
      body: errorPage('Configuration error', `The app settings are unusable: ${errorMessage(e)}`, refresh),
    };
  }
  try {
    const doc = await collectStatus(deps);
    return { status: 200, headers: HEADERS, body: renderDashboard(doc, { refreshSeconds: refresh }) };
  } catch (e) {
    logger.error(`dashboard failed: ${errorMessage(e)}`);
    return {
      status: 500,
      headers: HEADERS,
      body: errorPage('Status unavailable', `Could not build the status: ${errorMessage(e)}`, refresh),
    };
  }
}

app.http('dashboard', { route: 'dashboard', methods: ['GET'], authLevel: 'function', handler: dashboard });
