/**
 * The emulator's latency faults with jitter (issue 15's latency model): each call's latency is drawn from
 * latencyMs ± latencyJitterMs, replays from the seed, and jitter is refused where it means nothing.
 */
import { describe, expect, it } from 'vitest';
import { FaultRegistry, latencyOf } from '../../../emulator/src/core/faults.js';

const call = { operation: 'ContainerGroups_ListByResourceGroup', method: 'GET', path: '/x', service: 'arm' };

function draws(seed: number, n: number): number[] {
  const registry = new FaultRegistry();
  const fault = registry.add({ kind: 'latency', latencyMs: 100, latencyJitterMs: 30, seed });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const fired = registry.pick(call);
    expect(fired).toEqual([fault]);
    out.push(latencyOf(fired[0]!));
  }
  return out;
}

describe('emulator latency faults', () => {
  it('draws every call from latencyMs ± latencyJitterMs, spread over the range', () => {
    const values = draws(42, 2000);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(70);
    expect(Math.max(...values)).toBeLessThanOrEqual(130);
    // Uniform: both outer fifths of the range are hit, and the mean sits near the middle.
    expect(values.some((v) => v < 82)).toBe(true);
    expect(values.some((v) => v > 118)).toBe(true);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(Math.abs(mean - 100)).toBeLessThan(3);
  });

  it('replays from its seed, and another seed gives other draws', () => {
    expect(draws(7, 50)).toEqual(draws(7, 50));
    expect(draws(8, 50)).not.toEqual(draws(7, 50));
  });

  it('without jitter the latency is latencyMs every time', () => {
    const registry = new FaultRegistry();
    const fault = registry.add({ kind: 'latency', latencyMs: 40 });
    expect([latencyOf(fault), latencyOf(fault)]).toEqual([40, 40]);
  });

  it('refuses jitter on a fault that is not latency, and a negative jitter', () => {
    const registry = new FaultRegistry();
    expect(() => registry.add({ kind: 'throttle', latencyJitterMs: 5 })).toThrow(/latency faults only/);
    expect(() => registry.add({ kind: 'latency', latencyMs: 5, latencyJitterMs: -1 })).toThrow(/≥ 0/);
  });
});
