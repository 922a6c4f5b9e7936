/**
 * The tick part's figures: their shape, the terminal table, and the per-minute comparison with one IP-monitor
 * sidecar per group (the sidecar part's measured figures when bench/results/latest.json has them).
 */
import fs from 'node:fs';
import path from 'node:path';
import { round, textTable } from '../lib/figures.js';
import { sidecarPerGroupPerMinute } from './sidecar.js';

export interface ScenarioFigures {
  runs: number;
  wallMsMedian: number;
  wallMsMin: number;
  wallMsMax: number;
  cpuMsMedian: number;
  /**
   * The emulator's CPU during the tick (its pages, TLS and latency timers): "Azure's" work, on the same 2 cores
   * as the tick here and on other machines in Azure. Undefined where /proc is not there to read it.
   */
  emulatorCpuMsMedian?: number;
  /** The tick process's RSS just before the tick (after a GC), and its peak during any run. */
  rssBeforeMB: number;
  rssPeakMB: number;
  rssDeltaMB: number;
  heapAfterGcMB: number;
  calls: Record<string, number>;
  callsTotal: number;
  callsPer100Groups: number;
  writes: number;
  secretReads: number;
}

export interface SizeFigures {
  groups: number;
  workerStartRssMB: number;
  sync: { wallMs: number; calls: Record<string, number>; writes: number };
  models: Partial<
    Record<'loopback' | 'azure', { steady: ScenarioFigures; stale1: ScenarioFigures; audit: ScenarioFigures }>
  >;
}

/** The sidecar per group per minute: measured by the sidecar part, else issue 5's assumption. */
export interface SidecarCost {
  source: string;
  processes: number;
  cpuSeconds: number;
  calls: number;
  containers: number;
  peakRssMb?: number;
}

const ASSUMED_SIDECAR: SidecarCost = {
  source: "assumed (issue 5: 'two CLI processes and about 2 CPU-seconds'); run --part sidecar to measure",
  processes: 2,
  cpuSeconds: 2,
  calls: 2,
  containers: 1,
};

/** The sidecar part's steady per-group-per-minute figures from latest.json, when it has run (and was right). */
export function sidecarCost(root: string): SidecarCost {
  let latest: unknown;
  try {
    latest = JSON.parse(fs.readFileSync(path.join(root, 'bench/results/latest.json'), 'utf8'));
  } catch {
    return ASSUMED_SIDECAR; // no results yet
  }
  const measured = sidecarPerGroupPerMinute(latest);
  if (!measured) return ASSUMED_SIDECAR;
  const at = (latest as { parts: { sidecar: { generatedAt?: string } } }).parts.sidecar.generatedAt;
  return { ...measured, source: `measured (--part sidecar, ${at ?? 'date unknown'})` };
}

/** One tick a minute (the default schedule), with the audit's calls spread over its 15-minute period. */
export function perMinute(reports: SizeFigures[], root: string, auditSeconds = 900) {
  const sidecar = sidecarCost(root);
  return {
    sidecar,
    auditSeconds,
    sizes: reports.map((r) => {
      const m = r.models.azure ?? r.models.loopback!;
      const share = 60 / auditSeconds;
      const calls = m.steady.callsTotal + m.audit.callsTotal * share;
      const cpuSeconds = (m.steady.cpuMsMedian + m.audit.cpuMsMedian * share) / 1000;
      return {
        groups: r.groups,
        reconcile: { calls: round(calls), cpuSeconds: round(cpuSeconds, 3), processes: 0, containers: 0 },
        sidecars: {
          calls: r.groups * sidecar.calls,
          cpuSeconds: round(r.groups * sidecar.cpuSeconds),
          processes: r.groups * sidecar.processes,
          containers: r.groups * sidecar.containers,
        },
        ratio: {
          calls: round((r.groups * sidecar.calls) / calls, 0),
          cpuSeconds: round((r.groups * sidecar.cpuSeconds) / cpuSeconds, 0),
        },
      };
    }),
  };
}

export function tickTable(reports: SizeFigures[]): string {
  const rows = [
    [
      'groups',
      'latency',
      'tick',
      'wall ms median (min–max)',
      'CPU ms',
      'emulator CPU ms',
      'RSS MB before → peak',
      'calls',
      'per 100 groups',
      'writes',
    ],
  ];
  for (const r of reports)
    for (const [latency, m] of Object.entries(r.models))
      for (const [name, s] of Object.entries(m)) {
        const byKind = Object.entries(s.calls)
          .map(([op, c]) => `${op.replace('ContainerGroups_ListByResourceGroup', 'list')} ${c}`)
          .join(', ');
        rows.push([
          String(r.groups),
          latency,
          name,
          `${s.wallMsMedian.toFixed(0)} (${s.wallMsMin.toFixed(0)}–${s.wallMsMax.toFixed(0)})`,
          s.cpuMsMedian.toFixed(0),
          s.emulatorCpuMsMedian?.toFixed(0) ?? '–',
          `${s.rssBeforeMB.toFixed(0)} → ${s.rssPeakMB.toFixed(0)}`,
          `${s.callsTotal} (${byKind})`,
          s.callsPer100Groups.toFixed(2),
          String(s.writes),
        ]);
      }
  return textTable(rows);
}
