/**
 * One iteration of the sidecar script (bench/sidecar/ip-monitor.sh, ONCE=1) measured from outside, and the
 * statistics over many. Every az process the script starts goes through a shim first on PATH that runs the real
 * az under GNU time (`/usr/bin/time`, from the Debian package `time`): one line per process with its wall time,
 * user and system CPU seconds and maximum RSS, read from the rusage wait4() returns for it. The script as a whole
 * (bash, the shims and every az) runs under GNU time too. The Azure calls come from the emulator's request log.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { azureCalls, requestLog, sum, type Control } from '../lib/emulatorControl.js';
import { median, percentile, round } from '../lib/figures.js';

export const GNU_TIME = '/usr/bin/time';
const AZ_MARK = 'az-rusage';
const SCRIPT_MARK = 'script-rusage';
/** GNU time's format: elapsed wall s, user CPU s, system CPU s, maximum resident set size in KB. */
const FORMAT = '%e %U %S %M';

export type IterationKind = 'steady' | 'writing';

export interface ProcessReading {
  wallSeconds: number;
  cpuSeconds: number;
  maxRssMb: number;
}

export interface IterationMeasurement {
  kind: IterationKind;
  group: string;
  exitCode: number;
  /** The script's stderr (its log lines, az's errors). */
  log: string;
  wallSeconds: number;
  /** bash, the shims and every az process: the whole iteration's CPU. */
  scriptCpuSeconds: number;
  azProcesses: number;
  /** user + system of the az processes only. */
  azCpuSeconds: number;
  /** The largest az process's maximum RSS. */
  peakRssMb: number;
  /** ARM and Key Vault calls by operation (control API and token requests left out). */
  calls: Record<string, number>;
  callsTotal: number;
  /** Managed-identity token requests (in Azure they go to the local identity endpoint, not to ARM). */
  tokenRequests: number;
}

export interface IterationSetup {
  scriptPath: string;
  /** The environment of the az profile plus the script's own variables. */
  env: NodeJS.ProcessEnv;
  /** The directory holding the `az` shim (put first on PATH). */
  shimDir: string;
  /** Where the readings of this run go. */
  workDir: string;
  control: Control;
}

/** Writes the `az` shim: every az call of the script runs the real az (at `realAz`) under GNU time. */
export function writeAzShim(shimDir: string, realAz: string): void {
  fs.mkdirSync(shimDir, { recursive: true });
  const shim = path.join(shimDir, 'az');
  fs.writeFileSync(
    shim,
    [
      '#!/bin/sh',
      "# The benchmark's az: the real one under GNU time, one reading per process (bench/parts/sidecarMeasure.ts).",
      `exec ${GNU_TIME} --append --output="$SIDECAR_AZ_READINGS" --format="${AZ_MARK} ${FORMAT}" ${realAz} "$@"`,
      '',
    ].join('\n'),
  );
  fs.chmodSync(shim, 0o755);
}

/** Runs the script once for `group` (ONCE=1) and measures it. */
export async function runIteration(
  setup: IterationSetup,
  index: number,
  kind: IterationKind,
  group: string,
  groupEnv: Record<string, string>,
): Promise<IterationMeasurement> {
  const azFile = path.join(setup.workDir, `az-${index}.txt`);
  const scriptFile = path.join(setup.workDir, `script-${index}.txt`);
  const before = await requestLog(setup.control);
  const env = {
    ...setup.env,
    ...groupEnv,
    ONCE: '1',
    PATH: `${setup.shimDir}:${setup.env['PATH'] ?? ''}`,
    SIDECAR_AZ_READINGS: azFile,
  };
  const { code, stderr } = await run(
    GNU_TIME,
    ['--output', scriptFile, '--format', `${SCRIPT_MARK} ${FORMAT}`, 'bash', setup.scriptPath],
    env,
  );
  const after = await requestLog(setup.control, before.lastSeq);
  const az = readings(azFile, AZ_MARK);
  const script = readings(scriptFile, SCRIPT_MARK)[0];
  if (!script) throw new Error(`no reading of the script in ${scriptFile}: ${stderr}`);
  const calls = azureCalls(after);
  return {
    kind,
    group,
    exitCode: code,
    log: stderr.trim(),
    wallSeconds: script.wallSeconds,
    scriptCpuSeconds: script.cpuSeconds,
    azProcesses: az.length,
    azCpuSeconds: round(
      az.reduce((n, r) => n + r.cpuSeconds, 0),
      2,
    ),
    peakRssMb: round(Math.max(0, ...az.map((r) => r.maxRssMb))),
    calls,
    callsTotal: sum(calls),
    tokenRequests: after.counts['ManagedIdentity_GetToken'] ?? 0,
  };
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stderr }));
  });
}

/** The marked lines of a GNU time output file (it also writes "Command exited with non-zero status N" lines). */
function readings(file: string, mark: string): ProcessReading[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith(`${mark} `))
    .map((line) => {
      const [wall, user, system, rssKb] = line
        .slice(mark.length + 1)
        .split(' ')
        .map(Number);
      return {
        wallSeconds: wall ?? Number.NaN,
        cpuSeconds: round((user ?? Number.NaN) + (system ?? Number.NaN), 2),
        maxRssMb: (rssKb ?? Number.NaN) / 1024,
      };
    });
}

/** Median and 95th percentile of one figure. */
export interface Spread {
  median: number;
  p95: number;
  max: number;
}

export interface KindSummary {
  iterations: number;
  azProcesses: Spread;
  azCpuSeconds: Spread;
  scriptCpuSeconds: Spread;
  peakRssMb: Spread;
  wallSeconds: Spread;
  callsTotal: Spread;
  /** Median calls per operation. */
  calls: Record<string, number>;
  tokenRequests: Spread;
}

function spread(values: number[], digits = 2): Spread {
  return {
    median: round(median(values), digits),
    p95: round(percentile(values, 95), digits),
    max: round(Math.max(...values), digits),
  };
}

export function summariseKind(runs: IterationMeasurement[]): KindSummary {
  const operations = [...new Set(runs.flatMap((r) => Object.keys(r.calls)))].sort();
  return {
    iterations: runs.length,
    azProcesses: spread(runs.map((r) => r.azProcesses)),
    azCpuSeconds: spread(runs.map((r) => r.azCpuSeconds)),
    scriptCpuSeconds: spread(runs.map((r) => r.scriptCpuSeconds)),
    peakRssMb: spread(
      runs.map((r) => r.peakRssMb),
      1,
    ),
    wallSeconds: spread(runs.map((r) => r.wallSeconds)),
    callsTotal: spread(runs.map((r) => r.callsTotal)),
    calls: Object.fromEntries(operations.map((op) => [op, median(runs.map((r) => r.calls[op] ?? 0))])),
    tokenRequests: spread(runs.map((r) => r.tokenRequests)),
  };
}
