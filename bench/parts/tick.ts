/**
 * Part `tick`: the reconcile tick over N watched groups (10 resource groups, 2 vaults: tickFleet.ts), measured in
 * a process of its own (bench/lib/tickWorker.ts) against the emulator, on loopback and under a model of Azure's
 * per-call latency (bench/lib/latencyModel.ts). For each size and latency:
 *  - steady: nothing stale, a warm process (the secret mirror remembers the last audit);
 *  - 1 % stale: 1 % of the groups moved to a new IP by platform maintenance just before the tick;
 *  - audit: the full vault listing a cold instance makes, and a warm one every `reconcile.secretAuditSeconds`.
 * Calls are counted by operation in the emulator's request log; CPU and memory are the tick process's own.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startAzurite } from '../../scripts/lib/localStack.js';
import { azuriteConnectionString, localStackAppSettings } from '../../scripts/lib/sampleConfig.js';
import { readyLine, startService } from '../../scripts/lib/services.js';
import type { BenchPart } from '../lib/benchPart.js';
import { azureCalls, controlClient, requestLog, sum, type Control } from '../lib/emulatorControl.js';
import { cpuMsOf, median, round } from '../lib/figures.js';
import { AZURE_LATENCY_MODEL, applyLatencyModel } from '../lib/latencyModel.js';
import type { TickAnswer, TickFigures, TickRequest } from '../lib/tickWorker.js';
import { fleetAppsConfig, fleetOf, moveGroups, seedFleet, type Fleet } from './tickFleet.js';
import { perMinute, tickTable, type ScenarioFigures, type SizeFigures } from './tickReport.js';

interface EmulatorReady {
  url: string;
  stack: Record<string, string>;
  pageSize: { containerGroups: number; secrets: number };
}

const STALE_SHARE = 0.01;

/** What a scenario ticks with: the emulator's control API, the tick process, the emulator's process. */
interface TickRig {
  control: Control;
  child: ChildProcess;
  emulatorPid: number;
}

/**
 * The tick process: compiled to plain JS first (bench/tsconfig.worker.json) and run by plain node, as the
 * Functions host runs the built app — a TypeScript loader in the process would add its own memory to the figures.
 * Forked once; ticks on request.
 */
function startWorker(root: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; rssMB: number }> {
  execFileSync(
    process.execPath,
    [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'bench/tsconfig.worker.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  // BENCH_TICK_CPU_PROF=<dir>: a V8 CPU profile of the tick process (open it in Chrome DevTools or speedscope).
  const profileDir = process.env.BENCH_TICK_CPU_PROF;
  const child = fork(path.join(root, '.local/bench-worker/bench/lib/tickWorker.js'), [], {
    execArgv: ['--expose-gc', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m: TickAnswer) =>
      'ready' in m ? resolve({ child, rssMB: m.rssMB }) : reject(new Error(JSON.stringify(m))),
    );
    child.once('exit', (code) => reject(new Error(`tick worker exited ${code}`)));
  });
}

function askTick(child: ChildProcess, audit: boolean): Promise<TickFigures> {
  return new Promise((resolve, reject) => {
    child.once('message', (m: TickAnswer) =>
      'tick' in m ? resolve(m.tick) : reject(new Error('failed' in m ? m.failed : 'unexpected answer')),
    );
    child.send({ op: 'tick', audit } satisfies TickRequest);
  });
}

/** `runs` ticks of one scenario, each with the calls it made. */
async function scenario(
  { control, child, emulatorPid }: TickRig,
  groups: number,
  runs: number,
  before: (run: number) => Promise<void>,
  audit: boolean,
): Promise<ScenarioFigures> {
  const ticks: Array<TickFigures & { calls: Record<string, number>; emulatorCpuMs?: number }> = [];
  for (let run = 0; run < runs; run++) {
    await before(run);
    const since = (await requestLog(control)).lastSeq;
    const emulatorCpu0 = cpuMsOf(emulatorPid);
    const t = await askTick(child, audit);
    const emulatorCpu1 = cpuMsOf(emulatorPid);
    if (t.errors.length) throw new Error(`tick errors: ${t.errors.join('; ')}`);
    ticks.push({
      ...t,
      calls: azureCalls(await requestLog(control, since)),
      ...(emulatorCpu0 !== undefined && emulatorCpu1 !== undefined
        ? { emulatorCpuMs: emulatorCpu1 - emulatorCpu0 }
        : {}),
    });
  }
  const emulatorCpu = ticks.flatMap((t) => (t.emulatorCpuMs === undefined ? [] : [t.emulatorCpuMs]));
  const last = ticks.at(-1)!;
  const callsTotal = sum(last.calls);
  return {
    runs,
    wallMsMedian: round(median(ticks.map((t) => t.wallMs))),
    wallMsMin: round(Math.min(...ticks.map((t) => t.wallMs))),
    wallMsMax: round(Math.max(...ticks.map((t) => t.wallMs))),
    cpuMsMedian: round(median(ticks.map((t) => t.cpuMs))),
    ...(emulatorCpu.length ? { emulatorCpuMsMedian: round(median(emulatorCpu)) } : {}),
    rssBeforeMB: round(median(ticks.map((t) => t.rssBeforeMB))),
    rssPeakMB: round(Math.max(...ticks.map((t) => t.rssPeakMB))),
    rssDeltaMB: round(median(ticks.map((t) => t.rssPeakMB - t.rssBeforeMB))),
    heapAfterGcMB: round(median(ticks.map((t) => t.heapAfterGcMB))),
    calls: last.calls,
    callsTotal,
    callsPer100Groups: round((callsTotal / groups) * 100, 2),
    writes: Number(last.counts['writes'] ?? 0),
    secretReads: Number(last.counts['secretReads'] ?? 0),
  };
}

async function measureSize(rig: TickRig, fleet: Fleet, n: number, runs: number, log: (s: string) => void) {
  const models: SizeFigures['models'] = {};
  const { control, child } = rig;
  for (const latency of ['loopback', 'azure'] as const) {
    const removeModel = latency === 'azure' ? await applyLatencyModel(control) : async () => {};
    try {
      log(`  ${latency}: steady… `);
      const steady = await scenario(rig, n, runs, async () => {}, false);
      log('1 % stale… ');
      const stale = await scenario(
        rig,
        n,
        runs,
        async (run) => void (await moveGroups(control, fleet, n, STALE_SHARE, run)),
        false,
      );
      log('audit… ');
      const audit = await scenario(rig, n, Math.min(runs, 2), async () => {}, true);
      // The audit's own mirror is thrown away: one more steady tick keeps the process as warm as before.
      await askTick(child, false);
      models[latency] = { steady, stale1: stale, audit };
      log(
        `steady ${steady.wallMsMedian.toFixed(0)} ms, stale ${stale.wallMsMedian.toFixed(0)} ms, audit ${audit.wallMsMedian.toFixed(0)} ms\n`,
      );
    } finally {
      await removeModel();
    }
  }
  return models;
}

export const tickPart: BenchPart = {
  name: 'tick',
  summary: 'the reconcile tick over N groups (10 resource groups, 2 vaults), loopback and Azure-like latency',
  options: {
    sizes: { default: '1000,5000,20000', help: 'group counts, comma-separated' },
    runs: { default: '3', help: 'ticks per scenario' },
  },
  async run({ root, tmp, args, caCertPath, log }) {
    const sizes = args['sizes']!.split(',')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0)
      .sort((a, b) => a - b);
    const runs = Math.max(1, Number(args['runs']) || 3);
    const quiet = () => {};
    const [azurite, emulator] = await Promise.all([
      startAzurite({ rootDir: root, onLine: quiet }),
      startService<EmulatorReady>({
        name: 'emulator',
        command: process.execPath,
        args: ['--import', 'tsx', 'bench/lib/emulatorProcess.ts', `${tmp}/emulator`],
        cwd: root,
        ready: readyLine<EmulatorReady>('BENCH_EMULATOR_READY'),
        onLine: quiet,
        readyTimeoutMs: 60_000,
      }),
    ]);
    const emu = emulator.ready;
    const control = controlClient(emu.url);
    const fleet = fleetOf(emu.stack['subscriptionId']!, emu.stack['keyVaultUrlTemplate']!);
    const env = {
      ...process.env,
      ...localStackAppSettings(
        {
          subscriptionId: fleet.subscriptionId,
          keyVaultUrlTemplate: emu.stack['keyVaultUrlTemplate']!,
          armEndpoint: emu.stack['armEndpoint']!,
          identityEndpoint: emu.stack['identityEndpoint']!,
          identityHeader: emu.stack['identityHeader']!,
          caCertPath,
          storageConnectionString: azuriteConnectionString(azurite.ready),
        },
        { appsConfig: fleetAppsConfig(fleet) },
      ),
    };
    const worker = await startWorker(root, env);
    try {
      const reports: SizeFigures[] = [];
      let seeded = 0;
      for (const n of sizes) {
        const t0 = Date.now();
        await seedFleet(control, fleet, seeded + 1, n);
        seeded = n;
        log(
          `${n} groups seeded in ${((Date.now() - t0) / 1000).toFixed(0)} s; first tick writes their secrets… `,
        );
        const since = (await requestLog(control)).lastSeq;
        const sync = await askTick(worker.child, false);
        if (sync.errors.length) throw new Error(`sync tick: ${sync.errors.join('; ')}`);
        log(`${sync.counts['writes']} written in ${(sync.wallMs / 1000).toFixed(1)} s\n`);
        const syncCalls = azureCalls(await requestLog(control, since));
        const rig = { control, child: worker.child, emulatorPid: emulator.pid };
        const models = await measureSize(rig, fleet, n, runs, log);
        reports.push({
          groups: n,
          workerStartRssMB: round(worker.rssMB),
          sync: { wallMs: round(sync.wallMs), calls: syncCalls, writes: Number(sync.counts['writes']) },
          models,
        });
      }
      return {
        ok: true,
        figures: {
          setup: {
            resourceGroups: fleet.resourceGroups.length,
            vaults: 2,
            groupPageSize: emu.pageSize.containerGroups,
            secretPageSize: emu.pageSize.secrets,
            runsPerScenario: runs,
            staleShare: STALE_SHARE,
            latencyModel: AZURE_LATENCY_MODEL,
            secretAuditSeconds: 900,
          },
          sizes: reports,
          perMinute: perMinute(reports, root),
        },
        table: tickTable(reports),
      };
    } finally {
      worker.child.send({ op: 'exit' } satisfies TickRequest);
    }
  },
};
