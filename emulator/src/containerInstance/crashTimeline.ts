/**
 * The time-derived state of a container: ARM's event and timestamp shapes, and the timeline of a crashing one
 * (restart count, CrashLoopBackOff), computed from timestamps so it needs no timers and survives an emulator
 * restart.
 */
import type { ArmEvent, StoredEvent } from './groupTypes.js';

export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function toArmEvent(e: StoredEvent): ArmEvent {
  return {
    count: e.count,
    firstTimestamp: iso(e.first),
    lastTimestamp: iso(e.last),
    name: e.name,
    message: e.message,
    type: e.type,
  };
}

export interface CrashTimeline {
  restartCount: number;
  running: boolean;
  /** Start of the current run (running) or of the run that exited last. */
  lastStart: number;
  /** The last completed run, if any. */
  previous?: { start: number; exit: number };
  /** A run that terminated and will not be restarted (restartPolicy Never). */
  finished: boolean;
  starts: { count: number; first: number; last: number };
  exits: { count: number; first: number; last: number } | undefined;
  /** When the next (re)start or crash happens. */
  nextChangeAt?: number;
}

/**
 * A crashing container: each run lives a third of `baseMs` (or `runForMs`: a liveness probe's time to kill it),
 * then exits; with restartPolicy Always/OnFailure the platform restarts it after an exponential back-off (base, 2x,
 * 4x ... capped at 32x base), as kubelet does.
 */
export function crashTimeline(
  startedAt: number,
  now: number,
  baseMs: number,
  restarts: boolean,
  runForMs?: number,
): CrashTimeline {
  const base = Math.max(50, baseMs);
  const runMs = runForMs ?? Math.max(20, Math.round(base / 3));
  const backoff = (i: number) => base * Math.min(32, 2 ** i);
  let start = startedAt;
  let k = 0;
  let previous: { start: number; exit: number } | undefined;
  let firstExit: number | undefined;
  for (;;) {
    const exit = start + runMs;
    const exits = (count: number, last: number) =>
      firstExit === undefined ? undefined : { count, first: firstExit, last };
    if (now < exit) {
      return {
        restartCount: k,
        running: true,
        lastStart: start,
        ...(previous ? { previous } : {}),
        finished: false,
        starts: { count: k + 1, first: startedAt, last: start },
        exits: previous ? exits(k, previous.exit) : undefined,
        nextChangeAt: exit,
      };
    }
    firstExit ??= exit;
    previous = { start, exit };
    const nextStart = exit + backoff(k);
    if (!restarts || now < nextStart) {
      return {
        restartCount: k,
        running: false,
        lastStart: start,
        previous,
        finished: !restarts,
        starts: { count: k + 1, first: startedAt, last: start },
        exits: exits(k + 1, exit),
        ...(restarts ? { nextChangeAt: nextStart } : {}),
      };
    }
    start = nextStart;
    k++;
  }
}
