/**
 * `npm run host` / `tsx host/src/main.ts`: the local Azure Functions host for this app.
 *
 *   --app-dir DIR      the function app (package.json `main`, host.json, local.settings.json); default: cwd
 *   --port N           HTTP port on 127.0.0.1 (0 = any free port); default Host.LocalHttpPort or 7071
 *   --state-dir DIR    keys.json and timer schedule status; default .local/host
 *   --settings FILE    local settings file; default {app-dir}/local.settings.json (created from the sample)
 *   --stack-file FILE  stack.json to read `${stack.X}` references from and merge the host's part into;
 *                      default .local/stack.json, '' for none
 *   --stack-key FIELD=FN[,FN...]
 *                      hand out a function key named FIELD shared by these functions, as FIELD in HOST_READY
 *                      and stack.json (repeatable); default: this app's `functionKey=status,dashboard` and
 *                      `actionsKey=operatorActions`. Functions the app lacks are skipped.
 *   --exit-with-parent stop when the parent process goes away (for supervisors)
 *   --verbose          show debug logs
 *
 * When listening it prints one line `HOST_READY {json}` (baseUrl, hostKey, the stack keys, systemKey,
 * masterKey, functions, pid).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { installLocalhostResolver } from '../../emulator/src/localhostDns.js';
import { consoleLogger } from './hostLog.js';
import { DEFAULT_KEY_NAME, EVENTGRID_SYSTEM_KEY, sharedKeyValue, type SharedFunctionKey } from './keys.js';
import { applyToEnvironment, loadLocalSettings, resolveStackReferences } from './localSettings.js';
import { startHost } from './server.js';
import { mergeStackFile, readStackFile } from '../../scripts/lib/stackFile.js';

const REEXEC_MARKER = 'LOCAL_FUNCTIONS_HOST_REEXEC';

const { values: args } = parseArgs({
  options: {
    'app-dir': { type: 'string' },
    port: { type: 'string' },
    'state-dir': { type: 'string' },
    settings: { type: 'string' },
    'stack-file': { type: 'string' },
    'stack-key': { type: 'string', multiple: true },
    'exit-with-parent': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});

const logger = consoleLogger({ minLevel: args.verbose ? 'debug' : 'information' });
const fail = (message: string): never => {
  logger.system(message, 'error');
  process.exit(1);
};

/**
 * The keys the local stack hands out: the status/dashboard key must not open the operator actions (issue 13),
 * so each is a function key of its own functions, never the host key (which opens every function).
 */
const DEFAULT_STACK_KEYS: SharedFunctionKey[] = [
  { name: 'functionKey', functions: ['status', 'dashboard'] },
  { name: 'actionsKey', functions: ['operatorActions'] },
];

function parseStackKeys(specs: string[] | undefined): SharedFunctionKey[] {
  if (!specs || specs.length === 0) return DEFAULT_STACK_KEYS;
  return specs.map((spec) => {
    const m = /^([A-Za-z][A-Za-z0-9_-]*)=([^=]+)$/.exec(spec);
    const functions = (m?.[2] ?? '').split(',').map((f) => f.trim());
    if (!m || functions.some((f) => f === '')) {
      return fail(`--stack-key must be FIELD=FUNCTION[,FUNCTION...], got '${spec}'.`);
    }
    return { name: m[1]!, functions };
  });
}

installLocalhostResolver();
const stackKeys = parseStackKeys(args['stack-key']);
const appDir = path.resolve(args['app-dir'] ?? '.');
const stateDir = path.resolve(args['state-dir'] ?? '.local/host');
const stackFile =
  args['stack-file'] === '' ? undefined : path.resolve(args['stack-file'] ?? '.local/stack.json');
const originalEnv = { ...process.env };

let settings;
try {
  settings = loadLocalSettings(
    path.resolve(args.settings ?? path.join(appDir, 'local.settings.json')),
    path.join(appDir, 'local.settings.sample.json'),
  );
} catch (err) {
  fail((err as Error).message);
}
const localSettings = settings!;
if (localSettings.created) logger.system(`Created ${localSettings.file} from local.settings.sample.json.`);

const stack = stackFile ? readStackFile(stackFile) : undefined;
const { values, unresolved } = resolveStackReferences(localSettings.values, stack);
for (const u of unresolved) {
  if (process.env[u.name] !== undefined) continue;
  logger.system(
    `Setting ${u.name} references ${u.reference}, which ${stackFile ?? 'stack.json'} does not provide: left unset (start the emulator first: npm run emulator).`,
    'warning',
  );
}
const { applied, kept } = applyToEnvironment(values);
logger.system(
  `App settings: ${applied.length} from ${path.relative(process.cwd(), localSettings.file) || localSettings.file}` +
    (kept.length ? `, ${kept.length} kept from the environment (${kept.join(', ')})` : ''),
);

// Node reads NODE_EXTRA_CA_CERTS only when the process starts; Core Tools passes settings to a new worker
// process, so do the same when the settings bring a CA this process was not started with. Node takes one file:
// when the environment already names another one (a corporate bundle...), trust both through a combined file.
function caToTrust(): string | undefined {
  const fromSettings = values['NODE_EXTRA_CA_CERTS'];
  const fromEnv = originalEnv['NODE_EXTRA_CA_CERTS'];
  if (!fromSettings || fromSettings === fromEnv || process.env[REEXEC_MARKER]) return undefined;
  if (!fs.existsSync(fromSettings)) {
    logger.system(`NODE_EXTRA_CA_CERTS=${fromSettings} does not exist.`, 'warning');
    return undefined;
  }
  if (!fromEnv || !fs.existsSync(fromEnv)) return fromSettings;
  const extra = fs.readFileSync(fromSettings, 'utf8');
  const existing = fs.readFileSync(fromEnv, 'utf8');
  if (existing.includes(extra.trim())) return undefined;
  const bundle = path.join(stateDir, 'ca-bundle.pem');
  fs.mkdirSync(stateDir, { recursive: true });
  // The settings' CA first: OpenSSL tries the first CA whose subject matches, and an older emulator CA in the
  // environment (from an earlier .local/ca) has the same subject.
  fs.writeFileSync(bundle, `${extra.trimEnd()}\n${existing}`);
  logger.system(
    `Trusting ${fromSettings} in addition to ${fromEnv} (${path.relative(process.cwd(), bundle)}).`,
  );
  return bundle;
}
const wantedCa = caToTrust();
if (wantedCa) {
  const child = spawn(
    process.execPath,
    [...process.execArgv, ...process.argv.slice(1), '--exit-with-parent'],
    {
      stdio: 'inherit',
      env: { ...originalEnv, NODE_EXTRA_CA_CERTS: wantedCa, [REEXEC_MARKER]: '1' },
    },
  );
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  await run();
}

async function run(): Promise<void> {
  const port = args.port !== undefined ? Number(args.port) : (localSettings.localHttpPort ?? 7071);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`--port must be a TCP port number, got '${args.port}'.`);

  let host;
  try {
    host = await startHost({
      appDir,
      port,
      stateDir,
      keyOverrides: localSettings.keys,
      sharedFunctionKeys: stackKeys,
      logger,
    });
  } catch (err) {
    fail(`Host failed to start: ${(err as Error).stack ?? String(err)}`);
  }
  const handle = host!;
  const handedOut: Record<string, string> = {};
  try {
    for (const shared of stackKeys) {
      const value = sharedKeyValue(handle.keys, shared);
      if (value !== undefined) handedOut[shared.name] = value;
    }
  } catch (err) {
    await handle.close();
    fail((err as Error).message);
  }
  const systemKey = handle.keys.systemKeys[EVENTGRID_SYSTEM_KEY]!;
  if (stackFile) {
    mergeStackFile(stackFile, {
      functionsBaseUrl: handle.url,
      ...handedOut,
      systemKey,
      masterKey: handle.keys.masterKey,
      pids: { host: process.pid },
    });
  }
  const given = stackKeys
    .filter((k) => handedOut[k.name])
    .map((k) => `${k.name} opens ${k.functions.join(', ')}`);
  logger.system(`Functions host listening on ${handle.url}${given.length ? ` (${given.join('; ')})` : ''}`);
  console.log(
    `HOST_READY ${JSON.stringify({
      baseUrl: handle.url,
      functionsBaseUrl: handle.url,
      port: handle.port,
      hostKey: handle.keys.functionKeys[DEFAULT_KEY_NAME],
      ...handedOut,
      systemKey,
      masterKey: handle.keys.masterKey,
      pid: process.pid,
      functions: handle.functions,
    })}`,
  );

  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) {
      logger.system(`${reason} again: exiting now.`, 'warning');
      process.exit(1);
    }
    stopping = true;
    logger.system(`${reason}: shutting down.`);
    handle.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.system(`Shutdown failed: ${(err as Error).message}`, 'error');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGHUP'));
  if (args['exit-with-parent']) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) stop('Parent process exited');
    }, 500).unref();
  }
}
