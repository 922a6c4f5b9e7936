/**
 * Notices when whoever launched this script goes away without telling it. `npm start` runs
 * `npm → sh -c "npm run build && tsx scripts/start.ts" → tsx → node`; a SIGTERM sent to npm alone is forwarded
 * to `sh`, which dies without forwarding it, and `tsx` then keeps this process alive as an orphan. Watching
 * the chain of ancestors up to npm turns that into a normal shutdown. Linux only (reads /proc); elsewhere it
 * watches the direct parent.
 */
import fs from 'node:fs';
import { procStatFields } from './procStat.js';

function parentOf(pid: number): number | undefined {
  // Field 4: the parent's pid.
  const ppid = Number(procStatFields(pid)?.[1]);
  return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The ancestors to watch: up to and including the nearest `npm` process, or just the parent. */
export function launcherChain(maxDepth = 4): number[] {
  const chain: number[] = [];
  let pid: number | undefined = process.ppid;
  for (let depth = 0; pid !== undefined && pid > 1 && depth < maxDepth; depth++) {
    chain.push(pid);
    if (/(^|[/\s])npm(-cli\.js)?(\s|$)/.test(commandLine(pid))) return chain;
    pid = parentOf(pid);
  }
  return chain.slice(0, 1);
}

/** Calls `onGone` (once) when a process of the launcher chain exits. Returns a function that stops watching. */
export function watchLauncher(onGone: (pid: number) => void, intervalMs = 1000): () => void {
  const chain = launcherChain();
  let fired = false;
  const timer = setInterval(() => {
    if (fired) return;
    const gone = chain.find((pid) => !alive(pid));
    if (gone !== undefined) {
      fired = true;
      onGone(gone);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
