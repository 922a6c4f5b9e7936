/**
 * One HTTPS request through the emulator: which host it is for (ARM, a vault, a registry's data plane), which
 * route answers, then authentication, api-version check, injected faults and the handler; errors become the
 * service's error body; every request is logged. The order matters: faults hit only calls that would reach the
 * service, so Key Vault's unauthenticated challenge round trip does not use one up.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import { armErrors } from '../core/armErrors.js';
import type { EmulatorContext } from '../core/context.js';
import { EmulatorHttpError, errorResponse } from '../core/errors.js';
import type { FaultRegistry } from '../core/faults.js';
import type { RequestLog } from '../core/requestLog.js';
import {
  matchRoute,
  type CompiledRoute,
  type EmuRequest,
  type EmuResponse,
  type HostKind,
} from '../core/router.js';
import { dataPlaneErrors } from '../containerRegistry/dataPlaneErrors.js';
import { keyVaultErrors } from '../keyVault/keyVaultErrors.js';
import { checkApiVersion } from './apiVersionCheck.js';
import { authenticate } from './authentication.js';
import { applyFaults } from './faultResponses.js';

interface HostTarget {
  kind: HostKind;
  vaultName?: string;
  registryName?: string;
}

/** What the request log records besides method, path and timing. */
interface Outcome {
  operation: string;
  status: number;
  fault?: string;
}

function hostKind(hostHeader: string | undefined): HostTarget {
  const hostname = (hostHeader ?? '').replace(/:\d+$/, '').toLowerCase();
  const m = /^([a-z0-9-]+)\.vault\.localhost$/.exec(hostname);
  if (m) return { kind: 'vault', vaultName: m[1]! };
  // A registry's data plane (its login server in Azure), e.g. contoso.azurecr.localhost.
  const r = /^([a-z0-9]+)\.azurecr\.localhost$/.exec(hostname);
  return r ? { kind: 'registry', registryName: r[1]! } : { kind: 'arm' };
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

function send(res: http.ServerResponse, response: EmuResponse, requestId: string): void {
  const headers: Record<string, string> = { 'x-ms-request-id': requestId, ...response.headers };
  let payload: Buffer | undefined;
  if (response.body !== undefined) {
    if (Buffer.isBuffer(response.body)) payload = response.body;
    else if (typeof response.body === 'string') payload = Buffer.from(response.body);
    else {
      payload = Buffer.from(JSON.stringify(response.body));
      headers['content-type'] ??= 'application/json; charset=utf-8';
    }
    headers['content-length'] = String(payload.length);
  } else if (response.status !== 204 && response.status !== 304) {
    headers['content-length'] = '0';
  }
  res.writeHead(response.status, headers);
  res.end(payload);
}

export class RequestHandler {
  constructor(
    private readonly ctx: EmulatorContext,
    private readonly routes: CompiledRoute[],
    private readonly faults: FaultRegistry,
    private readonly requestLog: RequestLog,
  ) {}

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = Date.now();
    const requestId = crypto.randomUUID();
    const url = new URL(req.url ?? '/', `https://${req.headers.host ?? '127.0.0.1'}`);
    const outcome: Outcome = { operation: 'Unmatched', status: 500 };
    try {
      const response = await this.respond(req, res, url, requestId, outcome);
      if (response === 'hang') {
        outcome.status = 0;
        return;
      }
      outcome.status = response.status;
      send(res, response, requestId);
    } catch (err) {
      this.ctx.log(`request failed: ${(err as Error).message}`);
      if (!res.headersSent)
        send(
          res,
          { status: 500, body: { error: { code: 'InternalServerError', message: 'Emulator error.' } } },
          requestId,
        );
    } finally {
      this.requestLog.record({
        at: new Date(started).toISOString(),
        method: req.method ?? 'GET',
        path: url.pathname,
        host: req.headers.host ?? '',
        operation: outcome.operation,
        status: outcome.status,
        durationMs: Date.now() - started,
        ...(outcome.fault ? { fault: outcome.fault } : {}),
      });
    }
  }

  /** Finds the route and runs it; an unmatched path gets the host's own "not found". */
  private async respond(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    requestId: string,
    outcome: Outcome,
  ): Promise<EmuResponse | 'hang'> {
    const rawBody = await readBody(req);
    const target = hostKind(req.headers.host);
    const method = (req.method ?? 'GET').toUpperCase();
    const matched = matchRoute(this.routes, method, url.pathname, target.kind);
    if (!matched) {
      const err =
        target.kind === 'vault'
          ? keyVaultErrors.noRoute(method, url.pathname)
          : target.kind === 'registry'
            ? dataPlaneErrors.noRoute(method, url.pathname)
            : armErrors.noRoute(method, url.pathname);
      return errorResponse(err, requestId);
    }
    if ('methodNotAllowed' in matched) return errorResponse(armErrors.methodNotAllowed(method), requestId);
    const { route, params } = matched;
    outcome.operation = route.operation;
    const emuReq: EmuRequest = {
      method,
      url,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      params,
      rawBody,
      body: parseJson(rawBody),
      requestId,
    };
    if (target.vaultName) emuReq.vaultName = target.vaultName;
    if (target.registryName) emuReq.registryName = target.registryName;
    return this.dispatch(route, emuReq, res, outcome);
  }

  private async dispatch(
    route: CompiledRoute,
    emuReq: EmuRequest,
    res: http.ServerResponse,
    outcome: Outcome,
  ): Promise<EmuResponse | 'hang'> {
    // Registry data-plane routes authenticate themselves (ACR's own tokens), but faults may hit them.
    const serviceKind =
      route.host === 'registry' ? 'registry' : route.auth === 'none' ? 'control' : route.auth;
    try {
      authenticate(this.ctx, route, emuReq);
      checkApiVersion(route, emuReq);
      const fired =
        serviceKind === 'control'
          ? []
          : this.faults.pick({
              operation: outcome.operation,
              method: emuReq.method,
              path: emuReq.path,
              service: serviceKind,
            });
      if (fired.length) outcome.fault = fired.map((f) => f.kind).join(',');
      return (await applyFaults(fired, route, res)) ?? (await route.handler(emuReq));
    } catch (err) {
      if (err instanceof EmulatorHttpError) return errorResponse(err, emuReq.requestId);
      this.ctx.log(`error in ${outcome.operation}: ${(err as Error).stack ?? String(err)}`);
      return errorResponse(armErrors.internalServerError((err as Error).message), emuReq.requestId);
    }
  }
}
