/**
 * The emulator in its own process for the benchmark, so the benchmark process's CPU time and memory are the
 * reconcile tick's alone (the emulator stands in for Azure). Uses the repository's shared CA (.local/ca) and a
 * throw-away state directory; writes no stack.json. Prints `BENCH_EMULATOR_READY {json}` when listening. An optional
 * second argument overrides the emulator's timings (JSON, e.g. `{"provisioningStepMs":500}`).
 *
 *   tsx bench/lib/emulatorProcess.ts <stateDir> [timingsJson]
 */
import path from 'node:path';
import { startEmulator } from '../../emulator/src/server.js';

const stateDir = process.argv[2];
if (!stateDir) {
  console.error('usage: tsx bench/lib/emulatorProcess.ts <stateDir> [timingsJson]');
  process.exit(2);
}

const emulator = await startEmulator({
  port: 0,
  stateDir: path.resolve(stateDir),
  caDir: path.resolve('.local/ca'),
  reset: true,
  quiet: true,
  // The state file is throw-away here, and writing it serialises the whole state: at 20,000 groups a write every
  // 50 ms (the default) would keep the emulator busy and make seeding quadratic.
  stateFlushDelayMs: 30_000,
  ...(process.argv[3] ? { timings: JSON.parse(process.argv[3]) as Record<string, number> } : {}),
});
console.log(
  `BENCH_EMULATOR_READY ${JSON.stringify({ url: emulator.url, port: emulator.port, stack: emulator.stack, pageSize: emulator.options.pageSize, timings: emulator.options.timings })}`,
);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await emulator.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
