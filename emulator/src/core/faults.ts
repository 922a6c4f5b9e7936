/**
 * Injected faults for matching service calls: throttling (429 with or without Retry-After), 5xx, added latency,
 * or a hung request (timeout). `share` picks a fraction of matching calls, in one of two ways:
 * - `pick: "every"` (default): deterministic, 0.5 = every second one, so a test is the same on every run;
 * - `pick: "random"`: each call independently with probability `share`, from a PRNG seeded with `seed` (given, or
 *   chosen and returned in the fault), so a client that retries in lock-step with a fixed pattern gets no free
 *   pass and a run is still reproducible from its seed.
 * `count` caps how many calls a fault hits.
 */
import crypto from 'node:crypto';

/** mulberry32: a small, fast 32-bit PRNG; good enough to pick faults, reproducible from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type FaultKind = 'throttle' | 'error' | 'latency' | 'timeout';

export interface FaultSpec {
  kind: FaultKind;
  match?: {
    operation?: string;
    method?: string;
    pathPattern?: string;
    service?: 'arm' | 'keyvault' | 'eventgrid' | 'registry';
  };
  share?: number;
  /** How `share` picks calls: `every` (deterministic, default) or `random` (seeded, probability `share`). */
  pick?: 'every' | 'random';
  /** Seed of `pick: "random"` (an unsigned 32-bit integer); chosen at random when absent, and returned. */
  seed?: number;
  count?: number;
  /** throttle: seconds for Retry-After; omit for a 429 without it. */
  retryAfterSeconds?: number;
  /** error: the status (default 500) and code. */
  status?: number;
  code?: string;
  latencyMs?: number;
  /**
   * latency: each call's added latency is drawn uniformly from latencyMs ± latencyJitterMs (from a PRNG seeded
   * with `seed`, so a benchmark's latency model replays), instead of latencyMs every time.
   */
  latencyJitterMs?: number;
}

export interface Fault extends FaultSpec {
  id: string;
  hits: number;
  seen: number;
  acc: number;
}

/** Draws of the seeded PRNG per random fault (kept out of the fault, which the control API returns as JSON). */
const draws = new WeakMap<Fault, () => number>();
/** The jitter PRNG of a latency fault with latencyJitterMs. */
const jitterDraws = new WeakMap<Fault, () => number>();

/** The latency this call gets from a latency fault: latencyMs, or a draw from latencyMs ± latencyJitterMs. */
export function latencyOf(fault: Fault): number {
  const base = fault.latencyMs ?? 1000;
  const draw = jitterDraws.get(fault);
  if (!draw || !fault.latencyJitterMs) return base;
  return Math.max(0, base + (draw() * 2 - 1) * fault.latencyJitterMs);
}

export class FaultRegistry {
  private faults: Fault[] = [];

  add(spec: FaultSpec): Fault {
    const validKinds: FaultKind[] = ['throttle', 'error', 'latency', 'timeout'];
    if (!validKinds.includes(spec.kind)) throw new Error(`kind must be one of ${validKinds.join(', ')}`);
    if (spec.share !== undefined && !(spec.share > 0 && spec.share <= 1))
      throw new Error('share must be in (0, 1]');
    if (spec.match?.pathPattern) new RegExp(spec.match.pathPattern);
    if (spec.pick !== undefined && spec.pick !== 'every' && spec.pick !== 'random')
      throw new Error('pick must be "every" or "random"');
    if (spec.seed !== undefined && !(Number.isInteger(spec.seed) && spec.seed >= 0 && spec.seed < 2 ** 32))
      throw new Error('seed must be an integer in [0, 2^32)');
    if (spec.latencyJitterMs !== undefined) {
      if (spec.kind !== 'latency') throw new Error('latencyJitterMs applies to latency faults only');
      if (!(spec.latencyJitterMs >= 0)) throw new Error('latencyJitterMs must be ≥ 0');
    }
    const fault: Fault = { ...spec, id: crypto.randomUUID(), hits: 0, seen: 0, acc: 0 };
    if (spec.pick === 'random' || spec.latencyJitterMs) {
      fault.seed = spec.seed ?? crypto.randomInt(0, 2 ** 32 - 1);
      if (spec.pick === 'random') draws.set(fault, seededRandom(fault.seed));
      // Its own stream (seed + 1), so adding jitter does not change which calls a random share picks.
      if (spec.latencyJitterMs) jitterDraws.set(fault, seededRandom((fault.seed + 1) >>> 0));
    }
    this.faults.push(fault);
    return fault;
  }

  list(): Fault[] {
    return this.faults;
  }

  remove(id?: string): number {
    const before = this.faults.length;
    this.faults = id ? this.faults.filter((f) => f.id !== id) : [];
    return before - this.faults.length;
  }

  /** Faults that fire for this call (at most one of each kind), updating their counters. */
  pick(call: { operation: string; method: string; path: string; service: string }): Fault[] {
    const fired: Fault[] = [];
    for (const f of this.faults) {
      const m = f.match ?? {};
      if (m.operation && m.operation.toLowerCase() !== call.operation.toLowerCase()) continue;
      if (m.method && m.method.toUpperCase() !== call.method) continue;
      if (m.service && m.service !== call.service) continue;
      if (m.pathPattern && !new RegExp(m.pathPattern, 'i').test(call.path)) continue;
      if (f.count !== undefined && f.hits >= f.count) continue;
      f.seen++;
      const draw = draws.get(f);
      if (draw) {
        if (draw() >= (f.share ?? 1)) continue;
      } else {
        f.acc += f.share ?? 1;
        if (f.acc + 1e-9 < 1) continue;
        f.acc -= 1;
      }
      f.hits++;
      fired.push(f);
    }
    return fired;
  }
}
