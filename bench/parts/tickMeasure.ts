/**
 * Measuring one reconcile tick: the real domain `reconcile` with the real adapters and composition
 * (src/composition.ts), in this process, against an emulator in another process. Per tick: wall time, calls to
 * ARM and Key Vault (from the emulator's request log), CPU time of this process (process.cpuUsage) and the peak
 * RSS above the level before the tick (sampled every few milliseconds).
 *
 * And the sidecar it replaces (the figures): per watched group, every minute, one `az container show`
 * and one `az keyvault secret show` — two CLI processes of about one CPU-second each and two ARM/Key Vault calls.
 */
import type { AppRuntime } from '../../src/composition.js';
import { azureCalls, requestLog, sum, type Control } from '../lib/emulatorControl.js';
import { median, round } from '../lib/figures.js';
import { mapLimit } from '../../src/domain/concurrency.js';
import { budgetFrom } from '../../src/domain/deps.js';
import type { ReconcileResult } from '../../src/domain/model.js';
import { silentLogger } from '../../src/domain/ports.js';
import { reconcile } from '../../src/domain/reconcile.js';

/** The sidecar, per watched group per minute (issue 5: "two CLI processes and about 2 CPU-seconds"). */
export const SIDECAR_PER_GROUP_PER_MINUTE = Object.freeze({
  processes: 2,
  cpuSeconds: 2,
  /** `az container show` (ARM GET) + `az keyvault secret show` (Key Vault GET); a set only when it changed. */
  calls: 2,
  containers: 1,
});

export interface GroupLayout {
  resourceGroups: string[];
  /** Groups per emulated /24 subnet (Azure's /24 holds 251). */
  perSubnet: number;
  subnetPrefix: string;
  subscriptionId: string;
}

/** Group k (1-based) → its resource group, name, secret and subnet: round-robin over the resource groups. */
export function groupAt(layout: GroupLayout, k: number) {
  const rgIndex = (k - 1) % layout.resourceGroups.length;
  const subnet = `${layout.subnetPrefix}-${Math.floor((k - 1) / layout.perSubnet)}`;
  return {
    resourceGroup: layout.resourceGroups[rgIndex]!,
    name: `svc-${k}`,
    secretName: `svc-${k}-ip`,
    subnetId: `/subscriptions/${layout.subscriptionId}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-bench/subnets/${subnet}`,
  };
}

/**
 * Seeds groups `from..to` (running at once, tagged `ip-secret=svc-{k}-ip`), one control call per group because
 * each carries its own tag. `listen: false`: they get IPs but open no sockets (nothing calls them here).
 */
export async function seedGroups(
  control: Control,
  layout: GroupLayout,
  from: number,
  to: number,
): Promise<void> {
  const ks = Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
  const results = await mapLimit(ks, 8, async (k) => {
    const g = groupAt(layout, k);
    const res = await control.call<{ created: unknown[]; skipped: string[] }>(
      'POST',
      '/_emulator/containerGroups/seed',
      {
        resourceGroup: g.resourceGroup,
        count: 1,
        namePrefix: 'svc',
        startIndex: k,
        subnetId: g.subnetId,
        tags: { 'ip-secret': g.secretName },
        listen: false,
      },
    );
    if (res.status !== 201)
      throw new Error(`seed ${g.resourceGroup}/${g.name}: ${res.status} ${JSON.stringify(res.body)}`);
  });
  const failed = results.find((r) => !r.ok);
  if (failed && !failed.ok) throw failed.error;
}

export interface TickMeasurement {
  wallMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  cpuMs: number;
  /** Peak RSS during the tick minus RSS just before it. */
  rssPeakDeltaBytes: number;
  calls: Record<string, number>;
  callsTotal: number;
  result: ReconcileResult;
}

/** One reconcile tick, measured. */
export async function measureTick(runtime: AppRuntime, control: Control): Promise<TickMeasurement> {
  const since = (await requestLog(control)).lastSeq;
  const deps = runtime.deps(silentLogger);
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > rssPeak) rssPeak = rss;
  }, 2);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let result: ReconcileResult;
  try {
    result = await reconcile(deps, budgetFrom(deps.clock, runtime.settings.reconcileBudgetSeconds));
  } finally {
    clearInterval(sampler);
  }
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  const calls = azureCalls(await requestLog(control, since));
  return {
    wallMs,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssPeakDeltaBytes: rssPeak - rssBefore,
    calls,
    callsTotal: sum(calls),
    result,
  };
}

export interface SizeReport {
  groups: number;
  resourceGroups: number;
  /** The first tick after seeding: every new group's secret written. */
  syncTick: { wallMs: number; callsTotal: number; calls: Record<string, number>; writes: number };
  /** Steady state (nothing stale), `runs` ticks. */
  tick: {
    runs: number;
    wallMsMedian: number;
    wallMsMin: number;
    wallMsMax: number;
    cpuMsMedian: number;
    rssPeakDeltaMBMedian: number;
    calls: Record<string, number>;
    callsTotal: number;
    writes: number;
    errors: number;
  };
  /** One tick per minute (the default schedule) against one sidecar per group. */
  perMinute: {
    reconcile: { calls: number; cpuSeconds: number; processes: number; containers: number };
    sidecar: { calls: number; cpuSeconds: number; processes: number; containers: number };
    ratio: { calls: number; cpuSeconds: number };
  };
}

export function summarise(
  groups: number,
  resourceGroups: number,
  sync: TickMeasurement,
  runs: TickMeasurement[],
): SizeReport {
  const last = runs[runs.length - 1]!;
  const calls = last.calls;
  for (const r of runs)
    if (JSON.stringify(r.calls) !== JSON.stringify(calls))
      throw new Error(
        `calls differ between steady-state ticks: ${JSON.stringify(r.calls)} vs ${JSON.stringify(calls)}`,
      );
  const cpuMsMedian = median(runs.map((r) => r.cpuMs));
  const sidecar = {
    calls: groups * SIDECAR_PER_GROUP_PER_MINUTE.calls,
    cpuSeconds: groups * SIDECAR_PER_GROUP_PER_MINUTE.cpuSeconds,
    processes: groups * SIDECAR_PER_GROUP_PER_MINUTE.processes,
    containers: groups * SIDECAR_PER_GROUP_PER_MINUTE.containers,
  };
  const reconcileMinute = {
    calls: last.callsTotal,
    cpuSeconds: cpuMsMedian / 1000,
    processes: 0,
    containers: 0,
  };
  return {
    groups,
    resourceGroups,
    syncTick: {
      wallMs: round(sync.wallMs),
      callsTotal: sync.callsTotal,
      calls: sync.calls,
      writes: sync.result.counts.writes,
    },
    tick: {
      runs: runs.length,
      wallMsMedian: round(median(runs.map((r) => r.wallMs))),
      wallMsMin: round(Math.min(...runs.map((r) => r.wallMs))),
      wallMsMax: round(Math.max(...runs.map((r) => r.wallMs))),
      cpuMsMedian: round(cpuMsMedian),
      rssPeakDeltaMBMedian: round(median(runs.map((r) => r.rssPeakDeltaBytes)) / (1024 * 1024), 2),
      calls,
      callsTotal: last.callsTotal,
      writes: Math.max(...runs.map((r) => r.result.counts.writes)),
      errors: Math.max(...runs.map((r) => r.result.errors.length)),
    },
    perMinute: {
      reconcile: reconcileMinute,
      sidecar,
      ratio: {
        calls: round(sidecar.calls / reconcileMinute.calls),
        cpuSeconds: round(sidecar.cpuSeconds / (cpuMsMedian / 1000), 0),
      },
    },
  };
}
