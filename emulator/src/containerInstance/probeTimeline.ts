/**
 * Liveness and readiness probes of a running container, computed from timestamps (no timers), the way the kubelet
 * that runs ACI's containers does: a probe every `periodSeconds` from `initialDelaySeconds` after the start; a
 * liveness probe failing `failureThreshold` times in a row kills the container ("Unhealthy", then "Killing"
 * events), which is restarted in place after a back-off (restartCount rising) unless restartPolicy is Never; a
 * failing readiness probe only records "Unhealthy" events. Sources: "Configure liveness probes" and "Configure
 * readiness probes" (container-instances-liveness-probe / -readiness-probe, Microsoft Learn); Kubernetes' defaults
 * (periodSeconds 10, failureThreshold 3, initialDelaySeconds 0) where a probe leaves them out.
 *
 * The emulator runs no command: an exec probe passes. An httpGet probe gets what the container would answer: it
 * fails while a slow-starting container is not listening yet, on a port the container does not declare, and on an
 * image with the "unhealthy" behaviour (its status, default 503).
 */
import { crashTimeline, type CrashTimeline } from './crashTimeline.js';
import type { ContainerRun, ContainerSpec, ProbeSpec, StoredEvent } from './groupTypes.js';

const DEFAULTS = { initialDelaySeconds: 0, periodSeconds: 10, failureThreshold: 3 };

interface ProbePlan {
  /** Epoch ms of the first probe of a run started at `start`. */
  firstAt: (start: number) => number;
  periodMs: number;
  threshold: number;
  /** Does the probe at `t` of a run started at `start` fail? */
  failsAt: (start: number, t: number) => boolean;
  message: string;
}

function plan(probe: ProbeSpec, spec: ContainerSpec, run: ContainerRun, kind: string, ip: string): ProbePlan {
  const delayMs = (probe.initialDelaySeconds ?? DEFAULTS.initialDelaySeconds) * 1000;
  const periodMs = (probe.periodSeconds ?? DEFAULTS.periodSeconds) * 1000;
  const threshold = probe.failureThreshold ?? DEFAULTS.failureThreshold;
  const base = { firstAt: (start: number) => start + delayMs, periodMs, threshold };
  const get = probe.httpGet;
  if (!get) return { ...base, failsAt: () => false, message: '' };
  const behavior = run.behavior;
  const slowMs = behavior && 'startDelaySeconds' in behavior ? (behavior.startDelaySeconds ?? 0) * 1000 : 0;
  const url = `http://${ip}:${get.port}${get.path ?? '/'}`;
  const refused = `${kind} probe failed: Get "${url}": dial tcp ${ip}:${get.port}: connect: connection refused`;
  if (!(spec.properties.ports ?? []).some((p) => p.port === get.port))
    return { ...base, failsAt: () => true, message: refused };
  if (behavior?.mode === 'unhealthy')
    return {
      ...base,
      failsAt: () => true,
      message: `${kind} probe failed: HTTP probe failed with statuscode: ${behavior.status ?? 503}`,
    };
  return { ...base, failsAt: (start, t) => t < start + slowMs, message: refused };
}

/** How long a run lives before its liveness probe kills it, or undefined when it is never killed. */
function killAfterMs(p: ProbePlan, start: number): number | undefined {
  for (let k = 0; k < p.threshold; k++)
    if (!p.failsAt(start, p.firstAt(start) + k * p.periodMs)) return undefined;
  return Math.max(20, p.firstAt(start) - start + (p.threshold - 1) * p.periodMs);
}

/** Failed probes of one run between its start and `until`. */
function failuresIn(
  p: ProbePlan,
  start: number,
  until: number,
): { count: number; first?: number; last?: number } {
  let count = 0;
  let first: number | undefined;
  let last: number | undefined;
  for (let t = p.firstAt(start); t <= until && count < 10_000; t += p.periodMs) {
    if (!p.failsAt(start, t)) continue;
    count++;
    first ??= t;
    last = t;
  }
  return { count, ...(first !== undefined ? { first, last } : {}) };
}

export interface ProbedRun {
  /** Set when the liveness probe kills the container: its restarts, as crashTimeline computes them. */
  liveness?: CrashTimeline;
  events: StoredEvent[];
}

/** The probe events and liveness restarts of a container at `now` (undefined: no probe, nothing to report). */
export function probedRun(
  spec: ContainerSpec,
  run: ContainerRun,
  opts: { now: number; crashBaseMs: number; restarts: boolean; ip: string },
): ProbedRun | undefined {
  const { livenessProbe, readinessProbe } = spec.properties;
  if ((!livenessProbe && !readinessProbe) || run.startedAt === undefined) return undefined;
  const startedAt = run.startedAt;
  const events: StoredEvent[] = [];
  let liveness: CrashTimeline | undefined;
  let currentStart = startedAt;
  if (livenessProbe) {
    const p = plan(livenessProbe, spec, run, 'Liveness', opts.ip);
    const runMs = killAfterMs(p, startedAt);
    if (runMs !== undefined) {
      liveness = crashTimeline(startedAt, opts.now, opts.crashBaseMs, opts.restarts, runMs);
      currentStart = liveness.lastStart;
      const kills = liveness.exits;
      const failed =
        (kills?.count ?? 0) * p.threshold +
        (liveness.running ? failuresIn(p, currentStart, opts.now).count : 0);
      if (failed > 0)
        events.push({
          name: 'Unhealthy',
          message: p.message,
          type: 'Warning',
          count: failed,
          first: p.firstAt(startedAt),
          last: opts.now,
        });
      if (kills)
        events.push({
          name: 'Killing',
          message: `Container ${spec.name} failed liveness probe, will be restarted`,
          type: 'Normal',
          ...kills,
        });
    } else {
      const f = failuresIn(p, startedAt, opts.now);
      if (f.count > 0)
        events.push({
          name: 'Unhealthy',
          message: p.message,
          type: 'Warning',
          count: f.count,
          first: f.first!,
          last: f.last!,
        });
    }
  }
  if (readinessProbe) {
    const p = plan(readinessProbe, spec, run, 'Readiness', opts.ip);
    const f = failuresIn(p, currentStart, opts.now);
    if (f.count > 0)
      events.push({
        name: 'Unhealthy',
        message: p.message,
        type: 'Warning',
        count: f.count,
        first: f.first!,
        last: f.last!,
      });
  }
  return liveness || events.length > 0 ? { ...(liveness ? { liveness } : {}), events } : undefined;
}
