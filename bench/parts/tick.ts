/**
 * Part `tick`: one reconcile tick against N watched groups (tagged `ip-secret=<its secret>`, secrets in sync),
 * compared with the one-sidecar-per-group approach it replaces. Azurite and the emulator run as child processes;
 * the tick runs in this process through the real adapters and composition, so this process's CPU time and
 * memory are the tick's.
 */
import path from 'node:path';
import { startAzurite } from '../../scripts/lib/localStack.js';
import { azuriteConnectionString, localStackAppSettings } from '../../scripts/lib/sampleConfig.js';
import { readyLine, startService } from '../../scripts/lib/services.js';
import { createRuntime } from '../../src/composition.js';
import { loadSettings } from '../../src/config/settings.js';
import type { BenchPart } from '../lib/benchPart.js';
import { controlClient } from '../lib/emulatorControl.js';
import { textTable } from '../lib/figures.js';
import {
  SIDECAR_PER_GROUP_PER_MINUTE,
  measureTick,
  seedGroups,
  summarise,
  type GroupLayout,
  type SizeReport,
  type TickMeasurement,
} from './tickMeasure.js';

interface EmulatorReady {
  url: string;
  port: number;
  stack: Record<string, string>;
  pageSize: { containerGroups: number; secrets: number };
}

export const tickPart: BenchPart = {
  name: 'tick',
  summary: 'one reconcile tick over N watched groups, against one sidecar per group',
  options: {
    sizes: { default: '100,300,1000', help: 'group counts, comma-separated' },
    runs: { default: '5', help: 'steady-state ticks per size' },
  },
  async run({ root, tmp, args, log }) {
    const sizes = args['sizes']!.split(',')
      .map((s) => Number(s.trim()))
      .filter((n) => Number.isInteger(n) && n > 0)
      .sort((a, b) => a - b);
    const runs = Math.max(1, Number(args['runs']) || 5);
    const quiet = () => {};
    const [azurite, emulator] = await Promise.all([
      startAzurite({ rootDir: root, onLine: quiet }),
      startService<EmulatorReady>({
        name: 'emulator',
        command: process.execPath,
        args: ['--import', 'tsx', 'bench/lib/emulatorProcess.ts', path.join(tmp, 'emulator')],
        cwd: root,
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
        caCertPath: process.env['NODE_EXTRA_CA_CERTS']!,
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
      log(`${n} groups seeded in ${Date.now() - t0} ms; sync tick… `);
      const sync = await measureTick(runtime, control);
      if (sync.result.errors.length > 0)
        throw new Error(`sync tick failed: ${JSON.stringify(sync.result.errors.slice(0, 3))}`);
      log(`${sync.result.counts.writes} secrets written; ${runs} ticks… `);
      const measured: TickMeasurement[] = [];
      for (let i = 0; i < runs; i++) measured.push(await measureTick(runtime, control));
      const report = summarise(n, layout.resourceGroups.length, sync, measured);
      reports.push(report);
      log(`median ${report.tick.wallMsMedian.toFixed(0)} ms\n`);
    }
    return {
      ok: true,
      figures: {
        setup: {
          resourceGroups: layout.resourceGroups,
          groupPageSize: emu.pageSize.containerGroups,
          secretPageSize: emu.pageSize.secrets,
          runsPerSize: runs,
          schedule: 'one tick per minute (RECONCILE_SCHEDULE default 0 * * * * *)',
          sidecarPerGroupPerMinute: SIDECAR_PER_GROUP_PER_MINUTE,
        },
        sizes: reports,
      },
      table: table(reports),
    };
  },
};

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
  return textTable(rows);
}
