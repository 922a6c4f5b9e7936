/**
 * The pieces of the local stack, shared by `npm start` (scripts/start.ts) and the integration-test helper
 * (test/integration/support/stack.ts): Azurite, the emulator CLI and the functions host as child processes, the
 * Event Grid subscription of the host's webhook, and the sample data the sample configuration expects.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { requestJson } from './httpsJson.js';
import {
  azuriteConnectionString,
  localStackAppSettings,
  SAMPLE_DB_PASSWORD_SECRET,
  SAMPLE_LEGACY_GROUP,
  sampleAppsConfig,
} from './sampleConfig.js';
import { readyLine, startService, type Service } from './services.js';

type LineSink = (service: string, line: string, stream: 'stdout' | 'stderr') => void;

function sink(name: string, onLine: LineSink | undefined) {
  return onLine ? (line: string, stream: 'stdout' | 'stderr') => onLine(name, line, stream) : undefined;
}

/** Runs a TypeScript entry with the tsx loader in a single node process (no wrapper, so the pid is the service). */
function tsxArgs(script: string, args: string[]): string[] {
  return ['--import', 'tsx', script, ...args];
}

// ------------------------------------------------------------------------------------------------ Azurite

export interface AzuriteOptions {
  rootDir: string;
  /** Data directory; undefined = in memory. */
  location?: string;
  blobPort?: number;
  queuePort?: number;
  tablePort?: number;
  /** Only the table service (`azurite-table`), as the app's rollout state needs. Default false. */
  tableOnly?: boolean;
  /** Print Azurite's access log (one line per request). Default false. */
  accessLog?: boolean;
  onLine?: LineSink;
}

export interface AzuriteReady {
  blobEndpoint?: string;
  queueEndpoint?: string;
  tableEndpoint: string;
  /** Service URLs without the account path. */
  urls: { blob?: string; queue?: string; table: string };
}

const account = (url: string) => `${url.replace(/\/+$/, '')}/devstoreaccount1`;

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The flags every Azurite of the local stack runs with (host/README.md and docs/local-stack.md give the same
 * command for running it by hand, and a unit test keeps them equal): newer SDK api-versions than the Azurite
 * release knows are accepted, unsupported headers ignored, no telemetry, no access log.
 */
export const AZURITE_FLAGS = ['--skipApiVersionCheck', '--loose', '--disableTelemetry'] as const;
export const AZURITE_QUIET_FLAG = '--silent';

/**
 * Azurite as a child process: blob, queue and table (default), or the table service alone (`tableOnly`). Port 0
 * (default) = any free port.
 */
export async function startAzurite(options: AzuriteOptions): Promise<Service<AzuriteReady>> {
  const common: string[] = [...AZURITE_FLAGS];
  if (!options.accessLog) common.push(AZURITE_QUIET_FLAG);
  if (options.location) {
    fs.mkdirSync(options.location, { recursive: true });
    common.push('--location', options.location);
  } else common.push('--inMemoryPersistence');
  if (options.tableOnly) return startAzuriteTable(options, common);
  // The all-in-one entry: unlike `azurite-table` it reports the port it really got when asked for port 0.
  const args = [
    path.join(options.rootDir, 'node_modules/azurite/dist/src/azurite.js'),
    ...['--blobHost', '127.0.0.1', '--blobPort', String(options.blobPort ?? 0)],
    ...['--queueHost', '127.0.0.1', '--queuePort', String(options.queuePort ?? 0)],
    ...['--tableHost', '127.0.0.1', '--tablePort', String(options.tablePort ?? 0)],
    ...common,
  ];
  if (!options.location) args.push('--extentMemoryLimit', '64');
  const expected = ['Blob', 'Queue', 'Table'];
  const seen: Record<string, string> = {};
  return startService<AzuriteReady>({
    name: 'azurite',
    command: process.execPath,
    args,
    cwd: options.rootDir,
    ready: (line) => {
      const m = /Azurite (Blob|Queue|Table) service is successfully listening at (http:\/\/\S+)/.exec(line);
      if (m) seen[m[1]!] = m[2]!;
      if (!expected.every((s) => seen[s])) return undefined;
      return {
        tableEndpoint: account(seen['Table']!),
        blobEndpoint: account(seen['Blob']!),
        queueEndpoint: account(seen['Queue']!),
        urls: { table: seen['Table']!, blob: seen['Blob']!, queue: seen['Queue']! },
      };
    },
    onLine: sink('azurite', options.onLine),
    readyTimeoutMs: 60_000,
  });
}

/**
 * `azurite-table` prints the port it was given, not the one it got: with port 0 a free port is probed first, and
 * the start retried if someone else took it meanwhile.
 */
async function startAzuriteTable(options: AzuriteOptions, common: string[]): Promise<Service<AzuriteReady>> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = options.tablePort || (await freeLoopbackPort());
    try {
      return await startService<AzuriteReady>({
        name: 'azurite',
        command: process.execPath,
        args: [
          path.join(options.rootDir, 'node_modules/azurite/dist/src/table/main.js'),
          ...['--tableHost', '127.0.0.1', '--tablePort', String(port)],
          ...common,
        ],
        cwd: options.rootDir,
        ready: (line) => {
          if (!/Azurite Table service successfully started/.test(line)) return undefined;
          const url = `http://127.0.0.1:${port}`;
          return { tableEndpoint: account(url), urls: { table: url } };
        },
        onLine: sink('azurite', options.onLine),
        readyTimeoutMs: 60_000,
      });
    } catch (err) {
      lastError = err;
      if (options.tablePort || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

// ------------------------------------------------------------------------------------------------ emulator

export interface EmulatorProcessOptions {
  rootDir: string;
  port: number;
  /** The DNS server's UDP and TCP port (default: the emulator CLI's, 7553, or any free one with port 0). */
  dnsPort?: number;
  stateDir: string;
  reset?: boolean;
  fast?: boolean;
  env?: NodeJS.ProcessEnv;
  onLine?: LineSink;
}

/** The emulator's part of stack.json, as its `EMULATOR_READY {json}` line reports it. */
export type EmulatorReady = Record<string, unknown> & {
  emulatorUrl: string;
  armEndpoint: string;
  subscriptionId: string;
  caCertPath: string;
  identityEndpoint: string;
  identityHeader: string;
  keyVaultUrlTemplate: string;
  /** `https://{registry}.azurecr.localhost:{port}`: the registries' data plane. */
  registryEndpointTemplate: string;
};

export function startEmulatorProcess(options: EmulatorProcessOptions): Promise<Service<EmulatorReady>> {
  const args = ['--port', String(options.port), '--state-dir', options.stateDir];
  if (options.dnsPort !== undefined) args.push('--dns-port', String(options.dnsPort));
  if (options.reset) args.push('--reset');
  if (options.fast) args.push('--fast');
  return startService<EmulatorReady>({
    name: 'emulator',
    command: process.execPath,
    args: tsxArgs('emulator/src/main.ts', args),
    cwd: options.rootDir,
    env: options.env ?? process.env,
    ready: readyLine<EmulatorReady>('EMULATOR_READY'),
    onLine: sink('emulator', options.onLine),
    readyTimeoutMs: 60_000,
  });
}

// ------------------------------------------------------------------------------------------------ host

export interface HostProcessOptions {
  rootDir: string;
  appDir: string;
  port: number;
  stateDir: string;
  /** Full environment of the host (app settings included). */
  env: NodeJS.ProcessEnv;
  settingsFile?: string;
  /** '' (default) = do not touch a stack.json. */
  stackFile?: string;
  onLine?: LineSink;
}

export interface HostReady {
  baseUrl: string;
  functionsBaseUrl: string;
  port: number;
  /** The host key `default`: opens every function-level route. */
  hostKey: string;
  /**
   * Function key of `status` and `dashboard` only, and of `operatorActions` only (host/src/main.ts
   * `--stack-key`); absent when the app has none of those functions (a fixture app).
   */
  functionKey?: string;
  actionsKey?: string;
  /** The Event Grid extension's system key. */
  systemKey: string;
  masterKey: string;
  pid: number;
  functions: { name: string; trigger: string; route?: string; schedule?: string; error?: string }[];
}

/** A key the host handed out (`functionKey`, `actionsKey`), or an error saying which functions it needs. */
export function handedOutKey(ready: HostReady, field: 'functionKey' | 'actionsKey'): string {
  const value = ready[field];
  if (value === undefined) {
    const needs = field === 'functionKey' ? 'a status or dashboard function' : 'an operatorActions function';
    throw new Error(`The host handed out no ${field}: the app has no ${needs}.`);
  }
  return value;
}

export function startHostProcess(options: HostProcessOptions): Promise<Service<HostReady>> {
  const args = [
    '--app-dir',
    options.appDir,
    '--port',
    String(options.port),
    '--state-dir',
    options.stateDir,
    '--stack-file',
    options.stackFile ?? '',
    '--exit-with-parent',
  ];
  if (options.settingsFile) args.push('--settings', options.settingsFile);
  return startService<HostReady>({
    name: 'host',
    command: process.execPath,
    args: tsxArgs('host/src/main.ts', args),
    cwd: options.rootDir,
    env: options.env,
    ready: readyLine<HostReady>('HOST_READY'),
    onLine: sink('host', options.onLine),
    readyTimeoutMs: 60_000,
  });
}

// ------------------------------------------------------------------------------------------------ wiring

export interface SubscriptionRequest {
  emulatorUrl: string;
  ca: string | Buffer;
  registryName: string;
  name: string;
  endpointUrl: string;
  includedEventTypes?: string[];
}

/** Creates/replaces the registry's webhook subscription; the emulator runs the validation handshake first. */
export async function subscribeWebhook(request: SubscriptionRequest): Promise<Record<string, unknown>> {
  const res = await requestJson<Record<string, unknown>>(
    `${request.emulatorUrl}/_emulator/eventgrid/subscriptions`,
    {
      method: 'POST',
      ca: request.ca,
      body: {
        registryName: request.registryName,
        name: request.name,
        endpointUrl: request.endpointUrl,
        ...(request.includedEventTypes ? { includedEventTypes: request.includedEventTypes } : {}),
      },
    },
  );
  if (res.status !== 200) {
    throw new Error(`Event Grid subscription '${request.name}' failed: ${res.status} ${res.text}`);
  }
  return res.body;
}

export interface IdentityTarget {
  identityEndpoint: string;
  identityHeader: string;
  keyVaultUrlTemplate: string;
  ca: string | Buffer;
}

/** A token from the emulator's managed-identity endpoint (App Service protocol), as the app gets one. */
export async function managedIdentityToken(target: IdentityTarget, resource: string): Promise<string> {
  const url = `${target.identityEndpoint}?api-version=2019-08-01&resource=${encodeURIComponent(resource)}`;
  const res = await requestJson<{ access_token?: string }>(url, {
    ca: target.ca,
    headers: { 'x-identity-header': target.identityHeader },
  });
  if (res.status !== 200 || !res.body?.access_token) {
    throw new Error(`managed identity token for ${resource}: ${res.status} ${res.text}`);
  }
  return res.body.access_token;
}

export interface ArmTarget extends IdentityTarget {
  armEndpoint: string;
  subscriptionId: string;
}

/**
 * The sample's watched group `rg-legacy/legacy-worker` (SAMPLE_LEGACY_GROUP), created through ARM when missing and
 * waited for until it runs, so the first reconcile tick finds it.
 */
async function seedLegacyGroup(target: ArmTarget): Promise<string[]> {
  const g = SAMPLE_LEGACY_GROUP;
  const sub = `/subscriptions/${target.subscriptionId}`;
  const url = `${target.armEndpoint}${sub}/resourceGroups/${g.resourceGroup}/providers/Microsoft.ContainerInstance/containerGroups/${g.name}?api-version=2023-05-01`;
  const token = await managedIdentityToken(target, 'https://management.azure.com');
  const auth = { authorization: `Bearer ${token}` };
  type Group = { properties?: { provisioningState?: string; ipAddress?: { ip?: string } } };
  const existing = await requestJson<Group>(url, { ca: target.ca, headers: auth });
  if (existing.status === 200) return [];
  if (existing.status !== 404) throw new Error(`could not read ${url}: ${existing.status} ${existing.text}`);
  const put = await requestJson(url, {
    method: 'PUT',
    ca: target.ca,
    headers: auth,
    body: {
      location: 'westeurope',
      tags: { createdBy: 'npm start (sample data)' },
      properties: {
        osType: 'Linux',
        restartPolicy: 'Always',
        containers: [
          {
            name: 'worker',
            properties: {
              image: g.image,
              ports: [{ port: g.port }],
              resources: { requests: { cpu: 0.5, memoryInGB: 1 } },
            },
          },
        ],
        ipAddress: { type: 'Private', ports: [{ port: g.port, protocol: 'TCP' }] },
        subnetIds: [
          {
            id: `${sub}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/${g.vnet}/subnets/${g.subnet}`,
          },
        ],
      },
    },
  });
  if (put.status !== 200 && put.status !== 201) {
    throw new Error(`could not create ${g.resourceGroup}/${g.name}: ${put.status} ${put.text}`);
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await requestJson<Group>(url, { ca: target.ca, headers: auth });
    const state = res.body?.properties?.provisioningState;
    if (state === 'Succeeded') {
      return [
        `container group ${g.resourceGroup}/${g.name} (${res.body.properties?.ipAddress?.ip ?? 'no IP'})`,
      ];
    }
    if (state === 'Failed' || Date.now() > deadline) {
      throw new Error(
        `container group ${g.resourceGroup}/${g.name} did not start: ${res.status} ${res.text}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Data the sample configuration refers to and the emulator does not seed: the `web-db-password` secret its
 * container reads from Key Vault. Created only when missing; returns what was created. `*.localhost` must
 * resolve (installLocalhostResolver) in this process.
 */
export async function seedSampleData(
  target: ArmTarget,
  options: { legacyGroup?: boolean } = {},
): Promise<string[]> {
  const created: string[] = [];
  if (options.legacyGroup) created.push(...(await seedLegacyGroup(target)));
  const token = await managedIdentityToken(target, 'https://vault.azure.net');
  const vaultUrl = target.keyVaultUrlTemplate.replace('{vault}', SAMPLE_DB_PASSWORD_SECRET.vault);
  const secretUrl = `${vaultUrl}/secrets/${SAMPLE_DB_PASSWORD_SECRET.name}`;
  const auth = { authorization: `Bearer ${token}` };
  const existing = await requestJson(`${secretUrl}/?api-version=7.5`, { ca: target.ca, headers: auth });
  if (existing.status === 404) {
    const put = await requestJson(`${secretUrl}?api-version=7.5`, {
      method: 'PUT',
      ca: target.ca,
      headers: auth,
      body: {
        value: crypto.randomBytes(18).toString('base64url'),
        tags: { createdBy: 'npm start (sample data)' },
      },
    });
    if (put.status !== 200) throw new Error(`could not create ${secretUrl}: ${put.status} ${put.text}`);
    created.push(`secret ${SAMPLE_DB_PASSWORD_SECRET.vault}/${SAMPLE_DB_PASSWORD_SECRET.name}`);
  } else if (existing.status !== 200) {
    throw new Error(`could not read ${secretUrl}: ${existing.status} ${existing.text}`);
  }
  return created;
}

// ------------------------------------------------------------------------------------------------ the stack

/** A started emulator: the CLI as a child process, or one in the caller's process (tests). */
export interface StartedEmulator {
  ready: EmulatorReady;
  pid: number;
  /** The child process, when it is one (npm start supervises it). */
  service?: Service<EmulatorReady>;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  rootDir: string;
  /** The function app to host (default rootDir). */
  appDir?: string;
  azurite?: Omit<AzuriteOptions, 'rootDir' | 'onLine'>;
  /** The emulator CLI's options (a child process), or a function starting an emulator some other way. */
  emulator: Omit<EmulatorProcessOptions, 'rootDir' | 'onLine'> | (() => Promise<StartedEmulator>);
  host: {
    port: number;
    stateDir: string;
    /** local.settings.json for the host (default the app's own). */
    settingsFile?: string;
    /** Write an empty `settingsFile` first: every setting then comes from the environment. */
    emptySettings?: boolean;
    stackFile?: string;
  };
  /** Create the sample data the sample configuration needs (default true; 'warn' = report failures, go on). */
  seedSampleData?: boolean | 'warn';
  /** Also create the sample's watched group rg-legacy/legacy-worker when missing (default false). */
  seedLegacyGroup?: boolean;
  /** APPS_CONFIG, from the started emulator (default: the sample with its URLs). */
  appsConfig?: (emulator: EmulatorReady) => unknown;
  /** RECONCILE_SCHEDULE (default the sample's). */
  reconcileSchedule?: string;
  /** Settings overriding the generated ones, from the started emulator. */
  env?: (emulator: EmulatorReady) => Record<string, string>;
  /**
   * The registry's Event Grid subscription to the host's webhook for `functionName` (default `onImagePushed`),
   * created when the app registers that Event Grid function or `functionName` is given; false = none.
   * `optional`: a failure is reported through `say` instead of failing the start.
   */
  subscribe?: { functionName?: string; registryName?: string; optional?: boolean } | false;
  onLine?: LineSink;
  /** Progress and warnings (default: silent). */
  say?: (message: string) => void;
  /** Each child service, as soon as it has started (npm start supervises them). */
  onService?: (service: Service<unknown>) => void;
}

export interface LocalStack {
  azurite: Service<AzuriteReady>;
  emulator: StartedEmulator;
  /** The current host process (a new one after restartHost). */
  readonly host: Service<HostReady>;
  ca: Buffer;
  appsConfig: unknown;
  /** The app settings the host gets (on top of this process's environment). */
  settings: Record<string, string>;
  storageConnectionString: string;
  subscription: Record<string, unknown> | null;
  /** Sample data created by this start. */
  seeded: string[];
  /** Stops the host (SIGTERM: graceful, SIGKILL: abrupt) and starts it again on the same port. */
  restartHost(options?: { signal?: 'SIGTERM' | 'SIGKILL' }): Promise<void>;
  /** The host first (no invocation runs against a stopped emulator), then Azurite and the emulator. */
  stop(): Promise<void>;
}

/**
 * The whole local stack: Azurite and the emulator, the sample data, the app settings, the functions host and
 * the registry's Event Grid subscription to its webhook. What `npm start`, the demo and the integration tests
 * share; anything started is stopped again when a later step fails.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { rootDir, onLine } = options;
  const say = options.say ?? (() => undefined);
  const appDir = path.resolve(options.appDir ?? rootDir);
  let azurite: Service<AzuriteReady> | undefined;
  let emulator: StartedEmulator | undefined;
  let host: Service<HostReady> | undefined;
  const stop = async () => {
    await host?.stop(8000);
    await Promise.all([azurite?.stop(8000), emulator?.stop()]);
  };
  const startEmulator = async (): Promise<StartedEmulator> => {
    if (typeof options.emulator === 'function') return options.emulator();
    const service = await startEmulatorProcess({
      ...options.emulator,
      rootDir,
      ...(onLine ? { onLine } : {}),
    });
    return {
      ready: service.ready,
      pid: service.pid,
      service,
      stop: async () => {
        await service.stop(8000);
      },
    };
  };

  try {
    const started = await Promise.allSettled([
      startAzurite({ ...options.azurite, rootDir, ...(onLine ? { onLine } : {}) }).then((s) => {
        azurite = s;
        options.onService?.(s);
      }),
      startEmulator().then((e) => {
        emulator = e;
        if (e.service) options.onService?.(e.service);
      }),
    ]);
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    const emu = emulator!.ready;
    const storage = azurite!.ready;
    const ca = fs.readFileSync(emu.caCertPath);

    let seeded: string[] = [];
    if (options.seedSampleData !== false) {
      try {
        seeded = await seedSampleData({ ...emu, ca }, { legacyGroup: options.seedLegacyGroup ?? false });
        if (seeded.length) say(`sample data created: ${seeded.join(', ')}`);
      } catch (err) {
        if (options.seedSampleData !== 'warn') throw err;
        say(`warning: could not create the sample data: ${(err as Error).message}`);
      }
    }

    const storageConnectionString = azuriteConnectionString(storage);
    const appsConfig = options.appsConfig ? options.appsConfig(emu) : sampleAppsConfig(emu);
    const settings: Record<string, string> = {
      ...localStackAppSettings(
        { ...emu, storageConnectionString },
        {
          appsConfig,
          ...(options.reconcileSchedule ? { reconcileSchedule: options.reconcileSchedule } : {}),
        },
      ),
      ...options.env?.(emu),
    };
    const { settingsFile } = options.host;
    if (settingsFile && options.host.emptySettings) {
      fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
      fs.writeFileSync(settingsFile, JSON.stringify({ IsEncrypted: false, Values: {} }));
    }
    const launchHost = async (port: number) => {
      const started = await startHostProcess({
        rootDir,
        appDir,
        port,
        stateDir: options.host.stateDir,
        env: { ...process.env, ...settings },
        ...(settingsFile ? { settingsFile } : {}),
        ...(options.host.stackFile ? { stackFile: options.host.stackFile } : {}),
        ...(onLine ? { onLine } : {}),
      });
      options.onService?.(started);
      return started;
    };
    say(`starting the functions host on port ${options.host.port}...`);
    host = await launchHost(options.host.port);
    const fx = host.ready;

    let subscription: Record<string, unknown> | null = null;
    if (options.subscribe !== false) {
      const wanted = options.subscribe ?? {};
      const functionName = wanted.functionName ?? 'onImagePushed';
      const registryName = wanted.registryName ?? String(emu['registryName'] ?? 'contoso');
      const registered = fx.functions.some(
        (f) => f.name === functionName && f.trigger === 'eventGridTrigger',
      );
      if (registered || wanted.functionName) {
        try {
          subscription = await subscribeWebhook({
            emulatorUrl: emu.emulatorUrl,
            ca,
            registryName,
            name: `functions-${functionName.toLowerCase()}`,
            endpointUrl: `${fx.baseUrl}/runtime/webhooks/eventgrid?functionName=${functionName}&code=${fx.systemKey}`,
            includedEventTypes: ['Microsoft.ContainerRegistry.ImagePushed'],
          });
          say(`registry '${registryName}' delivers ImagePushed events to ${functionName}.`);
        } catch (err) {
          if (!wanted.optional) throw err;
          say(`warning: ${(err as Error).message}`);
        }
      } else {
        say(`warning: the app registers no Event Grid function '${functionName}': no subscription created.`);
      }
    }

    return {
      azurite: azurite!,
      emulator: emulator!,
      get host() {
        return host!;
      },
      ca,
      appsConfig,
      settings,
      storageConnectionString,
      subscription,
      seeded,
      async restartHost({ signal = 'SIGTERM' } = {}) {
        const previous = host!;
        if (signal === 'SIGKILL') {
          process.kill(previous.pid, 'SIGKILL');
          await previous.exited;
        } else await previous.stop();
        host = await launchHost(previous.ready.port);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
