/**
 * The emulator: one HTTPS server speaking the REST contracts the Azure SDKs use (ARM container groups and
 * registries, Key Vault secrets, Event Grid), a managed-identity endpoint and a control API under /_emulator/.
 * Configuration is resolved once here and handed to every service (Azurite's Environment → Configuration →
 * server pattern).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { issueServerCertificate } from './core/ca.js';
import {
  DEFAULT_SUBSCRIPTION_ID,
  DEFAULT_TENANT_ID,
  EmulatorBus,
  type EmulatorContext,
  type EmulatorOptions,
  type EmulatorService,
} from './core/context.js';
import { EmulatorHttpError, errorResponse, keyVaultError, armError } from './core/errors.js';
import { FaultRegistry, type Fault } from './core/faults.js';
import { RequestLog } from './core/requestLog.js';
import {
  compileRoute,
  matchRoute,
  type CompiledRoute,
  type EmuRequest,
  type EmuResponse,
  type HostKind,
} from './core/router.js';
import { StateStore } from './core/stateStore.js';
import { AUDIENCES, TokenService } from './core/tokens.js';
import { controlService } from './control/controlService.js';
import { identityService } from './identity/identityService.js';
import { vaultUrl } from './keyVault/vaultAddress.js';
import { resourceManagerService } from './resourceManager/resourceManagerService.js';
import { SERVICE_FACTORIES } from './services.js';

export interface StartOptions extends Partial<Omit<EmulatorOptions, 'pageSize' | 'timings'>> {
  pageSize?: Partial<EmulatorOptions['pageSize']>;
  timings?: Partial<EmulatorOptions['timings']>;
  /** Wipe persisted state before starting. */
  reset?: boolean;
}

export interface EmulatorHandle {
  url: string;
  port: number;
  /** The emulator's part of `.local/stack.json`. */
  stack: Record<string, unknown>;
  options: EmulatorOptions;
  close(): Promise<void>;
}

export function resolveOptions(input: StartOptions = {}): EmulatorOptions {
  const stateDir = path.resolve(input.stateDir ?? '.local/emulator');
  return {
    port: input.port ?? 7443,
    stateDir,
    caDir: path.resolve(input.caDir ?? path.join(stateDir, '..', 'ca')),
    subscriptionId: input.subscriptionId ?? DEFAULT_SUBSCRIPTION_ID,
    tenantId: input.tenantId ?? DEFAULT_TENANT_ID,
    identityHeader: input.identityHeader ?? '',
    pageSize: { containerGroups: 100, secrets: 25, registries: 100, ...input.pageSize },
    timings: {
      provisioningStepMs: 1500,
      lroRetryAfterSeconds: 1,
      eventGridRetryScheduleMs: [10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000],
      eventGridDeliveryTimeoutMs: 30_000,
      ...input.timings,
    },
    quiet: input.quiet ?? false,
  };
}

const ARM_AUDIENCES = new Set<string>(AUDIENCES.arm);
const VAULT_AUDIENCES = new Set<string>(AUDIENCES.keyvault);
const EVENTGRID_AUDIENCES = new Set<string>(AUDIENCES.eventgrid);

function hostKind(hostHeader: string | undefined): {
  kind: HostKind;
  vaultName?: string;
  registryName?: string;
} {
  const hostname = (hostHeader ?? '').replace(/:\d+$/, '').toLowerCase();
  const m = /^([a-z0-9-]+)\.vault\.localhost$/.exec(hostname);
  if (m) return { kind: 'vault', vaultName: m[1]! };
  // A registry's data plane (its login server in Azure), e.g. contoso.azurecr.localhost.
  const r = /^([a-z0-9]+)\.azurecr\.localhost$/.exec(hostname);
  return r ? { kind: 'registry', registryName: r[1]! } : { kind: 'arm' };
}

function readBody(req: import('node:http').IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startEmulator(input: StartOptions = {}): Promise<EmulatorHandle> {
  const options = resolveOptions(input);
  const state = new StateStore(options.stateDir);
  if (input.reset) state.reset();
  const core = state.slice('core', () => ({
    identityHeader: crypto.randomUUID(),
  }));
  if (!options.identityHeader) options.identityHeader = core.identityHeader;
  state.changed();

  const tls = issueServerCertificate(options.caDir);
  const requestLog = new RequestLog();
  const faults = new FaultRegistry();
  const bus = new EmulatorBus();
  const log = (message: string) => {
    if (!options.quiet) console.log(`[emulator] ${message}`);
  };

  const ctx: EmulatorContext = {
    options,
    url: '',
    port: 0,
    state,
    tokens: new TokenService(ensureSigningKey(options.caDir), options.tenantId),
    bus,
    log,
    vaultUrl: (name) => vaultUrl(name, ctx.port),
  };

  const services: EmulatorService[] = [identityService(ctx), ...SERVICE_FACTORIES.map((make) => make(ctx))];
  // Resource groups exist while any service's resources live in them, so Resource Manager asks the others.
  services.push(resourceManagerService(ctx, () => services.flatMap((s) => s.resourceGroups?.() ?? [])));
  const describe = (): Record<string, unknown> => {
    const stack: Record<string, unknown> = {
      emulatorUrl: ctx.url,
      armEndpoint: ctx.url,
      subscriptionId: options.subscriptionId,
      tenantId: options.tenantId,
      caCertPath: tls.caCertPath,
      stateDir: options.stateDir,
      keyVaultUrl: ctx.vaultUrl('kv-apps'),
      keyVaultUrlTemplate: vaultUrl('{vault}', ctx.port),
    };
    for (const s of services) Object.assign(stack, s.describe?.() ?? {});
    return stack;
  };
  const resetAll = async () => {
    state.reset();
    for (const s of services) await s.reset?.();
  };
  services.push(controlService(ctx, { requestLog, faults, resetAll, describe }));
  const routes: CompiledRoute[] = services.flatMap((s) => s.routes.map(compileRoute));

  const authenticate = (route: CompiledRoute, req: EmuRequest): void => {
    if (route.auth === 'none') return;
    const header = String(req.headers['authorization'] ?? '');
    const token = /^Bearer\s+(.+)$/i.exec(header)?.[1];
    if (route.auth === 'keyvault') {
      // Key Vault's challenge, sent with every 401: the SDK's first request carries no token and learns where
      // to get one; a client holding a bad token can start over.
      const challenge = `Bearer authorization="https://login.windows.net/${options.tenantId}", resource="https://vault.localhost"`;
      const rejected = (message: string) =>
        new EmulatorHttpError(401, 'Unauthorized', message, 'keyvault', { 'www-authenticate': challenge });
      if (!token) throw rejected('AKV10000: Request is missing a Bearer or PoP token.');
      const verified = ctx.tokens.verify(token);
      if (!verified.ok) throw rejected(`AKV10022: Invalid token: ${verified.reason}`);
      if (!VAULT_AUDIENCES.has(verified.claims.aud)) {
        throw rejected(
          `AKV10022: Invalid audience. Expected https://vault.localhost, found: ${verified.claims.aud}.`,
        );
      }
      req.caller = { oid: verified.claims.oid, audience: verified.claims.aud };
      return;
    }
    const allowed = route.auth === 'arm' ? ARM_AUDIENCES : EVENTGRID_AUDIENCES;
    if (!token) {
      throw new EmulatorHttpError(
        401,
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is missing.",
        'arm',
        {
          'www-authenticate': `Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`,
        },
      );
    }
    const verified = ctx.tokens.verify(token);
    if (!verified.ok)
      throw armError(401, 'InvalidAuthenticationToken', `The access token is invalid. ${verified.reason}`);
    if (!allowed.has(verified.claims.aud)) {
      throw armError(
        401,
        'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for wrong audience or resource '${verified.claims.aud}'. It should exactly match with one of the allowed audiences ${[...allowed].map((a) => `'${a}/'`).join(',')}.`,
      );
    }
    req.caller = { oid: verified.claims.oid, audience: verified.claims.aud };
  };

  const checkApiVersion = (route: CompiledRoute, req: EmuRequest): void => {
    if (!route.apiVersions) return;
    const version = req.query.get('api-version');
    if (route.auth === 'keyvault') {
      if (!version) throw keyVaultError(400, 'BadParameter', 'The api-version query parameter is missing.');
      if (!route.apiVersions.includes(version)) {
        throw keyVaultError(
          400,
          'BadParameter',
          `The specified version (${version}) is not recognized. Consider using the latest supported version (${route.apiVersions.at(-1)}).`,
        );
      }
      return;
    }
    if (!version) {
      throw armError(
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      );
    }
    if (!route.apiVersions.includes(version)) {
      const type = /providers\/([^/]+\/[^/]+)/i.exec(req.path)?.[1] ?? 'resource';
      throw armError(
        400,
        'NoRegisteredProviderFound',
        `No registered resource provider found for location 'westeurope' and API version '${version}' for type '${type.split('/')[1] ?? type}'. The supported api-versions are '${route.apiVersions.join(', ')}'.`,
      );
    }
  };

  const applyFaults = async (
    fired: Fault[],
    route: CompiledRoute,
    res: import('node:http').ServerResponse,
  ): Promise<EmuResponse | 'hang' | undefined> => {
    for (const f of fired.filter((x) => x.kind === 'latency')) await sleep(f.latencyMs ?? 1000);
    const timeout = fired.find((f) => f.kind === 'timeout');
    if (timeout) {
      // Never answer; drop the socket after a long while so nothing leaks.
      setTimeout(() => res.destroy(), timeout.latencyMs ?? 120_000).unref();
      return 'hang';
    }
    const throttle = fired.find((f) => f.kind === 'throttle');
    if (throttle) {
      const headers: Record<string, string> = {};
      if (throttle.retryAfterSeconds !== undefined)
        headers['retry-after'] = String(throttle.retryAfterSeconds);
      const err =
        route.host === 'registry'
          ? new EmulatorHttpError(429, 'TOOMANYREQUESTS', 'too many requests', 'registry', headers)
          : route.auth === 'keyvault'
            ? new EmulatorHttpError(
                429,
                'Throttled',
                'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached',
                'keyvault',
                headers,
              )
            : new EmulatorHttpError(
                429,
                'TooManyRequests',
                'The request is being throttled as the limit has been reached for operation type.',
                'arm',
                headers,
              );
      return errorResponse(err, 'fault');
    }
    const error = fired.find((f) => f.kind === 'error');
    if (error) {
      const status = error.status ?? 500;
      const code = error.code ?? (status === 503 ? 'ServiceUnavailable' : 'InternalServerError');
      return errorResponse(
        new EmulatorHttpError(
          status,
          code,
          `Injected fault: ${code}.`,
          route.host === 'registry' ? 'registry' : route.auth === 'keyvault' ? 'keyvault' : 'arm',
        ),
        'fault',
      );
    }
    return undefined;
  };

  const send = (res: import('node:http').ServerResponse, response: EmuResponse, requestId: string) => {
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
  };

  const server = https.createServer({ key: tls.keyPem, cert: tls.certPem }, async (req, res) => {
    const started = Date.now();
    const requestId = crypto.randomUUID();
    const url = new URL(req.url ?? '/', `https://${req.headers.host ?? '127.0.0.1'}`);
    const { kind, vaultName, registryName } = hostKind(req.headers.host);
    let operation = 'Unmatched';
    let status = 500;
    let faultNote: string | undefined;
    try {
      const rawBody = await readBody(req);
      let body: unknown;
      if (rawBody.length > 0) {
        try {
          body = JSON.parse(rawBody.toString('utf8'));
        } catch {
          body = undefined;
        }
      }
      const method = (req.method ?? 'GET').toUpperCase();
      const matched = matchRoute(routes, method, url.pathname, kind);
      let response: EmuResponse | 'hang';
      if (!matched) {
        response = errorResponse(
          kind === 'vault'
            ? keyVaultError(404, 'NotFound', `No route for ${method} ${url.pathname}.`)
            : kind === 'registry'
              ? new EmulatorHttpError(
                  404,
                  'NAME_UNKNOWN',
                  `No route for ${method} ${url.pathname}.`,
                  'registry',
                )
              : armError(404, 'NotFound', `The emulator has no resource at ${method} ${url.pathname}.`),
          requestId,
        );
      } else if ('methodNotAllowed' in matched) {
        response = errorResponse(
          armError(
            405,
            'MethodNotAllowed',
            `The requested resource does not support http method '${method}'.`,
          ),
          requestId,
        );
      } else {
        const { route, params } = matched;
        operation = route.operation;
        const emuReq: EmuRequest = {
          method,
          url,
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          params,
          rawBody,
          body,
          requestId,
        };
        if (vaultName) emuReq.vaultName = vaultName;
        if (registryName) emuReq.registryName = registryName;
        // Registry data-plane routes authenticate themselves (ACR's own tokens), but faults may hit them.
        const serviceKind =
          route.host === 'registry' ? 'registry' : route.auth === 'none' ? 'control' : route.auth;
        try {
          authenticate(route, emuReq);
          checkApiVersion(route, emuReq);
          // Faults hit only calls that would reach the service, so Key Vault's unauthenticated challenge round
          // trip does not use one up.
          const fired =
            serviceKind === 'control'
              ? []
              : faults.pick({ operation, method, path: url.pathname, service: serviceKind });
          if (fired.length) faultNote = fired.map((f) => f.kind).join(',');
          response = (await applyFaults(fired, route, res)) ?? (await route.handler(emuReq));
        } catch (err) {
          if (err instanceof EmulatorHttpError) response = errorResponse(err, requestId);
          else {
            log(`error in ${operation}: ${(err as Error).stack ?? String(err)}`);
            response = errorResponse(
              armError(500, 'InternalServerError', `Emulator error: ${(err as Error).message}`),
              requestId,
            );
          }
        }
      }
      if (response === 'hang') {
        status = 0;
        return;
      }
      status = response.status;
      send(res, response, requestId);
    } catch (err) {
      log(`request failed: ${(err as Error).message}`);
      if (!res.headersSent)
        send(
          res,
          { status: 500, body: { error: { code: 'InternalServerError', message: 'Emulator error.' } } },
          requestId,
        );
    } finally {
      requestLog.record({
        at: new Date(started).toISOString(),
        method: req.method ?? 'GET',
        path: url.pathname,
        host: req.headers.host ?? '',
        operation,
        status,
        durationMs: Date.now() - started,
        ...(faultNote ? { fault: faultNote } : {}),
      });
    }
  });
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  ctx.port = (server.address() as AddressInfo).port;
  ctx.url = `https://127.0.0.1:${ctx.port}`;
  for (const s of services) await s.start?.();
  log(`listening on ${ctx.url}`);

  let closed = false;
  return {
    url: ctx.url,
    port: ctx.port,
    options,
    stack: describe(),
    async close() {
      if (closed) return;
      closed = true;
      for (const s of [...services].reverse()) await s.stop?.();
      state.flush();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The token-signing key lives beside the CA, not in one emulator's state: like Entra ID, one issuer serves every
 * emulator on the machine, so a token cached by a client (the identity SDK caches per process) stays valid when
 * a test talks to a second emulator instance.
 */
function ensureSigningKey(caDir: string): Buffer {
  const file = path.join(caDir, 'token-signing.key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(caDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, crypto.randomBytes(32).toString('base64'), { mode: 0o600 });
    try {
      // link() publishes the complete file atomically and fails if another process got there first.
      fs.linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
}
