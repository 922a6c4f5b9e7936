/**
 * The pieces of the local stack, shared by `npm start` (scripts/start.ts) and the integration-test helper
 * (test/integration/support/stack.ts): Azurite, the emulator CLI and the functions host as child processes, the
 * Event Grid subscription of the host's webhook, and the sample data the sample configuration expects.
 */
import path from 'node:path';
import { requestJson } from './httpsJson.js';
import { SAMPLE_DB_PASSWORD_SECRET } from './sampleConfig.js';
import { readyLine, startService, type Service } from './services.js';
import crypto from 'node:crypto';
import fs from 'node:fs';

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

export function startAzurite(options: AzuriteOptions): Promise<Service<AzuriteReady>> {
  // The all-in-one entry: unlike `azurite-table` it reports the port it really got when asked for port 0.
  const args = [
    path.join(options.rootDir, 'node_modules/azurite/dist/src/azurite.js'),
    ...['--blobHost', '127.0.0.1', '--blobPort', String(options.blobPort ?? 0)],
    ...['--queueHost', '127.0.0.1', '--queuePort', String(options.queuePort ?? 0)],
    ...['--tableHost', '127.0.0.1', '--tablePort', String(options.tablePort ?? 0)],
    '--skipApiVersionCheck',
    '--loose',
    '--disableTelemetry',
  ];
  if (!options.accessLog) args.push('--silent');
  if (options.location) {
    fs.mkdirSync(options.location, { recursive: true });
    args.push('--location', options.location);
  } else args.push('--inMemoryPersistence', '--extentMemoryLimit', '64');
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
      const account = (url: string | undefined) =>
        url ? `${url.replace(/\/+$/, '')}/devstoreaccount1` : undefined;
      const ready: AzuriteReady = { tableEndpoint: account(seen['Table'])!, urls: { table: seen['Table']! } };
      if (seen['Blob']) {
        ready.blobEndpoint = account(seen['Blob'])!;
        ready.urls.blob = seen['Blob'];
      }
      if (seen['Queue']) {
        ready.queueEndpoint = account(seen['Queue'])!;
        ready.urls.queue = seen['Queue'];
      }
      return ready;
    },
    onLine: sink('azurite', options.onLine),
    readyTimeoutMs: 60_000,
  });
}

// ------------------------------------------------------------------------------------------------ emulator

export interface EmulatorProcessOptions {
  rootDir: string;
  port: number;
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
};

export function startEmulatorProcess(options: EmulatorProcessOptions): Promise<Service<EmulatorReady>> {
  const args = ['--port', String(options.port), '--state-dir', options.stateDir];
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
  functionKey: string;
  systemKey: string;
  masterKey: string;
  pid: number;
  functions: { name: string; trigger: string; route?: string; schedule?: string; error?: string }[];
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

/**
 * Data the sample configuration refers to and the emulator does not seed: the `web-db-password` secret its
 * container reads from Key Vault. Created only when missing; returns what was created. `*.localhost` must
 * resolve (installLocalhostResolver) in this process.
 */
export async function seedSampleData(target: IdentityTarget): Promise<string[]> {
  const created: string[] = [];
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
