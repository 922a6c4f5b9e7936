/**
 * `npm start`: the whole local stack, each part its own process — Azurite (table/blob/queue, data in
 * .local/azurite), the Azure emulator (state in .local/emulator) and the local functions host running this app
 * with the sample configuration — then the registry's Event Grid subscription to the host's webhook,
 * `.local/stack.json`, and a "try this" line. The sample data (Key Vault secret web-db-password, the watched group
 * rg-legacy/legacy-worker) is created when missing. Startup is scripts/lib/localStack.ts `startLocalStack`, shared
 * with the demo and the integration tests. Runs until Ctrl-C / SIGTERM, which stops every process. A crashed
 * functions host is started again on its port (as the Functions runtime restarts a crashed worker; at most 3
 * times a minute, restartPolicy.ts), the emulator and Azurite keep running; if Azurite or the emulator dies, or
 * the host keeps crashing, everything is stopped.
 *
 *   --reset              forget emulator state and Azurite data first
 *   --app-dir DIR        the function app to host (default: this repository)
 *   --fast               emulator with short provisioning and Event Grid retry timings
 *   --azurite-log        show Azurite's access log (one line per storage request)
 *   --host-port N        default 7071        --emulator-port N   default 7443
 *   --dns-port N         the emulator's DNS server (UDP and TCP, the emulated Private DNS zones); default 7553
 *   --azurite-port N     blob N, queue N+1, table N+2; default 10000
 *
 * Settings generated here (endpoints, identity, CA, storage, APPS_CONFIG, RECONCILE_SCHEDULE) go to the host in
 * its environment, so they win over local.settings.json; APPS_CONFIG and RECONCILE_SCHEDULE set in the
 * environment of `npm start` win over the sample's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { installLocalhostResolver } from '../emulator/src/localhostDns.js';
import { mergeStackFile } from './lib/stackFile.js';
import { watchLauncher } from './lib/launcherWatch.js';
import {
  startLocalStack,
  type AzuriteReady,
  type EmulatorReady,
  type HostReady,
  type LocalStack,
} from './lib/localStack.js';
import { RestartPolicy } from './lib/restartPolicy.js';
import { stopAllServices, type Service } from './lib/services.js';

const { values: args } = parseArgs({
  options: {
    reset: { type: 'boolean', default: false },
    fast: { type: 'boolean', default: false },
    'azurite-log': { type: 'boolean', default: false },
    'host-port': { type: 'string', default: '7071' },
    'emulator-port': { type: 'string', default: '7443' },
    'dns-port': { type: 'string', default: '7553' },
    'azurite-port': { type: 'string', default: '10000' },
    'app-dir': { type: 'string', default: '.' },
  },
});

const port = (name: string, value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    console.error(`--${name} must be a TCP port number, got '${value}'.`);
    process.exit(2);
  }
  return n;
};
const hostPort = port('host-port', args['host-port']);
const emulatorPort = port('emulator-port', args['emulator-port']);
const dnsPort = port('dns-port', args['dns-port']);
const azuritePort = port('azurite-port', args['azurite-port']);

const root = process.cwd();
const localDir = path.join(root, '.local');
const stackFile = path.join(localDir, 'stack.json');
const say = (message: string) => console.log(`[start] ${message}`);

installLocalhostResolver();
fs.mkdirSync(localDir, { recursive: true });
// A stack.json from an earlier run would describe processes that no longer exist.
fs.rmSync(stackFile, { force: true });
if (args.reset) {
  fs.rmSync(path.join(localDir, 'azurite'), { recursive: true, force: true });
  fs.rmSync(path.join(localDir, 'host', 'timers'), { recursive: true, force: true });
}

const started: Service<unknown>[] = [];
let stopping: Promise<void> | undefined;
const stopAll = (reason: string, exitCode: number): Promise<void> =>
  (stopping ??= (async () => {
    say(`${reason}: stopping the local stack...`);
    // The host first, so no invocation runs against a stopped emulator; then the rest.
    const host = started.find((s) => s.name === 'host');
    if (host) await host.stop(8000);
    await stopAllServices(8000);
    if (fs.existsSync(stackFile))
      mergeStackFile(stackFile, { ready: false, stoppedAt: new Date().toISOString() });
    say('stopped.');
    process.exit(exitCode);
  })());

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    void stopAll(signal, 0);
  });
}
watchLauncher((pid) => void stopAll(`launcher process ${pid} exited`, 0));

/** Set once the stack is up: a host that crashes after that is restarted, not the stack stopped. */
let stackUp: LocalStack | undefined;
const hostRestarts = new RestartPolicy();

async function restartHost(local: LocalStack, why: string): Promise<void> {
  const decision = hostRestarts.onCrash(Date.now());
  if (!decision.restart) {
    await stopAll(`the functions host ${why}; ${decision.reason}`, 1);
    return;
  }
  say(`the functions host ${why}; starting it again in ${decision.delayMs} ms (${decision.reason})`);
  await new Promise((resolve) => setTimeout(resolve, decision.delayMs));
  if (stopping) return;
  try {
    await local.restartHost();
    mergeStackFile(stackFile, { pids: { host: local.host.pid } });
    say(`the functions host is back on ${local.host.ready.baseUrl} (pid ${local.host.pid}).`);
  } catch (err) {
    await stopAll(`the functions host could not be restarted: ${(err as Error).message}`, 1);
  }
}

function supervise(service: Service<unknown>): void {
  started.push(service);
  void service.exited.then(({ code, signal }) => {
    if (stopping) return;
    const why = `exited unexpectedly (code ${code}, signal ${signal})`;
    if (service.name === 'host' && stackUp && stackUp.host === service) void restartHost(stackUp, why);
    else void stopAll(`${service.name} ${why}`, 1);
  });
}

try {
  say('starting Azurite (data in .local/azurite) and the emulator (state in .local/emulator)...');
  const local = await startLocalStack({
    rootDir: root,
    appDir: args['app-dir'],
    azurite: {
      location: path.join(localDir, 'azurite'),
      blobPort: azuritePort,
      queuePort: azuritePort + 1,
      tablePort: azuritePort + 2,
      accessLog: args['azurite-log'],
    },
    emulator: {
      port: emulatorPort,
      dnsPort,
      stateDir: path.join(localDir, 'emulator'),
      reset: args.reset,
      fast: args.fast,
    },
    host: { port: hostPort, stateDir: path.join(localDir, 'host') },
    seedSampleData: 'warn',
    // The sample watches rg-legacy/legacy-worker: create it, so it gets its secret on the first tick.
    seedLegacyGroup: true,
    // APPS_CONFIG and RECONCILE_SCHEDULE from the environment of `npm start` win over the sample's.
    env: () => {
      const own: Record<string, string> = {};
      for (const name of ['APPS_CONFIG', 'RECONCILE_SCHEDULE']) {
        const value = process.env[name];
        if (value === undefined) continue;
        own[name] = value;
        say(`${name} comes from your environment, not the sample.`);
      }
      return own;
    },
    subscribe: { optional: true },
    say,
    onService: supervise,
  });
  stackUp = local;
  const { azurite, emulator, host, subscription, storageConnectionString } = local;
  const storage: AzuriteReady = azurite.ready;
  const emu: EmulatorReady = emulator.ready;
  const fx: HostReady = host.ready;
  const registryName = String(emu['registryName'] ?? 'contoso');

  const stack = mergeStackFile(stackFile, {
    ...emu,
    functionsBaseUrl: fx.baseUrl,
    // Function keys of their own functions (host/src/main.ts --stack-key): the status key opens no action.
    functionKey: fx.functionKey,
    actionsKey: fx.actionsKey,
    systemKey: fx.systemKey,
    masterKey: fx.masterKey,
    tableEndpoint: storage.tableEndpoint,
    blobEndpoint: storage.blobEndpoint,
    queueEndpoint: storage.queueEndpoint,
    storageConnectionString,
    eventGridSubscription: subscription,
    functions: fx.functions,
    pids: { host: host.pid, emulator: emulator.pid, azurite: azurite.pid, start: process.pid },
    startedAt: new Date().toISOString(),
    ready: true,
  });

  const caPath = path.relative(root, emu.caCertPath) || emu.caCertPath;
  console.log('');
  console.log('Local stack ready:');
  console.log(
    `  Functions host  ${fx.baseUrl}   (keys in the stack file: functionKey opens status and dashboard, actionsKey the actions)`,
  );
  for (const f of fx.functions) {
    console.log(
      `    ${f.name.padEnd(16)} ${f.trigger.padEnd(17)} ${f.route ?? f.schedule ?? ''}${f.error ? `  (in error: ${f.error})` : ''}`,
    );
  }
  console.log(
    `  Emulator        ${emu.emulatorUrl}   (ARM, Key Vault at ${emu.keyVaultUrlTemplate}, control API /_emulator/)`,
  );
  console.log(
    `  DNS server      ${String(emu['dnsServer'])}   (UDP and TCP; try: dig @${String(emu['dnsServer']).replace(':', ' -p ')} web.apps.internal)`,
  );
  console.log(`  Azurite tables  ${storage.tableEndpoint}`);
  console.log(`  CA certificate  ${caPath}   (export NODE_EXTRA_CA_CERTS=${caPath})`);
  console.log(`  Stack file      ${path.relative(root, stackFile)}`);
  console.log('');
  console.log(
    // No key on the console (issue 16): the command reads it from the stack file.
    `Try this: curl -s --cacert ${caPath} -X POST ${emu.emulatorUrl}/_emulator/registries/${registryName}/push -H 'content-type: application/json' -d '{"repository":"web","tag":"1.1.0"}' && sleep 15 && curl -s "${fx.baseUrl}/api/status?code=$(node -p "require('./.local/stack.json').functionKey")"`,
  );
  console.log('');
  console.log(
    `STACK_READY ${JSON.stringify({ stackFile, functionsBaseUrl: stack['functionsBaseUrl'], emulatorUrl: emu.emulatorUrl })}`,
  );
  say('running; Ctrl-C stops everything.');
} catch (err) {
  console.error(`[start] ${(err as Error).message}`);
  await stopAll('start failed', 1);
}
