/** Small statistics and process readings shared by the benchmark parts. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { procStatFields } from '../../scripts/lib/procStat.js';

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Resident set size of another process in MB, from /proc (0 when it has gone). */
export function rssMbOf(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A process's user + system CPU so far in ms, from /proc (fields 14 and 15 of its stat); undefined elsewhere. */
export function cpuMsOf(pid: number): number | undefined {
  const fields = procStatFields(pid);
  if (!fields) return undefined;
  return ((Number(fields[14 - 3]) + Number(fields[15 - 3])) / CLOCK_TICKS_PER_SECOND) * 1000;
}

/** Samples a process's RSS every `everyMs` until stopped; returns the peak seen in MB. */
export function rssSampler(pid: number, everyMs = 100): { stop(): number } {
  let peak = rssMbOf(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMbOf(pid))), everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssMbOf(pid));
    },
  };
}

/** Pads rows of cells into aligned columns (first row: the header). */
export function textTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n');
}

export interface Spread {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** p50 / p95 / p99 / max of unsorted values, rounded to whole units. */
export function spread(values: number[]): Spread {
  const r = (p: number) => Math.round(percentile(values, p));
  return { p50: r(50), p95: r(95), p99: r(99), max: r(100) };
}

export const spreadText = (s: Spread) => `${s.p50} / ${s.p95} / ${s.p99} / ${s.max}`;
