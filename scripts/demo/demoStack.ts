/**
 * A fresh local stack for the demo, started as `npm start` starts one (scripts/lib/localStack.ts startLocalStack:
 * Azurite, the emulator CLI, the functions host, the Event Grid subscription, the sample data) but isolated:
 * free ports, Azurite in memory, emulator state, CA and host keys in a temp directory removed at the end. So
 * the demo never touches `.local/` or a running `npm start`. Process management is scripts/lib/services.ts'.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requestJson, type JsonResponse } from '../lib/httpsJson.js';
import {
  handedOutKey,
  managedIdentityToken,
  startLocalStack,
  type HostReady,
  type LocalStack,
} from '../lib/localStack.js';
import { sampleAppsConfig } from '../lib/sampleConfig.js';
import { startService, stopAllServices, type Service } from '../lib/services.js';

export interface DemoStackOptions {
  rootDir: string;
  /** Changes to the sample APPS_CONFIG (it is passed a fresh copy). */
  editConfig?: (config: Record<string, unknown>) => void;
  /** Receives every line the services print (default: kept for diagnostics only). */
  onLine?: (service: string, line: string) => void;
}

export interface DemoStack {
  dir: string;
  emulatorUrl: string;
  caCertPath: string;
  ca: Buffer;
  functionsBaseUrl: string;
  functionKey: string;
  functions: HostReady['functions'];
  appsConfig: Record<string, unknown>;
  reconcileSchedule: string;
  /** The emulator's DNS server, `host:port` (stack.json's dnsServer). */
  dnsServer: string;
  keyVaultUrl(vault: string): string;
  /** Emulator control API. */
  control<T = unknown>(method: string, pathAndQuery: string, body?: unknown): Promise<JsonResponse<T>>;
  /** The functions host, with the function key (status and dashboard). */
  api<T = unknown>(pathAndQuery: string): Promise<JsonResponse<T>>;
  /** `POST /api/apps/{app}/{action}` with the actions key. */
  action<T = unknown>(app: string, action: string, body?: unknown): Promise<JsonResponse<T>>;
  /** Starts a child process with the app's managed identity and CA in its environment. */
  startClient<T>(options: {
    name: string;
    script: string;
    env: Record<string, string>;
    ready: (line: string) => T | undefined;
    onLine: (line: string) => void;
  }): Promise<Service<T>>;
  /** A secret's value, read with the app's managed identity (the demo checks it never shows up in status). */
  readSecret(vault: string, name: string): Promise<string>;
  /** Last lines of every service, for diagnostics. */
  recentOutput(): string[];
  stop(): Promise<void>;
}

const KEEP_LINES = 300;

export async function startDemoStack(options: DemoStackOptions): Promise<DemoStack> {
  const { rootDir } = options;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aci-demo-'));
  const output: string[] = [];
  const onLine = (service: string, line: string) => {
    output.push(`${service.padEnd(8)} | ${line}`);
    if (output.length > KEEP_LINES) output.shift();
    options.onLine?.(service, line);
  };
  let local: LocalStack | undefined;
  const stop = async () => {
    // The host first, so no invocation runs against a stopped emulator; then everything else.
    await local?.stop();
    await stopAllServices(8000);
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    local = await startLocalStack({
      rootDir,
      emulator: { port: 0, stateDir: path.join(dir, 'emulator'), fast: true },
      host: {
        port: 0,
        stateDir: path.join(dir, 'host'),
        // All settings come from the environment: the host must not create or read the repository's file.
        settingsFile: path.join(dir, 'local.settings.json'),
        emptySettings: true,
      },
      appsConfig: (emu) => {
        const config = sampleAppsConfig(emu);
        options.editConfig?.(config);
        return config;
      },
      onLine,
    });
    const emu = local.emulator.ready;
    const fx = local.host.ready;
    const functionKey = handedOutKey(fx, 'functionKey');
    const actionsKey = handedOutKey(fx, 'actionsKey');
    const { ca, settings } = local;
    const appsConfig = local.appsConfig as Record<string, unknown>;

    return {
      dir,
      emulatorUrl: emu.emulatorUrl,
      caCertPath: emu.caCertPath,
      ca,
      functionsBaseUrl: fx.baseUrl,
      functionKey,
      functions: fx.functions,
      appsConfig,
      reconcileSchedule: settings['RECONCILE_SCHEDULE']!,
      dnsServer: String(emu['dnsServer']),
      keyVaultUrl: (vault) => emu.keyVaultUrlTemplate.replace('{vault}', vault),
      control: (method, pathAndQuery, body) =>
        requestJson(`${emu.emulatorUrl}${pathAndQuery}`, {
          method,
          ca,
          ...(body === undefined ? {} : { body }),
        }),
      api: (pathAndQuery) =>
        requestJson(`${fx.baseUrl}${pathAndQuery}`, { headers: { 'x-functions-key': functionKey } }),
      action: (app, action, body) =>
        requestJson(`${fx.baseUrl}/api/apps/${app}/${action}`, {
          method: 'POST',
          headers: { 'x-functions-key': actionsKey },
          ...(body === undefined ? {} : { body }),
        }),
      startClient: ({ name, script, env, ready, onLine: clientLine }) =>
        startService({
          name,
          command: process.execPath,
          args: ['--import', 'tsx', script],
          cwd: rootDir,
          env: {
            ...process.env,
            NODE_EXTRA_CA_CERTS: emu.caCertPath,
            IDENTITY_ENDPOINT: emu.identityEndpoint,
            IDENTITY_HEADER: emu.identityHeader,
            ...env,
          },
          ready,
          onLine: (line) => {
            onLine(name, line);
            clientLine(line);
          },
          readyTimeoutMs: 30_000,
        }),
      readSecret: async (vault, name) => {
        const token = await managedIdentityToken({ ...emu, ca }, 'https://vault.azure.net');
        const url = `${emu.keyVaultUrlTemplate.replace('{vault}', vault)}/secrets/${name}?api-version=7.5`;
        const res = await requestJson<{ value?: string }>(url, {
          ca,
          headers: { authorization: `Bearer ${token}` },
        });
        if (res.status !== 200 || typeof res.body.value !== 'string')
          throw new Error(`GET ${url} → ${res.status}: ${res.text}`);
        return res.body.value;
      },
      recentOutput: () => [...output],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
