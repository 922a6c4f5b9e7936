/**
 * The local functions host: loads the app's entry module with `@azure/functions-core` provided, then serves
 * what the Functions host serves for the captured registrations: HTTP triggers under `/{routePrefix}/`, the
 * Event Grid webhook, timers, and a few admin routes (`/admin/host/ping`, `/admin/host/status`,
 * `/admin/functions`, `POST /admin/functions/{name}` to run a non-HTTP function now).
 *
 * `main.ts` is the CLI around it (settings, keys file, stack.json, signals); `startHost` is usable in-process.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { loadApp } from './appLoader.js';
import { EVENTGRID_WEBHOOK_PATH, handleEventGridWebhook, type WebhookReply } from './eventGridWebhook.js';
import {
  BodyTooLargeError,
  EVENTGRID_MAX_BODY_BYTES,
  HTTP_TRIGGER_MAX_BODY_BYTES,
  readBody,
} from './requestBody.js';
import { FunctionsCore, provideFunctionsCoreModule, type RegisteredFunction } from './functionsCore.js';
import { consoleLogger, type HostLogger } from './hostLog.js';
import {
  buildHttpRoutes,
  findHttpRoute,
  fromRpcHttpResponse,
  toRpcHttpRequest,
  type HttpRoute,
} from './httpTriggers.js';
import { Invoker } from './invoker.js';
import {
  EVENTGRID_SYSTEM_KEY,
  keyAllows,
  loadOrCreateKeys,
  presentedKey,
  systemKeyAllows,
  type HostKeys,
  type KeyOverrides,
  type SharedFunctionKey,
} from './keys.js';
import { parseTimerSchedule, resolveSettingReferences } from './timerSchedule.js';
import { TimerRunner } from './timerRunner.js';

export interface HostOptions {
  /** Directory of the function app (package.json `main`, host.json). */
  appDir: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Loopback address to bind. Default 127.0.0.1. */
  hostname?: string;
  /** keys.json and timer schedule status live here. */
  stateDir: string;
  keyOverrides?: KeyOverrides;
  /** Function keys shared by several functions (created on those the app has; see keys.ts). */
  sharedFunctionKeys?: SharedFunctionKey[];
  logger?: HostLogger;
  /** App settings used to resolve `%SETTING%` in bindings. Default process.env. */
  settings?: Record<string, string | undefined>;
  /** How long shutdown waits for running invocations. Default 5 s. */
  shutdownGraceMs?: number;
  /** Largest accepted HTTP trigger body. Default 100 MB, as the Functions host (requestBody.ts). */
  maxBodyBytes?: number;
}

export interface FunctionSummary {
  name: string;
  trigger: string;
  route?: string;
  methods?: string[];
  authLevel?: string;
  schedule?: string;
  error?: string;
}

export interface HostHandle {
  url: string;
  port: number;
  keys: HostKeys;
  functions: FunctionSummary[];
  timers: TimerRunner[];
  /** Stops timers, waits for running invocations (up to the grace period), closes the server. */
  close(): Promise<void>;
}

let active = false;

/** How long the rest of a refused body is read and dropped before the connection is closed. */
const UNREAD_LINGER_MS = 2_000;

function readRoutePrefix(appDir: string): string {
  try {
    const hostJson = JSON.parse(fs.readFileSync(path.join(appDir, 'host.json'), 'utf8')) as {
      extensions?: { http?: { routePrefix?: unknown } };
    };
    const prefix = hostJson.extensions?.http?.routePrefix;
    if (typeof prefix === 'string') return prefix.replace(/^\/+|\/+$/g, '');
  } catch {
    // No host.json: the default applies.
  }
  return 'api';
}

function sendReply(res: http.ServerResponse, reply: WebhookReply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let body: Buffer | undefined;
  if (reply.body !== undefined) {
    if (Buffer.isBuffer(reply.body)) body = reply.body;
    else if (typeof reply.body === 'string') body = Buffer.from(reply.body);
    else {
      body = Buffer.from(JSON.stringify(reply.body));
      headers['content-type'] ??= 'application/json; charset=utf-8';
    }
  }
  headers['content-length'] = String(body?.length ?? 0);
  res.writeHead(reply.status, headers);
  res.end(body);
}

export async function startHost(options: HostOptions): Promise<HostHandle> {
  if (active) throw new Error('A local functions host is already running in this process.');
  active = true;
  const logger = options.logger ?? consoleLogger();
  const hostname = options.hostname ?? '127.0.0.1';
  const settings = options.settings ?? process.env;
  const graceMs = options.shutdownGraceMs ?? 5000;
  const maxBody = options.maxBodyBytes ?? HTTP_TRIGGER_MAX_BODY_BYTES;
  const appDir = path.resolve(options.appDir);

  const core = new FunctionsCore((level, message) => logger.system(message, level));
  const restoreRequire = provideFunctionsCoreModule(core.api);
  try {
    const files = await loadApp(appDir);
    logger.system(`Loaded ${files.map((f) => path.relative(process.cwd(), f)).join(', ')}`);
    await core.runHooks('appStart', { hookData: core.appHookData, functionAppDirectory: appDir });
    core.startupFinished = true;
    const capabilities = (await core.programmingModel?.getCapabilities?.({})) ?? {};
    if (capabilities['HttpUri']) {
      throw new Error(
        'The app enabled HTTP streaming (app.setup({ enableHttpStream: true })), which the local host does not support.',
      );
    }
  } catch (err) {
    restoreRequire();
    active = false;
    throw err;
  }

  const invoker = new Invoker(core, logger);
  const invoke = (fn: RegisteredFunction, input: Parameters<Invoker['invoke']>[1]) =>
    invoker.invoke(fn, input);
  const routePrefix = readRoutePrefix(appDir);
  const summaries: FunctionSummary[] = [];

  const httpFunctions = core.byTrigger('httpTrigger');
  let httpRoutes: HttpRoute[];
  try {
    httpRoutes = buildHttpRoutes(httpFunctions);
  } catch (err) {
    restoreRequire();
    active = false;
    throw err;
  }
  // As in Azure, every function-level HTTP function has a `default` function key of its own.
  const keys = loadOrCreateKeys(path.join(options.stateDir, 'keys.json'), options.keyOverrides, {
    functions: httpRoutes.filter((r) => r.authLevel === 'function').map((r) => r.fn.name),
    shared: (options.sharedFunctionKeys ?? []).map((shared) => ({
      name: shared.name,
      functions: shared.functions.filter((fn) => httpFunctions.some((f) => f.name === fn)),
    })),
  });
  logger.addSecrets?.([
    keys.masterKey,
    ...Object.values(keys.functionKeys),
    ...Object.values(keys.systemKeys),
    ...Object.values(keys.functions).flatMap((byName) => Object.values(byName)),
  ]);
  for (const route of httpRoutes) {
    summaries.push({
      name: route.fn.name,
      trigger: 'httpTrigger',
      route: `/${[routePrefix, route.route.template.replace(/^\/+/, '')].filter(Boolean).join('/')}`,
      methods: [...route.methods],
      authLevel: route.authLevel,
    });
  }

  const timers: TimerRunner[] = [];
  for (const fn of core.byTrigger('timerTrigger')) {
    const raw = String(fn.trigger['schedule'] ?? '');
    try {
      const expression = resolveSettingReferences(raw, settings);
      const schedule = parseTimerSchedule(expression, settings['WEBSITE_TIME_ZONE'] || 'UTC');
      const useMonitor =
        typeof fn.trigger['useMonitor'] === 'boolean'
          ? fn.trigger['useMonitor']
          : schedule.intervalMs() >= 60_000;
      timers.push(
        new TimerRunner({
          fn,
          schedule,
          statusFile: path.join(options.stateDir, 'timers', `${fn.name}.json`),
          useMonitor,
          runOnStartup: fn.trigger['runOnStartup'] === true,
          invoke,
          logger,
        }),
      );
      summaries.push({ name: fn.name, trigger: 'timerTrigger', schedule: expression });
    } catch (err) {
      // As in the runtime: this function is in error, the others still run.
      const message = (err as Error).message;
      logger.system(`The '${fn.name}' function is in error: ${message}`, 'error');
      summaries.push({ name: fn.name, trigger: 'timerTrigger', schedule: raw, error: message });
    }
  }
  for (const fn of core.byTrigger('eventGridTrigger')) {
    summaries.push({
      name: fn.name,
      trigger: 'eventGridTrigger',
      route: `${EVENTGRID_WEBHOOK_PATH}?functionName=${fn.name}`,
    });
  }
  const known = new Set(summaries.map((s) => s.name));
  for (const fn of core.functions.values()) {
    if (known.has(fn.name)) continue;
    const message = `trigger type '${fn.trigger.type}' is not supported by the local host`;
    logger.system(`The '${fn.name}' function is in error: ${message}`, 'warning');
    summaries.push({ name: fn.name, trigger: fn.trigger.type, error: message });
  }

  let stopping = false;

  const adminInvoke = async (name: string, body: Buffer): Promise<WebhookReply> => {
    const fn = core.find(name);
    if (!fn) return { status: 404 };
    let input: unknown;
    try {
      input = body.length ? (JSON.parse(body.toString('utf8')) as { input?: unknown }).input : undefined;
    } catch {
      return { status: 400, body: 'The body must be JSON: { "input": "..." }.' };
    }
    const type = fn.trigger.type.toLowerCase();
    if (type === 'timertrigger') {
      const runner = timers.find((t) => t.name === fn.name);
      if (!runner) return { status: 400, body: `Function '${fn.name}' is in error and cannot run.` };
      const now = new Date();
      const started = runner.fire(now, {
        isPastDue: false,
        reason: `Manually triggered at ${now.toISOString()}`,
      });
      return started === 'started'
        ? { status: 202 }
        : { status: 409, body: 'A run of this timer is in progress.' };
    }
    if (type === 'eventgridtrigger') {
      let event: unknown = input;
      if (typeof input === 'string') {
        try {
          event = JSON.parse(input);
        } catch {
          return { status: 400, body: 'input must be an event (JSON).' };
        }
      }
      void invoke(fn, {
        inputData: [{ name: fn.trigger.name, data: { json: JSON.stringify(event ?? {}) } }],
        reason: 'Manually triggered',
      });
      return { status: 202 };
    }
    return { status: 400, body: `Function '${fn.name}' has a ${fn.trigger.type}; call its route instead.` };
  };

  /**
   * What a request is, decided from its method, path and key alone: the body is read only once the key opened
   * the route (a caller without a key never makes the host hold its body).
   */
  type Target =
    | { kind: 'reply'; reply: WebhookReply }
    | { kind: 'webhook' }
    | { kind: 'adminInvoke'; name: string }
    | { kind: 'http'; route: HttpRoute; params: Record<string, string> };
  const target = (method: string, pathname: string, key: string | undefined): Target => {
    const lower = pathname.toLowerCase();
    const reply = (r: WebhookReply): Target => ({ kind: 'reply', reply: r });
    if (lower === EVENTGRID_WEBHOOK_PATH)
      return systemKeyAllows(EVENTGRID_SYSTEM_KEY, key, keys) ? { kind: 'webhook' } : reply({ status: 401 });
    if (lower === '/admin/host/ping') return reply({ status: 200 });
    if (lower === '/' && method === 'GET')
      return reply({ status: 200, body: 'The local Azure Functions host is running.' });
    if (lower.startsWith('/admin/')) {
      if (!keyAllows('admin', key, keys)) return reply({ status: 401 });
      if (lower === '/admin/host/status')
        return reply({
          status: 200,
          body: { state: 'Running', processId: process.pid, functions: summaries },
        });
      if (lower === '/admin/functions' && method === 'GET') return reply({ status: 200, body: summaries });
      const m = /^\/admin\/functions\/([^/]+)$/i.exec(pathname);
      if (m && method === 'POST') return { kind: 'adminInvoke', name: decodeURIComponent(m[1]!) };
      return reply({ status: 404 });
    }
    const prefix = routePrefix ? `/${routePrefix.toLowerCase()}` : '';
    if (lower === prefix || lower.startsWith(`${prefix}/`)) {
      const found = findHttpRoute(httpRoutes, method, pathname.slice(prefix.length));
      if (found.kind === 'match')
        return keyAllows(found.route.authLevel, key, keys, found.route.fn.name)
          ? { kind: 'http', route: found.route, params: found.params }
          : reply({ status: 401 });
      // The Functions host's router answers 404 when only the method differs.
      if (found.kind === 'methodNotAllowed')
        return reply({ status: 404, body: `This route accepts ${found.allowed.join(', ')}.` });
    }
    return reply({ status: 404 });
  };

  /**
   * An answer sent before the body was read (or once it passed the limit). What is left of the body is read and
   * dropped, never kept, for at most UNREAD_LINGER_MS, then the connection is closed: closing at once, with the
   * caller's bytes still arriving, makes TCP reset the connection and the caller lose the answer.
   */
  const replyUnread = (req: http.IncomingMessage, res: http.ServerResponse, reply: WebhookReply) => {
    sendReply(res, reply);
    if (req.complete) return;
    const timer = setTimeout(() => req.socket.destroy(), UNREAD_LINGER_MS).unref();
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
    req.resume();
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? `${hostname}:${port}`}`);
    const method = (req.method ?? 'GET').toUpperCase();
    if (stopping) {
      sendReply(res, { status: 503, headers: { connection: 'close' }, body: 'The host is shutting down.' });
      return;
    }
    const key = presentedKey(req.headers, url.searchParams);
    const t = target(method, url.pathname, key);
    if (t.kind === 'reply') {
      replyUnread(req, res, t.reply);
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, t.kind === 'webhook' ? EVENTGRID_MAX_BODY_BYTES : maxBody);
    } catch (err) {
      if (err instanceof BodyTooLargeError) replyUnread(req, res, { status: 413, body: `${err.message}.` });
      else res.destroy();
      return;
    }
    if (t.kind === 'webhook') {
      sendReply(
        res,
        await handleEventGridWebhook(
          { method, headers: req.headers, query: url.searchParams, body },
          { core, keys, logger, invoke },
        ),
      );
      return;
    }
    if (t.kind === 'adminInvoke') {
      sendReply(res, await adminInvoke(t.name, body));
      return;
    }
    const outcome = await invoke(t.route.fn, {
      inputData: [
        {
          name: t.route.fn.trigger.name,
          data: {
            http: toRpcHttpRequest({ method, url: url.href, headers: req.headers, params: t.params, body }),
          },
        },
      ],
      reason: `This function was programmatically called via the host APIs.`,
    });
    if (!outcome.ok) {
      sendReply(res, { status: 500 });
      return;
    }
    const reply = fromRpcHttpResponse(outcome.response);
    for (const [name, value] of reply.headers) res.appendHeader(name, value);
    if (!res.hasHeader('content-length')) res.setHeader('content-length', String(reply.body.length));
    res.writeHead(reply.status);
    res.end(method === 'HEAD' ? undefined : reply.body);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.system(
        `Request ${req.method} ${req.url} failed: ${(err as Error).stack ?? String(err)}`,
        'error',
      );
      if (!res.headersSent) sendReply(res, { status: 500 });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  let port = options.port;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, hostname, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    restoreRequire();
    active = false;
    throw err;
  }
  port = (server.address() as AddressInfo).port;
  const baseUrl = `http://${hostname}:${port}`;
  for (const timer of timers) timer.start();
  for (const s of summaries) {
    const where = s.route
      ? s.trigger === 'httpTrigger'
        ? `[${s.methods?.join(',')}] ${baseUrl}${s.route}`
        : `${baseUrl}${s.route}`
      : s.schedule;
    logger.system(
      `  ${s.name}: ${s.trigger}${where ? ` ${where}` : ''}${s.error ? ` (in error: ${s.error})` : ''}`,
    );
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      stopping = true;
      for (const timer of timers) timer.stop();
      server.close();
      server.closeIdleConnections();
      const drained = await invoker.drain(graceMs);
      if (!drained) {
        logger.system(
          `Abandoning ${invoker.inFlightCount} running invocation(s) after ${graceMs} ms.`,
          'warning',
        );
      }
      try {
        await core.runHooks('appTerminate', { hookData: core.appHookData });
      } catch (err) {
        logger.system(`An appTerminate hook failed: ${(err as Error).message}`, 'warning');
      }
      server.closeAllConnections();
      restoreRequire();
      active = false;
    })());

  return { url: baseUrl, port, keys, functions: summaries, timers, close };
}
