/**
 * Part `sidecar`: the one-sidecar-per-group approach `reconcile` replaces, measured instead of assumed. Runs the
 * sidecar's own script (bench/sidecar/ip-monitor.sh) with Azure's CLI (Debian azure-cli 2.45) against the emulator,
 * one iteration at a time (ONCE=1): steady iterations (the IP has not changed: read the group, read the secret)
 * and writing ones (the platform moved the group first: read, read, write). Each iteration is what one sidecar
 * does for one group in one minute. The tick part reads the steady figures back (sidecarPerGroupPerMinute).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readyLine, startService } from '../../scripts/lib/services.js';
import {
  AZURE_CLI_INSTALL_HINT,
  azureCliEnvironment,
  loginToEmulator,
  probeAzureCli,
} from '../lib/azureCli.js';
import type { BenchPart } from '../lib/benchPart.js';
import { controlClient, type Control } from '../lib/emulatorControl.js';
import { round, textTable } from '../lib/figures.js';
import { startLocalhostProxy, type LocalhostProxy } from '../lib/localhostProxy.js';
import {
  GNU_TIME,
  runIteration,
  summariseKind,
  writeAzShim,
  type IterationKind,
  type IterationMeasurement,
  type IterationSetup,
  type KindSummary,
} from './sidecarMeasure.js';

interface EmulatorReady {
  url: string;
  stack: Record<string, string>;
}

const RESOURCE_GROUP = 'rg-sidecar';
const GROUPS = ['svc-1', 'svc-2', 'svc-3'];
const VAULT = 'kv-apps';
const SUBNET =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-sidecar/subnets/aci';

/** What the tick part compares one reconcile tick with: one sidecar, one group, one minute, nothing changed. */
export interface SidecarPerGroupPerMinute {
  processes: number;
  cpuSeconds: number;
  calls: number;
  containers: number;
  peakRssMb: number;
}

export const sidecarPart: BenchPart = {
  name: 'sidecar',
  summary: "the IP-monitor sidecar it replaces, run with Azure's CLI against the emulator",
  options: {
    iterations: { default: '20', help: 'steady sidecar iterations (IP unchanged: two reads)' },
    writes: { default: '10', help: 'writing sidecar iterations (the IP moved first: two reads and a write)' },
  },
  async run({ root, tmp, args, log }) {
    const steady = Math.max(1, Number(args['iterations']) || 20);
    const writes = Math.max(1, Number(args['writes']) || 10);
    const cli = probeAzureCli();
    if (!cli.ok) throw new Error(`Azure's CLI is needed: ${cli.reason}; ${AZURE_CLI_INSTALL_HINT}.`);
    if (!fs.existsSync(GNU_TIME))
      throw new Error(`${GNU_TIME} is needed: install the Debian package "time".`);
    const bench = await startSidecarBench(root, tmp, cli.path);
    try {
      log(`az ${cli.version} (${cli.path}); first iteration per group (creates the secrets, not counted)… `);
      for (const [i, group] of GROUPS.entries()) {
        const first = await runIteration(bench.setup, -1 - i, 'writing', group, bench.groupEnv(group));
        if (first.exitCode !== 0) throw new Error(`the sidecar's first iteration failed: ${first.log}`);
      }
      log(`${steady} steady and ${writes} writing iterations… `);
      // CPU seconds of a process rise a little when others share the cores: the load says how busy it was.
      const loadBefore = os.loadavg()[0]!;
      const { runs, problems } = await measureIterations(bench, schedule(steady, writes));
      log(`done\n`);
      for (const p of problems) log(`  wrong: ${p}\n`);
      const summary = {
        steady: summariseKind(runs.filter((r) => r.kind === 'steady')),
        writing: summariseKind(runs.filter((r) => r.kind === 'writing')),
      };
      return {
        ok: problems.length === 0,
        figures: {
          setup: {
            azureCli: cli.version,
            azPath: cli.path,
            script: 'bench/sidecar/ip-monitor.sh (ONCE=1, one iteration = one group for one minute)',
            measuredWith: `${GNU_TIME} per az process (shim first on PATH) and around the whole script`,
            groups: GROUPS.length,
            loadAverage1m: { before: round(loadBefore, 2), after: round(os.loadavg()[0]!, 2) },
          },
          perGroupPerMinute: perGroupPerMinute(summary.steady),
          perGroupPerMinuteWhenWriting: perGroupPerMinute(summary.writing),
          ...summary,
          problems,
        },
        table: table(summary),
      };
    } finally {
      await bench.proxy.close();
    }
  },
};

interface SidecarBench {
  setup: IterationSetup;
  control: Control;
  proxy: LocalhostProxy;
  /** The script's variables for one group (its secret is `{group}-ip` in kv-apps). */
  groupEnv(group: string): Record<string, string>;
}

/** The emulator (own process), groups seeded, an az profile logged in with its managed identity, the az shim. */
async function startSidecarBench(root: string, tmp: string, realAz: string): Promise<SidecarBench> {
  const emulator = await startService<EmulatorReady>({
    name: 'emulator',
    command: process.execPath,
    args: ['--import', 'tsx', 'bench/lib/emulatorProcess.ts', path.join(tmp, 'emulator')],
    cwd: root,
    ready: readyLine<EmulatorReady>('BENCH_EMULATOR_READY'),
    onLine: () => {},
    readyTimeoutMs: 60_000,
  });
  const stack = emulator.ready.stack;
  const control = controlClient(emulator.ready.url);
  const profileEnv = azureCliEnvironment({
    configDir: path.join(tmp, 'az-config'),
    caCertPath: stack['caCertPath']!,
    msiEndpoint: stack['msiEndpoint']!,
  });
  await loginToEmulator(profileEnv, 'BenchEmulator', stack['armEndpoint']!);
  await seed(control);
  const proxy = await startLocalhostProxy();
  const setup: IterationSetup = {
    scriptPath: path.join(root, 'bench/sidecar/ip-monitor.sh'),
    // The vault's name resolves through the proxy; ARM and the identity endpoint (127.0.0.1) go direct.
    env: { ...profileEnv, HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' },
    shimDir: path.join(tmp, 'shim'),
    workDir: tmp,
    control,
  };
  writeAzShim(setup.shimDir, realAz);
  const vaultUrl = stack['keyVaultUrlTemplate']!.replace('{vault}', VAULT);
  return {
    setup,
    control,
    proxy,
    groupEnv: (group) => ({
      RESOURCE_GROUP,
      GROUP_NAME: group,
      VAULT_NAME: VAULT,
      SECRET_NAME: `${group}-ip`,
      VAULT_URL: vaultUrl,
    }),
  };
}

/** Runs the iterations in order, round-robin over the groups; a writing one moves its group first. */
async function measureIterations(
  bench: SidecarBench,
  kinds: IterationKind[],
): Promise<{ runs: IterationMeasurement[]; problems: string[] }> {
  const runs: IterationMeasurement[] = [];
  const problems: string[] = [];
  for (const [k, kind] of kinds.entries()) {
    const group = GROUPS[k % GROUPS.length]!;
    if (kind === 'writing') await moveGroup(bench.control, group);
    const measured = await runIteration(bench.setup, k, kind, group, bench.groupEnv(group));
    problems.push(...(await check(bench.control, measured)));
    runs.push(measured);
  }
  return { runs, problems };
}

/** `steady` and `writes` iterations, the writing ones spread evenly among the steady ones. */
function schedule(steady: number, writes: number): IterationKind[] {
  const total = steady + writes;
  return Array.from({ length: total }, (_, k) =>
    Math.floor(((k + 1) * writes) / total) > Math.floor((k * writes) / total) ? 'writing' : 'steady',
  );
}

async function seed(control: Control): Promise<void> {
  const res = await control.call('POST', '/_emulator/containerGroups/seed', {
    resourceGroup: RESOURCE_GROUP,
    count: GROUPS.length,
    namePrefix: 'svc',
    subnetIds: [SUBNET],
    // The sidecar never calls the containers: no listeners needed.
    listen: false,
  });
  if (res.status !== 201) throw new Error(`seeding failed: ${res.status} ${JSON.stringify(res.body)}`);
}

/** The platform moves the group to another host (the emulator's maintenance), so its IP changes. */
async function moveGroup(control: Control, group: string): Promise<void> {
  const res = await control.call('POST', '/_emulator/maintenance', {
    resourceGroup: RESOURCE_GROUP,
    name: group,
  });
  if (res.status !== 200)
    throw new Error(`maintenance of ${group} failed: ${res.status} ${JSON.stringify(res.body)}`);
}

/** What the iteration must have done: exit 0, the secret holds the group's IP, written only when it moved. */
async function check(control: Control, m: IterationMeasurement): Promise<string[]> {
  const groups = await control.call<{ value: { resourceGroup: string; name: string; ip: string | null }[] }>(
    'GET',
    '/_emulator/containerGroups',
  );
  const secrets = await control.call<{ value: { name: string; value?: string }[] }>(
    'GET',
    `/_emulator/vaults/${VAULT}/secrets?values=true`,
  );
  const ip = groups.body.value.find((g) => g.resourceGroup === RESOURCE_GROUP && g.name === m.group)?.ip;
  const secret = secrets.body.value.find((s) => s.name === `${m.group}-ip`)?.value;
  const wrote = m.calls['SetSecret'] ?? 0;
  const problems: string[] = [];
  if (m.exitCode !== 0) problems.push(`${m.group}: the script exited ${m.exitCode}: ${m.log}`);
  if (!ip || secret !== ip)
    problems.push(`${m.group}: secret ${secret ?? 'missing'} but the group's IP is ${ip}`);
  if (wrote !== (m.kind === 'writing' ? 1 : 0))
    problems.push(`${m.group}: ${m.kind} iteration wrote ${wrote} times`);
  return problems;
}

function perGroupPerMinute(s: KindSummary): SidecarPerGroupPerMinute {
  return {
    processes: s.azProcesses.median,
    cpuSeconds: s.azCpuSeconds.median,
    calls: s.callsTotal.median,
    // Not measured: the sidecar runs in a container of its own beside each group.
    containers: 1,
    peakRssMb: s.peakRssMb.median,
  };
}

/**
 * The steady sidecar's cost per group per minute, read back from bench/results/latest.json (parsed), or undefined
 * when the sidecar part has not run or saw a wrong outcome (the tick part then keeps its assumed figures).
 */
export function sidecarPerGroupPerMinute(latestJson: unknown): SidecarPerGroupPerMinute | undefined {
  type Stored = { ok?: boolean; perGroupPerMinute?: Partial<SidecarPerGroupPerMinute> };
  const part = (latestJson as { parts?: { sidecar?: Stored } } | null)?.parts?.sidecar;
  // A run that saw a wrong outcome (the script failed, a secret not repaired) measured something else.
  if (part?.ok === false) return undefined;
  const figures = part?.perGroupPerMinute;
  if (!figures) return undefined;
  const keys = ['processes', 'cpuSeconds', 'calls', 'containers', 'peakRssMb'] as const;
  if (!keys.every((k) => typeof figures[k] === 'number' && Number.isFinite(figures[k]))) return undefined;
  return Object.fromEntries(keys.map((k) => [k, figures[k]])) as unknown as SidecarPerGroupPerMinute;
}

function table(summary: Record<IterationKind, KindSummary>): string {
  const rows: string[][] = [
    [
      'iteration (one group, one minute)',
      'runs',
      'az processes',
      'az CPU-s median (p95)',
      'script CPU-s median (p95)',
      'peak RSS MB median (max)',
      'wall s median (p95)',
      'Azure calls',
      'token requests',
    ],
  ];
  for (const [kind, s] of Object.entries(summary)) {
    rows.push([
      kind === 'steady' ? 'steady (IP unchanged)' : 'writing (IP moved)',
      String(s.iterations),
      `${s.azProcesses.median} (p95 ${s.azProcesses.p95})`,
      `${s.azCpuSeconds.median.toFixed(2)} (${s.azCpuSeconds.p95.toFixed(2)})`,
      `${s.scriptCpuSeconds.median.toFixed(2)} (${s.scriptCpuSeconds.p95.toFixed(2)})`,
      `${s.peakRssMb.median.toFixed(1)} (${s.peakRssMb.max.toFixed(1)})`,
      `${s.wallSeconds.median.toFixed(2)} (${s.wallSeconds.p95.toFixed(2)})`,
      `${s.callsTotal.median} (${Object.entries(s.calls)
        .map(([op, c]) => `${op} ${c}`)
        .join(', ')})`,
      String(s.tokenRequests.median),
    ]);
  }
  return textTable(rows);
}
