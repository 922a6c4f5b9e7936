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
 * const status = await stack.call('/api/status');            // with the function key
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
  startAzurite,
  startHostProcess,
  seedSampleData,
  subscribeWebhook,
  type HostReady,
} from '../../../scripts/lib/localStack.js';
import {
  azuriteConnectionString,
  localStackAppSettings,
  sampleAppsConfig,
} from '../../../scripts/lib/sampleConfig.js';
import type { Service } from '../../../scripts/lib/services.js';
import { startTestEmulator, type TestEmulator } from './emulator.js';

/** A schedule that never fires during a test (1 January, midnight): timers run when a test asks. */
export const NEVER_SCHEDULE = '0 0 0 1 1 *';

export interface TestStackOptions {
  /** Function app directory (package.json `main`). Default: the repository (built app in dist/). */
  appDir?: string;
  /** APPS_CONFIG; default the sample (app `web`, watched group rg-legacy/legacy-worker) with this emulator's URLs. */
  appsConfig?: unknown;
  /** RECONCILE_SCHEDULE; default NEVER_SCHEDULE. */
  reconcileSchedule?: string;
  /** Extra or overriding app settings for the host. */
  env?: Record<string, string>;
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
  /** What `.local/stack.json` would hold for this stack (design.md, "Local stack contract"). */
  readonly stackJson: Record<string, unknown>;
  /** `fetch` against the host with the function key (`x-functions-key`). */
  call(pathAndQuery: string, init?: RequestInit): Promise<Response>;
  /** Runs a timer or Event Grid function now (`POST /admin/functions/{name}`, master key); resolves on 202. */
  runFunction(name: string, input?: unknown): Promise<void>;
  /** Stops the host (SIGTERM: graceful, SIGKILL: abrupt) and starts it again on the same port. */
  restartHost(options?: { signal?: 'SIGTERM' | 'SIGKILL' }): Promise<void>;
  stop(): Promise<void>;
}

const ROOT = path.resolve('.');

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const appDir = path.resolve(options.appDir ?? ROOT);
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aci-stack-'));
  const hostStateDir = path.join(tempDir, 'host');
  const settingsFile = path.join(tempDir, 'local.settings.json');
  // An empty settings file: the host must not copy the repository's sample (all settings come from env).
  fs.writeFileSync(settingsFile, JSON.stringify({ IsEncrypted: false, Values: {} }));
  const verbose = Boolean(process.env['STACK_VERBOSE']);
  const hostLogs: string[] = [];
  const onLine = (service: string, line: string) => {
    if (service === 'host') hostLogs.push(line);
    if (verbose) console.log(`${service.padEnd(8)} | ${line}`);
  };

  let emulator: TestEmulator | undefined;
  let azurite: Service<{ tableEndpoint: string; blobEndpoint?: string; queueEndpoint?: string }> | undefined;
  let host: Service<HostReady> | undefined;
  const cleanup = async () => {
    await host?.stop();
    await azurite?.stop();
    await emulator?.close();
    fs.rmSync(tempDir, { recursive: true, force: true });
  };

  try {
    [emulator, azurite] = await Promise.all([
      startTestEmulator(options.emulator),
      startAzurite({ rootDir: ROOT, onLine }),
    ]);
    const emu = emulator;
    const stack = emu.stack as Record<string, string>;
    const ca = fs.readFileSync(stack['caCertPath']!);
    const target = {
      subscriptionId: stack['subscriptionId']!,
      keyVaultUrlTemplate: stack['keyVaultUrlTemplate']!,
      armEndpoint: stack['armEndpoint']!,
      identityEndpoint: stack['identityEndpoint']!,
      identityHeader: stack['identityHeader']!,
      caCertPath: stack['caCertPath']!,
    };
    if (options.seedSampleData !== false) await seedSampleData({ ...target, ca });

    const connectionString = azuriteConnectionString(azurite.ready);
    const settings: Record<string, string> = {
      ...localStackAppSettings(
        { ...target, storageConnectionString: connectionString },
        {
          appsConfig: options.appsConfig ?? sampleAppsConfig(target),
          reconcileSchedule: options.reconcileSchedule ?? NEVER_SCHEDULE,
        },
      ),
      ...options.env,
    };
    const env = { ...process.env, ...settings };
    const launchHost = (port: number) =>
      startHostProcess({ rootDir: ROOT, appDir, port, stateDir: hostStateDir, env, settingsFile, onLine });
    host = await launchHost(0);
    let ready = host.ready;

    const subscribe = options.subscribe === false ? undefined : (options.subscribe ?? {});
    const functionName = subscribe?.functionName ?? 'onImagePushed';
    const wanted = ready.functions.some((f) => f.name === functionName && f.trigger === 'eventGridTrigger');
    if (subscribe && (wanted || subscribe.functionName)) {
      await subscribeWebhook({
        emulatorUrl: emu.url,
        ca,
        registryName: subscribe.registryName ?? 'contoso',
        name: `functions-${functionName.toLowerCase()}`,
        endpointUrl: `${ready.baseUrl}/runtime/webhooks/eventgrid?functionName=${functionName}&code=${ready.systemKey}`,
        includedEventTypes: ['Microsoft.ContainerRegistry.ImagePushed'],
      });
    }

    const testStack: TestStack = {
      emulator: emu,
      storage: { tableEndpoint: azurite.ready.tableEndpoint, connectionString },
      get host() {
        return ready;
      },
      settings,
      hostLogs,
      get stackJson() {
        return {
          ...emu.stack,
          functionsBaseUrl: ready.baseUrl,
          functionKey: ready.functionKey,
          systemKey: ready.systemKey,
          masterKey: ready.masterKey,
          tableEndpoint: azurite!.ready.tableEndpoint,
          storageConnectionString: connectionString,
          pids: { host: ready.pid, emulator: process.pid, azurite: azurite!.pid },
        };
      },
      call: (pathAndQuery, init = {}) => {
        const headers = new Headers(init.headers);
        if (!headers.has('x-functions-key')) headers.set('x-functions-key', ready.functionKey);
        return fetch(`${ready.baseUrl}${pathAndQuery}`, { ...init, headers });
      },
      async runFunction(name, input) {
        const res = await fetch(`${ready.baseUrl}/admin/functions/${encodeURIComponent(name)}`, {
          method: 'POST',
          headers: { 'x-functions-key': ready.masterKey, 'content-type': 'application/json' },
          body: JSON.stringify({ input: input === undefined ? '' : input }),
        });
        if (res.status !== 202) throw new Error(`runFunction(${name}): ${res.status} ${await res.text()}`);
      },
      async restartHost({ signal = 'SIGTERM' } = {}) {
        const previous = host!;
        if (signal === 'SIGKILL') {
          process.kill(previous.pid, 'SIGKILL');
          await previous.exited;
        } else await previous.stop();
        host = await launchHost(ready.port);
        ready = host.ready;
      },
      stop: cleanup,
    };
    return testStack;
  } catch (err) {
    await cleanup();
    throw err;
  }
}
