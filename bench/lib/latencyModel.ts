/**
 * Azure's per-call latency, modelled with the emulator's latency faults so the benchmark's wall times are what a
 * tick would take against Azure rather than against loopback. Each operation's latency is drawn uniformly from
 * `ms ± jitterMs` (seeded: a run replays).
 *
 * The figures are an assumption, not a measurement (no Azure is reachable here): the order of magnitude of a
 * same-region call from a Functions instance, with lists slower than single reads and writes slower still. They
 * are stated in docs/benchmarks.md with every figure measured under them; change them here to test another model.
 * Table storage (the rollout states; Azurite here) and token requests (cached by the credential) are not modelled.
 */
import type { Control } from './emulatorControl.js';

export interface OperationLatency {
  /** The operation name as the emulator's request log counts it. */
  operation: string;
  ms: number;
  jitterMs: number;
}

export const AZURE_LATENCY_MODEL: readonly OperationLatency[] = Object.freeze([
  { operation: 'ContainerGroups_ListByResourceGroup', ms: 100, jitterMs: 30 },
  { operation: 'ContainerGroups_Get', ms: 60, jitterMs: 20 },
  { operation: 'GetSecrets', ms: 40, jitterMs: 15 },
  { operation: 'GetSecret', ms: 30, jitterMs: 10 },
  { operation: 'SetSecret', ms: 60, jitterMs: 20 },
]);

/** Installs the model (one latency fault per operation); resolves with a function that removes it. */
export async function applyLatencyModel(
  control: Control,
  model: readonly OperationLatency[] = AZURE_LATENCY_MODEL,
  seed = 1,
): Promise<() => Promise<void>> {
  const ids: string[] = [];
  for (const [i, m] of model.entries()) {
    const res = await control.call<{ id: string }>('POST', '/_emulator/faults', {
      kind: 'latency',
      match: { operation: m.operation },
      latencyMs: m.ms,
      latencyJitterMs: m.jitterMs,
      seed: seed + i * 7919,
    });
    if (res.status !== 201) throw new Error(`latency fault for ${m.operation}: ${res.status}`);
    ids.push(res.body.id);
  }
  return async () => {
    for (const id of ids) await control.call('DELETE', `/_emulator/faults/${id}`);
  };
}
