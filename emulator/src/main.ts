/**
 * `npm run emulator`: start the emulator alone, print its endpoints and merge them into `.local/stack.json`.
 * Flags: --port N (default 7443, 0 = any free port), --dns-port N (the DNS server's UDP and TCP port; default 7553,
 * or any free port with --port 0), --state-dir DIR (default .local/emulator), --reset
 * (forget persisted state first), --reset-only (forget it and exit), --fast (short provisioning and retry
 * timings, for demos and tests).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { mergeStackFile } from '../../scripts/lib/stackFile.js';
import { startEmulator } from './server.js';
import { StateStore } from './core/stateStore.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'dns-port': { type: 'string' },
    'state-dir': { type: 'string' },
    reset: { type: 'boolean', default: false },
    'reset-only': { type: 'boolean', default: false },
    fast: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

const stateDir = path.resolve(values['state-dir'] ?? '.local/emulator');
if (values['reset-only']) {
  new StateStore(stateDir).reset();
  console.log(`emulator state in ${stateDir} reset`);
  process.exit(0);
}

const port = values.port !== undefined ? Number(values.port) : 7443;
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a TCP port number, got '${values.port}'`);
  process.exit(2);
}

const dnsPort = values['dns-port'] !== undefined ? Number(values['dns-port']) : port === 0 ? 0 : 7553;
if (!Number.isInteger(dnsPort) || dnsPort < 0 || dnsPort > 65535) {
  console.error(`--dns-port must be a port number, got '${values['dns-port']}'`);
  process.exit(2);
}

const emulator = await startEmulator({
  port,
  dnsPort,
  stateDir,
  reset: values.reset,
  quiet: values.quiet,
  ...(values.fast
    ? {
        timings: {
          provisioningStepMs: 500,
          lroRetryAfterSeconds: 1,
          eventGridRetryScheduleMs: [1000, 2000, 4000, 8000],
        },
      }
    : {}),
});
const stack: Record<string, unknown> = { ...emulator.stack, pids: { emulator: process.pid } };
mergeStackFile(path.join(stateDir, '..', 'stack.json'), stack);
console.log(`Emulator ready at ${emulator.url}`);
console.log(`  ARM:       ${emulator.url}  (subscription ${String(stack['subscriptionId'])})`);
console.log(`  Key Vault: ${String(stack['keyVaultUrlTemplate'])}`);
console.log(`  Identity:  ${String(stack['identityEndpoint'])}`);
console.log(`  DNS:       ${String(stack['dnsServer'])}  (UDP and TCP, the emulated Private DNS zones)`);
console.log(`  CA:        ${String(stack['caCertPath'])}  (export NODE_EXTRA_CA_CERTS=...)`);
console.log(`EMULATOR_READY ${JSON.stringify(stack)}`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`[emulator] ${signal}: shutting down`);
  await emulator.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
