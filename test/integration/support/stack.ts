/**
 * The whole local stack for one integration test file, on free ports, isolated from `npm start` and from other
 * test files: Azurite (in memory, child process), the emulator (in this process, via startTestEmulator: temp
 * state, fast timings, `control()` / `requestCounts()`), and the local functions host running the app as a child
 * process, with the same app settings `npm start` gives it (endpoints, managed identity, CA, storage,
 * APPS_CONFIG). The registry's Event Grid subscription points at the host's webhook, so a push through the
 * control API reaches the app's `onImagePushed` as in Azure.
 *
 * ```ts
 * const stack = await startTestStack();                      // the app in dist/ (run `npm run build` first)
 * await stack.emulator.control('POST', '/_emulator/registries/contoso/push', { repository: 'web', tag: '1.1.0' });
 * await stack.runFunction('reconcile');                      // timers run only when asked (see reconcileSchedule)
 * const status = await stack.call('/api/status');            // with the function key (status, dashboard)
 * await stack.postAction('web', 'rollback', { reason: 'x' }); // with the actions key (host.actionsKey)
 * await stack.restartHost({ signal: 'SIGKILL' });            // same port, keys and settings; emulator state kept
 * await stack.stop();
 * ```
 * `useManagedIdentity(stack.emulator)` (support/emulator.ts) lets the test's own SDK clients authenticate.
 * Set STACK_VERBOSE=1 to see the host's output; it is always in `stack.hostLogs`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StartOptions } from '../../../emulator/src/server.js';
import {
  handedOutKey,
  startLocalStack,
  type EmulatorReady,
  type HostReady,
} from '../../../scripts/lib/localStack.js';
import { startTestEmulator, type TestEmulator } from './emulator.js';

/** A schedule that never fires during a test (1 January, midnight): timers run when a test asks. */
export const NEVER_SCHEDULE = '0 0 0 1 1 *';

/** The started emulator, as settings that depend on it (vault URLs carry its port) see it. */
export interface StackTarget {
  emulator: TestEmulator;
  subscriptionId: string;
  keyVaultUrlTemplate: string;
  armEndpoint: string;
  /** `https://{name}.vault.localhost:{port}` of this emulator. */
  vaultUrl(name: string): string;
}

/** A setting, or a function computing it once the emulator has started (and so knows its port). */
export type FromTarget<T extends object> = T | ((target: StackTarget) => T);

export interface TestStackOptions {
  /** Function app directory (package.json `main`). Default: the repository (built app in dist/). */
  appDir?: string;
  /**
   * APPS_CONFIG; default the sample (app `web`, watched group rg-legacy/legacy-worker) with this emulator's URLs.
   * A function gets the started emulator: `appsConfig: ({ vaultUrl }) => config(vaultUrl('kv-apps'))`.
   */
  appsConfig?: FromTarget<object>;
  /** RECONCILE_SCHEDULE; default NEVER_SCHEDULE. */
  reconcileSchedule?: string;
  /** Extra or overriding app settings for the host (or a function of the started emulator). */
  env?: FromTarget<Record<string, string>>;
  /** Options for the in-process emulator (timings, page sizes...). */
  emulator?: StartOptions;
  /**
   * The Event Grid function to subscribe to the registry's ImagePushed events (default `onImagePushed`, when the
   * app has it); false for none.
   */
  subscribe?: { functionName?: string; registryName?: string } | false;
  /** Create the sample's Key Vault secret web-db-password (default true). */
  seedSampleData?: boolean;
}

export interface TestStack {
  emulator: TestEmulator;
  storage: { tableEndpoint: string; connectionString: string };
  host: HostReady;
  /** The app settings the host was started with (on top of this process's environment). */
  settings: Record<string, string>;
  /** Every line the host printed, across restarts. */
  hostLogs: string[];
  /** What `.local/stack.json` would hold for this stack (docs/design.md, "Local stack"). */
  readonly stackJson: Record<string, unknown>;
  /**
   * `fetch` against the host with the function key (`x-functions-key`; it opens `status` and `dashboard` only),
   * unless `init` sets one.
   */
  call(pathAndQuery: string, init?: RequestInit): Promise<Response>;
  /** `POST /api/apps/{app}/{action}` with the actions key (`host.actionsKey`), and `body` as JSON if given. */
  postAction(app: string, action: string, body?: unknown): Promise<Response>;
  /** Runs a timer or Event Grid function now (`POST /admin/functions/{name}`, master key); resolves on 202. */
  runFunction(name: string, input?: unknown): Promise<void>;
  /** Stops the host (SIGTERM: graceful, SIGKILL: abrupt) and starts it again on the same port. */
  restartHost(options?: { signal?: 'SIGTERM' | 'SIGKILL' }): Promise<void>;
  stop(): Promise<void>;
}

const ROOT = path.resolve('.');

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aci-stack-'));
  const verbose = Boolean(process.env['STACK_VERBOSE']);
  const hostLogs: string[] = [];
  const onLine = (service: string, line: string) => {
    if (service === 'host') hostLogs.push(line);
    if (verbose) console.log(`${service.padEnd(8)} | ${line}`);
  };

  let emulator: TestEmulator | undefined;
  const target = (): StackTarget => {
    const emu = emulator!;
    const stack = emu.stack as Record<string, string>;
    return {
      emulator: emu,
      subscriptionId: stack['subscriptionId']!,
      keyVaultUrlTemplate: stack['keyVaultUrlTemplate']!,
      armEndpoint: stack['armEndpoint']!,
      vaultUrl: (name) => emu.vaultUrl(name),
    };
  };
  const resolve = <T extends object>(value: FromTarget<T>): T =>
    typeof value === 'function' ? (value as (t: StackTarget) => T)(target()) : value;
  const { appsConfig, env } = options;

  let local: Awaited<ReturnType<typeof startLocalStack>>;
  try {
    local = await startLocalStack({
      rootDir: ROOT,
      appDir: options.appDir ?? ROOT,
      // In this process: tests call its control API and read its request log.
      emulator: async () => {
        emulator = await startTestEmulator(options.emulator);
        const emu = emulator;
        return { ready: emu.stack as EmulatorReady, pid: process.pid, stop: () => emu.close() };
      },
      host: {
        port: 0,
        stateDir: path.join(tempDir, 'host'),
        // The host must not copy the repository's sample settings: all settings come from the environment.
        settingsFile: path.join(tempDir, 'local.settings.json'),
        emptySettings: true,
      },
      seedSampleData: options.seedSampleData !== false,
      ...(appsConfig === undefined ? {} : { appsConfig: () => resolve(appsConfig) }),
      reconcileSchedule: options.reconcileSchedule ?? NEVER_SCHEDULE,
      ...(env === undefined ? {} : { env: () => resolve(env) }),
      subscribe: options.subscribe ?? {},
      onLine,
    });
  } catch (err) {
    fs.rmSync(tempDir, { recursive: true, force: true });
    throw err;
  }
  const emu = emulator!;
  const storage = local.azurite.ready;
  const connectionString = local.storageConnectionString;
  const ready = () => local.host.ready;

  return {
    emulator: emu,
    storage: { tableEndpoint: storage.tableEndpoint, connectionString },
    get host() {
      return ready();
    },
    settings: local.settings,
    hostLogs,
    get stackJson() {
      const fx = ready();
      return {
        ...emu.stack,
        functionsBaseUrl: fx.baseUrl,
        functionKey: fx.functionKey,
        actionsKey: fx.actionsKey,
        systemKey: fx.systemKey,
        masterKey: fx.masterKey,
        tableEndpoint: storage.tableEndpoint,
        storageConnectionString: connectionString,
        pids: { host: fx.pid, emulator: process.pid, azurite: local.azurite.pid },
      };
    },
    call: (pathAndQuery, init = {}) => {
      const headers = new Headers(init.headers);
      const key = ready().functionKey;
      if (!headers.has('x-functions-key') && key !== undefined) headers.set('x-functions-key', key);
      return fetch(`${ready().baseUrl}${pathAndQuery}`, { ...init, headers });
    },
    postAction: (app, action, body) =>
      fetch(`${ready().baseUrl}/api/apps/${encodeURIComponent(app)}/${encodeURIComponent(action)}`, {
        method: 'POST',
        headers: {
          'x-functions-key': handedOutKey(ready(), 'actionsKey'),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    async runFunction(name, input) {
      const fx = ready();
      const res = await fetch(`${fx.baseUrl}/admin/functions/${encodeURIComponent(name)}`, {
        method: 'POST',
        headers: { 'x-functions-key': fx.masterKey, 'content-type': 'application/json' },
        body: JSON.stringify({ input: input === undefined ? '' : input }),
      });
      if (res.status !== 202) throw new Error(`runFunction(${name}): ${res.status} ${await res.text()}`);
    },
    restartHost: (restart) => local.restartHost(restart),
    async stop() {
      await local.stop();
      fs.rmSync(tempDir, { recursive: true, force: true });
    },
  };
}
