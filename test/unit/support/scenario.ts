/** Controller-style test driving: run advance/reconcile pass after pass and check invariants on each. */
import { expect } from 'vitest';
import type { AppState } from '../../../src/domain/model.js';
import { handleImagePushed, type PushResult } from '../../../src/domain/onImagePushed.js';
import { advance, type AdvanceResult } from '../../../src/domain/rollout/runner.js';
import { VAULT, budget, digestOf, pushEvent, T0, type World } from './fakes.js';

export interface Pass {
  result: AdvanceResult;
  state: AppState | undefined;
}

/** Callers always reach a Running group through the secret (zero downtime), at every observation. */
export function assertServing(w: World, secretName = 'web-ip'): void {
  const ip = w.secrets.value(VAULT, secretName);
  if (ip === undefined) return;
  const g = w.groups.peekByIp(ip);
  expect(g, `secret ${secretName}=${ip} points to no group`).toBeDefined();
  expect(g!.state, `secret ${secretName}=${ip} points to ${g!.name}, which is ${g!.state}`).toBe('Running');
}

export function watchServing(w: World, secretName = 'web-ip'): void {
  w.clock.onSleep = () => assertServing(w, secretName);
}

function settled(state: AppState | undefined): boolean {
  return (
    !!state &&
    state.rollout?.state !== 'inProgress' &&
    !state.queued &&
    state.pendingDeletions.length === 0 &&
    state.outbox.length === 0
  );
}

/**
 * Advance repeatedly (as the timer would), moving the clock `gapMs` between passes, until nothing is left to
 * do. `each` runs after every pass.
 */
export async function settle(
  w: World,
  opts: {
    app?: string;
    maxPasses?: number;
    gapMs?: number;
    budgetSeconds?: number;
    each?: (p: Pass, i: number) => void;
  } = {},
): Promise<Pass[]> {
  const app = opts.app ?? 'web';
  const passes: Pass[] = [];
  for (let i = 0; i < (opts.maxPasses ?? 60); i++) {
    const result = await advance(app, { ...w.deps }, budget(w, opts.budgetSeconds ?? 20));
    const state = w.store.state(app);
    const p = { result, state };
    passes.push(p);
    opts.each?.(p, i);
    if (settled(state)) return passes;
    w.clock.advance(opts.gapMs ?? 5_000);
  }
  throw new Error(`did not settle: ${JSON.stringify(passes.at(-1)?.result)}`);
}

let clockSkew = 0;

/** Push `tag` with digest `n`, event time = now (unique, increasing). */
export async function push(
  w: World,
  tag: string,
  n: number,
  budgetSeconds = 20,
  extra: { at?: number; id?: string } = {},
): Promise<PushResult> {
  const at = extra.at ?? w.clock.now() + ++clockSkew;
  return handleImagePushed(
    pushEvent({ tag, digest: digestOf(n), at, ...(extra.id ? { id: extra.id } : {}) }),
    w.deps,
    budget(w, budgetSeconds),
  );
}

/** Deploy 1.0.0 (digest 1) into web-blue and settle: the usual starting point. */
export async function deployInitial(w: World): Promise<void> {
  const r = await push(w, '1.0.0', 1);
  expect(r.outcome).toBe('started');
  await settle(w);
  const s = w.store.state('web')!;
  expect(s.active).toMatchObject({ group: 'web-blue', tag: '1.0.0', digest: digestOf(1) });
  expect(s.rollout?.state).toBe('succeeded');
}

export { T0 };
