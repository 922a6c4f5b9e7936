/**
 * Delivery faults: the misbehaviours Event Grid is allowed (at-least-once, unordered), made to happen on demand.
 *
 * - `duplicate`: each matching event is delivered `times` times (default 2) to the subscription, as separate
 *   deliveries of the same event (same `id`, same body); each copy is retried on its own.
 * - `reorder`: the first matching event opens a window of `windowMs` (default 1000); matching events for the same
 *   subscription that arrive inside it are held, and when it closes they are sent one after another in reverse
 *   arrival order (each request waits for the previous answer, so the receiver sees them reversed).
 * - `delay`: the first attempt of each matching event is postponed by `delayMs` (default 1000).
 * - `drop`: each matching event is never sent to the subscription; its delivery is recorded as `dropped`. This is what
 *   a subscriber sees when Event Grid gives up on an event and no dead-letter destination is set (Azure then drops
 *   it: "Dead lettering and retry policies", event-grid/manage-event-delivery), or when a subscription is deleted
 *   or filtered wrong: the push happened, the app never heard of it.
 *
 * Faults act on an event's first attempt only; retries follow the normal schedule. `match` narrows them to a
 * subscription name, a subject prefix or an event type (all case-insensitive). `count` caps how many
 * (event, subscription) deliveries a fault affects; without it the fault stays until deleted. Faults are kept in
 * memory (like the core's request faults): a restart clears them.
 */
import crypto from 'node:crypto';

export type DeliveryFaultKind = 'duplicate' | 'reorder' | 'delay' | 'drop';

export interface DeliveryFaultSpec {
  kind: DeliveryFaultKind;
  match?: { subscription?: string; subjectBeginsWith?: string; eventType?: string };
  count?: number;
  times?: number;
  windowMs?: number;
  delayMs?: number;
}

export interface DeliveryFault extends DeliveryFaultSpec {
  id: string;
  hits: number;
}

const KINDS: DeliveryFaultKind[] = ['duplicate', 'reorder', 'delay', 'drop'];

function positiveInteger(value: unknown, name: string, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new Error(`${name} must be an integer from ${min} to ${max}.`);
}

export class DeliveryFaults {
  private faults: DeliveryFault[] = [];

  add(spec: DeliveryFaultSpec): DeliveryFault {
    if (!spec || typeof spec !== 'object')
      throw new Error('Body must be a fault spec: { kind, match?, count? }.');
    if (!KINDS.includes(spec.kind)) throw new Error(`kind must be one of ${KINDS.join(', ')}.`);
    positiveInteger(spec.count, 'count', 1, 1_000_000);
    positiveInteger(spec.times, 'times', 2, 100);
    positiveInteger(spec.windowMs, 'windowMs', 1, 600_000);
    positiveInteger(spec.delayMs, 'delayMs', 0, 86_400_000);
    if (spec.match !== undefined && (typeof spec.match !== 'object' || spec.match === null))
      throw new Error('match must be an object: { subscription?, subjectBeginsWith?, eventType? }.');
    const fault: DeliveryFault = {
      kind: spec.kind,
      ...(spec.match ? { match: { ...spec.match } } : {}),
      ...(spec.count !== undefined ? { count: spec.count } : {}),
      ...(spec.kind === 'duplicate' ? { times: spec.times ?? 2 } : {}),
      ...(spec.kind === 'reorder' ? { windowMs: spec.windowMs ?? 1000 } : {}),
      ...(spec.kind === 'delay' ? { delayMs: spec.delayMs ?? 1000 } : {}),
      id: crypto.randomUUID(),
      hits: 0,
    };
    this.faults.push(fault);
    return fault;
  }

  list(): DeliveryFault[] {
    return this.faults;
  }

  remove(id?: string): number {
    const before = this.faults.length;
    this.faults = id ? this.faults.filter((f) => f.id !== id) : [];
    return before - this.faults.length;
  }

  /** Faults that apply to this (event, subscription) pair, at most one per kind, counting the hit. */
  pick(call: { subscription: string; subject: string; eventType: string }): DeliveryFault[] {
    const fired: DeliveryFault[] = [];
    for (const f of this.faults) {
      if (fired.some((x) => x.kind === f.kind)) continue;
      const m = f.match ?? {};
      if (m.subscription && m.subscription.toLowerCase() !== call.subscription.toLowerCase()) continue;
      if (m.eventType && m.eventType.toLowerCase() !== call.eventType.toLowerCase()) continue;
      if (m.subjectBeginsWith && !call.subject.toLowerCase().startsWith(m.subjectBeginsWith.toLowerCase()))
        continue;
      if (f.count !== undefined && f.hits >= f.count) continue;
      f.hits++;
      fired.push(f);
    }
    return fired;
  }
}
