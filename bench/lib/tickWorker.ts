/**
 * The reconcile tick in a process of its own, as the Functions host runs it: the real composition
 * (src/composition.ts) built from the app settings in this process's environment, kept for the life of the process
 * (so the secret mirror lives across ticks as on a warm instance). The parent (bench/parts/tick.ts) asks for ticks
 * over IPC; each answer carries this process's own figures: wall time, CPU time, RSS before the tick and its peak
 * during it (the kernel's high-water mark), and the V8 heap after a full GC (what the tick keeps, not what it churned).
 *
 *   fork('bench/lib/tickWorker.ts', { execArgv: ['--import', 'tsx', '--expose-gc'], env: appSettings })
 *   → { ready, rssMB }   ← { op: 'tick', audit: boolean }   → { tick: TickFigures }
 */
import fs from 'node:fs';
import { installLocalhostResolver } from '../../emulator/src/localhostDns.js';
import { createRuntime } from '../../src/composition.js';
import { loadSettings } from '../../src/config/settings.js';
import { budgetFrom } from '../../src/domain/deps.js';
import { silentLogger } from '../../src/domain/ports.js';
import { reconcile } from '../../src/domain/reconcile.js';
import { SecretMirror } from '../../src/domain/secretMirror.js';

export interface TickFigures {
  wallMs: number;
  cpuMs: number;
  rssBeforeMB: number;
  rssPeakMB: number;
  /** V8 heap in use after a full GC, once the tick is over. */
  heapAfterGcMB: number;
  counts: Record<string, number | undefined>;
  changed: number;
  errors: string[];
}

export type TickRequest = { op: 'tick'; audit: boolean } | { op: 'exit' };
export type TickAnswer = { ready: true; rssMB: number } | { tick: TickFigures } | { failed: string };

const MB = 1024 * 1024;
// The emulated vaults are *.vault.localhost: resolved to loopback as the local host does (emulator/README.md).
installLocalhostResolver();
const runtime = createRuntime(loadSettings(process.env));
const gc = (globalThis as { gc?: () => void }).gc;

async function tick(audit: boolean): Promise<TickFigures> {
  const live = runtime.deps(silentLogger);
  // An audit tick: a mirror that knows nothing, as a cold instance (or a due audit) lists every vault. The
  // process's own mirror is left as it is, so the steady ticks after it measure a warm instance again.
  const deps = audit ? { ...live, secretMirror: new SecretMirror() } : live;
  gc?.();
  const rssBefore = process.memoryUsage.rss();
  const peak = startPeakRss(rssBefore);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  try {
    const result = await reconcile(deps, budgetFrom(deps.clock, runtime.settings.reconcileBudgetSeconds));
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    const rssPeak = peak.read();
    gc?.();
    return {
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      rssBeforeMB: rssBefore / MB,
      rssPeakMB: rssPeak / MB,
      heapAfterGcMB: process.memoryUsage().heapUsed / MB,
      counts: { ...result.counts, throttled: result.throttled },
      changed: result.changed.length,
      errors: result.errors.slice(0, 3).map((e) => `${e.scope} ${e.target}: ${e.message}`),
    };
  } finally {
    peak.stop();
  }
}

/**
 * The process's peak RSS from now on. On Linux, the kernel's own high-water mark (VmHWM in /proc/self/status),
 * reset by writing 5 to /proc/self/clear_refs (man 5 proc): exact, and free, where sampling every 2 ms could miss
 * short peaks and cost the tick about 5 % of its CPU (found in a profile of the tick, issue 15). Elsewhere,
 * sampling.
 */
function startPeakRss(rssBefore: number): { read(): number; stop(): void } {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    const hwm = () => {
      const kB = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
      if (!kB) throw new Error('no VmHWM in /proc/self/status');
      return Number(kB) * 1024;
    };
    hwm();
    return { read: () => Math.max(rssBefore, hwm()), stop: () => {} };
  } catch {
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 2);
    return {
      read: () => Math.max(rssPeak, process.memoryUsage.rss()),
      stop: () => clearInterval(sampler),
    };
  }
}

const send = (answer: TickAnswer) => process.send?.(answer);

process.on('message', (request: TickRequest) => {
  if (request.op === 'exit') process.exit(0);
  tick(request.audit).then(
    (figures) => send({ tick: figures }),
    (e: unknown) => send({ failed: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});
gc?.();
send({ ready: true, rssMB: process.memoryUsage.rss() / MB });
