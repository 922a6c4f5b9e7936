/**
 * The emulator: one HTTPS server speaking the REST contracts the Azure SDKs use (ARM container groups and
 * registries, Key Vault secrets, Event Grid, Private DNS zones), a managed-identity endpoint and a control API under
 * /_emulator/; plus a DNS server for the emulated Private DNS zones (privateDns/dnsServer.ts).
 * Built as Azurite builds its servers: configuration resolved once (resolveOptions) → the context every service
 * shares → the services → the HTTPS server, whose requests go through pipeline/requestHandler.ts.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { redactSecrets } from '../../src/adapters/logRedaction.js';
import { issueServerCertificate } from './core/ca.js';
import {
  DEFAULT_SUBSCRIPTION_ID,
  DEFAULT_TENANT_ID,
  EmulatorBus,
  type EmulatorContext,
  type EmulatorOptions,
  type EmulatorService,
} from './core/context.js';
import { FaultRegistry } from './core/faults.js';
import { RequestLog } from './core/requestLog.js';
import { compileRoute } from './core/router.js';
import { StateStore } from './core/stateStore.js';
import { TokenService } from './core/tokens.js';
import { controlService } from './control/controlService.js';
import { identityService } from './identity/identityService.js';
import { vaultUrl } from './keyVault/vaultAddress.js';
import { RequestHandler } from './pipeline/requestHandler.js';
import { resourceManagerService } from './resourceManager/resourceManagerService.js';
import { SERVICE_FACTORIES } from './services.js';

export interface StartOptions extends Partial<Omit<EmulatorOptions, 'pageSize' | 'timings'>> {
  pageSize?: Partial<EmulatorOptions['pageSize']>;
  timings?: Partial<EmulatorOptions['timings']>;
  /** Wipe persisted state before starting. */
  reset?: boolean;
  /**
   * How long a change may wait before the state file is written (default 50 ms). Each write serialises the whole
   * state, so a benchmark seeding tens of thousands of groups sets this high (bench/lib/emulatorProcess.ts).
   */
  stateFlushDelayMs?: number;
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
    pageSize: {
      containerGroups: 100,
      secrets: 25,
      registries: 100,
      privateDns: 100,
      tags: 100,
      ...input.pageSize,
    },
    dnsPort: input.dnsPort ?? 0,
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

/** The context every service shares: options, state, token issuer, bus, log; url and port once listening. */
function createContext(options: EmulatorOptions, state: StateStore): EmulatorContext {
  const ctx: EmulatorContext = {
    options,
    url: '',
    port: 0,
    state,
    tokens: new TokenService(ensureSigningKey(options.caDir), options.tenantId),
    bus: new EmulatorBus(),
    // The app's redaction (one for every logger): a webhook URL carries the function's `code=` key.
    log: (message: string) => {
      if (!options.quiet) console.log(redactSecrets(`[emulator] ${message}`, [options.identityHeader]));
    },
    vaultUrl: (name) => vaultUrl(name, ctx.port),
  };
  return ctx;
}

interface ServiceSet {
  services: EmulatorService[];
  /** The emulator's part of `.local/stack.json`. */
  describe(): Record<string, unknown>;
}

/** Every service, Resource Manager and the control API last (they ask the others). */
function buildServices(
  ctx: EmulatorContext,
  caCertPath: string,
  requestLog: RequestLog,
  faults: FaultRegistry,
): ServiceSet {
  const { options, state } = ctx;
  const services: EmulatorService[] = [identityService(ctx), ...SERVICE_FACTORIES.map((make) => make(ctx))];
  // Resource groups exist while any service's resources live in them, so Resource Manager asks the others.
  services.push(resourceManagerService(ctx, () => services.flatMap((s) => s.resourceGroups?.() ?? [])));
  const describe = (): Record<string, unknown> => {
    const stack: Record<string, unknown> = {
      emulatorUrl: ctx.url,
      armEndpoint: ctx.url,
      subscriptionId: options.subscriptionId,
      tenantId: options.tenantId,
      caCertPath,
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
  return { services, describe };
}

export async function startEmulator(input: StartOptions = {}): Promise<EmulatorHandle> {
  const options = resolveOptions(input);
  const state = new StateStore(options.stateDir, input.stateFlushDelayMs);
  if (input.reset) state.reset();
  const core = state.slice('core', () => ({
    identityHeader: crypto.randomUUID(),
  }));
  if (!options.identityHeader) options.identityHeader = core.identityHeader;
  state.changed();

  const tls = issueServerCertificate(options.caDir);
  const requestLog = new RequestLog();
  const faults = new FaultRegistry();
  const ctx = createContext(options, state);
  const { services, describe } = buildServices(ctx, tls.caCertPath, requestLog, faults);
  const handler = new RequestHandler(
    ctx,
    services.flatMap((s) => s.routes.map(compileRoute)),
    faults,
    requestLog,
  );
  const server = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    void handler.handle(req, res);
  });
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  ctx.port = (server.address() as AddressInfo).port;
  ctx.url = `https://127.0.0.1:${ctx.port}`;
  for (const s of services) await s.start?.();
  ctx.log(`listening on ${ctx.url}`);

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
