/**
 * Injected faults for matching service calls: throttling (429 with or without Retry-After), 5xx, added latency,
 * or a hung request (timeout). `share` picks a deterministic fraction of matching calls (0.5 = every second one),
 * so tests are repeatable; `count` caps how many calls a fault hits.
 */
import crypto from 'node:crypto';

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
  count?: number;
  /** throttle: seconds for Retry-After; omit for a 429 without it. */
  retryAfterSeconds?: number;
  /** error: the status (default 500) and code. */
  status?: number;
  code?: string;
  latencyMs?: number;
}

export interface Fault extends FaultSpec {
  id: string;
  hits: number;
  seen: number;
  acc: number;
}

export class FaultRegistry {
  private faults: Fault[] = [];

  add(spec: FaultSpec): Fault {
    const validKinds: FaultKind[] = ['throttle', 'error', 'latency', 'timeout'];
    if (!validKinds.includes(spec.kind)) throw new Error(`kind must be one of ${validKinds.join(', ')}`);
    if (spec.share !== undefined && !(spec.share > 0 && spec.share <= 1))
      throw new Error('share must be in (0, 1]');
    if (spec.match?.pathPattern) new RegExp(spec.match.pathPattern);
    const fault: Fault = { ...spec, id: crypto.randomUUID(), hits: 0, seen: 0, acc: 0 };
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
      f.acc += f.share ?? 1;
      if (f.acc + 1e-9 < 1) continue;
      f.acc -= 1;
      f.hits++;
      fired.push(f);
    }
    return fired;
  }
}
