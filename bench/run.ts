/**
 * `npm run bench`: one reconcile tick against 100 / 300 / 1000 watched groups (spread over 3 resource groups,
 * each tagged `ip-secret=<its secret>`, secrets already in sync), compared with the one-sidecar-per-group approach
 * it replaces. Azurite and the emulator run as child processes; the tick runs here, through the real adapters
 * and composition, so this process's CPU time and memory are the tick's. Prints a table and writes
 * bench/results/latest.json. Not a test: nothing passes or fails on speed.
 *
 *   npm run bench [-- --sizes 100,300,1000 --runs 5]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import { ensureCa } from '../emulator/src/core/ca.js';
import { installLocalhostResolver } from '../emulator/src/localhostDns.js';
import { startAzurite } from '../scripts/lib/localStack.js';
import { azuriteConnectionString, localStackAppSettings } from '../scripts/lib/sampleConfig.js';
import { readyLine, startService, stopAllServices } from '../scripts/lib/services.js';
import { createRuntime } from '../src/composition.js';
import { loadSettings } from '../src/config/settings.js';
import {
  SIDECAR_PER_GROUP_PER_MINUTE,
  controlClient,
  measureTick,
  seedGroups,
  summarise,
  type GroupLayout,
  type SizeReport,
  type TickMeasurement,
} from './reconcileTick.js';

const ROOT = path.resolve('.');
const REEXEC_MARKER = 'BENCH_REEXEC';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,300,1000' },
    runs: { type: 'string', default: '5' },
    out: { type: 'string', default: 'bench/results/latest.json' },
  },
});

// Node reads NODE_EXTRA_CA_CERTS only at start: run again with the emulator's CA trusted, as a shell would.
const ca = ensureCa(path.join(ROOT, '.local/ca'));
if (process.env['NODE_EXTRA_CA_CERTS'] !== ca.certPath && !process.env[REEXEC_MARKER]) {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: ca.certPath, [REEXEC_MARKER]: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  await main();
}

interface EmulatorReady {
  url: string;
  port: number;
  stack: Record<string, string>;
  pageSize: { containerGroups: number; secrets: number };
}

async function main(): Promise<void> {
  const sizes = args.sizes
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => a - b);
  const runs = Math.max(1, Number(args.runs) || 5);
  installLocalhostResolver();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aci-bench-'));
  const quiet = () => {};
  const started = Date.now();
  try {
    const [azurite, emulator] = await Promise.all([
      startAzurite({ rootDir: ROOT, onLine: quiet }),
      startService<EmulatorReady>({
        name: 'emulator',
        command: process.execPath,
        args: ['--import', 'tsx', 'bench/emulatorProcess.ts', path.join(tmp, 'emulator')],
        cwd: ROOT,
        ready: readyLine<EmulatorReady>('BENCH_EMULATOR_READY'),
        onLine: quiet,
        readyTimeoutMs: 60_000,
      }),
    ]);
    const emu = emulator.ready;
    const control = controlClient(emu.url);
    const subscriptionId = emu.stack['subscriptionId']!;
    const layout: GroupLayout = {
      resourceGroups: ['rg-bench-1', 'rg-bench-2', 'rg-bench-3'],
      perSubnet: 240,
      subnetPrefix: 'bench',
      subscriptionId,
    };
    const vaultUrl = emu.stack['keyVaultUrlTemplate']!.replace('{vault}', 'kv-apps');
    const appSettings = localStackAppSettings(
      {
        subscriptionId,
        keyVaultUrlTemplate: emu.stack['keyVaultUrlTemplate']!,
        armEndpoint: emu.stack['armEndpoint']!,
        identityEndpoint: emu.stack['identityEndpoint']!,
        identityHeader: emu.stack['identityHeader']!,
        caCertPath: ca.certPath,
        storageConnectionString: azuriteConnectionString(azurite.ready),
      },
      { appsConfig: { apps: [], watch: { resourceGroups: layout.resourceGroups, vaultUrl } } },
    );
    // DefaultAzureCredential reads the managed-identity endpoint from the environment, as in Azure.
    Object.assign(process.env, appSettings);
    const runtime = createRuntime(loadSettings(process.env));

    const reports: SizeReport[] = [];
    let seeded = 0;
    for (const n of sizes) {
      const t0 = Date.now();
      await seedGroups(control, layout, seeded + 1, n);
      seeded = n;
      process.stdout.write(`${n} groups seeded in ${Date.now() - t0} ms; sync tick… `);
      const sync = await measureTick(runtime, control);
      if (sync.result.errors.length > 0)
        throw new Error(`sync tick failed: ${JSON.stringify(sync.result.errors.slice(0, 3))}`);
      process.stdout.write(`${sync.result.counts.writes} secrets written; ${runs} ticks… `);
      const measured: TickMeasurement[] = [];
      for (let i = 0; i < runs; i++) measured.push(await measureTick(runtime, control));
      const report = summarise(n, layout.resourceGroups.length, sync, measured);
      reports.push(report);
      console.log(`median ${report.tick.wallMsMedian.toFixed(0)} ms`);
    }

    const output = {
      generatedAt: new Date().toISOString(),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      machine: { node: process.version, platform: `${os.platform()} ${os.arch()}`, cpus: os.cpus().length },
      setup: {
        resourceGroups: layout.resourceGroups,
        groupPageSize: emu.pageSize.containerGroups,
        secretPageSize: emu.pageSize.secrets,
        runsPerSize: runs,
        schedule: 'one tick per minute (RECONCILE_SCHEDULE default 0 * * * * *)',
        sidecarPerGroupPerMinute: SIDECAR_PER_GROUP_PER_MINUTE,
      },
      sizes: reports,
      durationSeconds: Math.round((Date.now() - started) / 1000),
    };
    console.log('');
    console.log(table(reports));
    const out = path.resolve(args.out);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    // Formatted as the repository's Prettier config wants it, so `npm run lint` stays green after a run.
    const options = (await prettier.resolveConfig(out)) ?? {};
    fs.writeFileSync(out, await prettier.format(JSON.stringify(output), { ...options, parser: 'json' }));
    console.log(`\nwritten to ${path.relative(ROOT, out)} (${output.durationSeconds} s)`);
  } finally {
    await stopAllServices();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function table(reports: SizeReport[]): string {
  const rows: string[][] = [
    [
      'groups',
      'tick ms (median)',
      'CPU ms',
      'peak RSS Δ MB',
      'calls/tick',
      'sidecar calls/min',
      'calls ratio',
      'sidecar CPU-s/min',
      'CPU ratio',
    ],
  ];
  for (const r of reports) {
    rows.push([
      String(r.groups),
      `${r.tick.wallMsMedian.toFixed(0)} (${r.tick.wallMsMin.toFixed(0)}–${r.tick.wallMsMax.toFixed(0)})`,
      r.tick.cpuMsMedian.toFixed(0),
      r.tick.rssPeakDeltaMBMedian.toFixed(1),
      `${r.tick.callsTotal} (${Object.entries(r.tick.calls)
        .map(([op, c]) => `${op.replace('ContainerGroups_ListByResourceGroup', 'list')} ${c}`)
        .join(', ')})`,
      String(r.perMinute.sidecar.calls),
      `${r.perMinute.ratio.calls.toFixed(0)}×`,
      String(r.perMinute.sidecar.cpuSeconds),
      `${r.perMinute.ratio.cpuSeconds.toFixed(0)}×`,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n');
}
