/**
 * The runner's own rules (src/domain/rollout/runner.ts, heldState.ts, housekeeping.ts), apart from the steps:
 * the one conflict rule, the one budget check, the requeue handed back to the caller, and housekeeping as a pass
 * of its own that survives concurrent writers.
 */
import { describe, expect, it } from 'vitest';
import { newAppState } from '../../../src/domain/appState.js';
import { optionsOf } from '../../../src/domain/deps.js';
import type { AppState } from '../../../src/domain/model.js';
import { reread, type Held } from '../../../src/domain/rollout/heldState.js';
import { deleteWithReissue, housekeep } from '../../../src/domain/rollout/housekeeping.js';
import { advance } from '../../../src/domain/rollout/runner.js';
import { budget, makeWorld } from '../support/fakes.js';
import { push } from '../support/scenario.js';

async function heldOf(w: ReturnType<typeof makeWorld>, app = 'web'): Promise<Held> {
  return (await w.store.get(app))!;
}

describe('the conflict rule (reread)', () => {
  it('carries on when nobody wrote, and when a write did not move the rollout; stops when it moved or vanished', async () => {
    const w = makeWorld();
    w.groups.startupMs = 60_000; // the rollout stays in waitingRunning
    await push(w, '1.0.0', 1);
    const held = await heldOf(w);
    expect(held.state.rollout).toMatchObject({ state: 'inProgress' });

    // Nobody wrote: the same held row.
    expect(await reread(w.deps, held)).toEqual({ held, stop: false });

    // Someone wrote without moving the rollout (e.g. an ignored push recorded itself): carry on, fresh row.
    const touched: AppState = structuredClone(held.state);
    touched.ignored = [
      { at: touched.updatedAt, eventId: 'e', tag: 't', digest: 'd', outcome: 'ignored', reason: 'r' },
    ];
    const etag = await w.store.replace('web', touched, held.etag);
    const fresh = await reread(w.deps, held);
    expect(fresh).toMatchObject({ stop: false, held: { etag } });
    expect(fresh.held.state.ignored).toHaveLength(1);

    // Someone moved it (another step): stop.
    const movedState = structuredClone(fresh.held.state);
    movedState.rollout!.step = 'healthGate';
    await w.store.replace('web', movedState, fresh.held.etag);
    expect(await reread(w.deps, fresh.held)).toMatchObject({
      stop: true,
      why: 'another instance advanced this rollout',
    });

    // The row is gone: stop.
    w.store.rows.delete('web');
    expect(await reread(w.deps, fresh.held)).toMatchObject({ stop: true, why: 'state row vanished' });
  });

  it('advance stops with "conflict" when another instance moves the rollout while it sleeps', async () => {
    const w = makeWorld();
    w.groups.startupMs = 5_000;
    await push(w, '1.0.0', 1, 0.5); // accepted and created, then out of budget
    let moved = false;
    const sleep = w.clock.sleep.bind(w.clock);
    w.clock.sleep = async (ms: number) => {
      await sleep(ms);
      if (moved) return;
      moved = true;
      const other = (await w.store.get('web'))!;
      const s = structuredClone(other.state);
      s.rollout!.step = 'healthGate';
      await w.store.replace('web', s, other.etag);
    };
    const r = await advance('web', w.deps, budget(w, 20));
    expect(r).toMatchObject({ status: 'conflict', message: 'another instance advanced this rollout' });
  });
});

describe('budget and requeue', () => {
  it('a wait past the budget is handed back (waitUntil) and stored as resumeAt; the next run honours it', async () => {
    const w = makeWorld();
    w.groups.startupMs = 60_000;
    await push(w, '1.0.0', 1, 0.5);
    const r = await advance('web', w.deps, budget(w, 1));
    expect(r.status).toBe('waiting');
    const stored = (await heldOf(w)).state.rollout!;
    expect(stored.resumeAt).toBe(r.waitUntil);

    // A run before resumeAt runs no step: nothing is read from ACI and nothing is written.
    const reads = w.groups.calls.get;
    const writes = w.store.writes;
    const again = await advance('web', w.deps, budget(w, 1));
    expect(again).toMatchObject({ status: 'waiting', waitUntil: r.waitUntil });
    expect(w.groups.calls.get).toBe(reads);
    expect(w.store.writes).toBe(writes);
  });

  it('a spent budget runs no step at all', async () => {
    const w = makeWorld();
    w.groups.startupMs = 60_000;
    await push(w, '1.0.0', 1, 0.5);
    const reads = w.groups.calls.get;
    const r = await advance('web', w.deps, { deadline: w.clock.now() });
    expect(r).toMatchObject({ status: 'budgetSpent', message: 'time budget spent' });
    expect(w.groups.calls.get).toBe(reads);
  });
});

describe('housekeeping', () => {
  it('flushes the outbox and deletes due groups; a lost CAS race is redone on the fresh row', async () => {
    const w = makeWorld();
    const state = newAppState('web', w.clock.now());
    state.outbox.push({
      kind: 'notify',
      event: {
        type: 'rollout.started',
        id: 'r1.started',
        app: 'web',
        rolloutId: 'r1',
        digest: 'd',
        tag: 't',
        group: 'g',
        at: state.updatedAt,
      },
    });
    await w.store.create('web', state);
    let raced = false;
    w.store.beforeWrite = (app) => {
      if (raced) return;
      raced = true;
      // A concurrent writer gets in first (once): our CAS fails, housekeeping re-reads and runs again.
      const row = w.store.rows.get(app)!;
      w.store.rows.set(app, { json: row.json, etag: 'W/"someone-else"' });
    };
    const after = await housekeep(w.deps, await heldOf(w));
    expect(raced).toBe(true);
    expect(after.state.outbox).toEqual([]);
    expect((await heldOf(w)).state.outbox).toEqual([]);
    expect(w.notifier.events.map((e) => e.id)).toContain('r1.started');
  });

  it('deleteWithReissue deletes, leaves a delete in progress alone, and re-issues one that seems stuck', async () => {
    const w = makeWorld();
    const g = { name: 'web-blue', provisioningState: 'Succeeded' } as Parameters<typeof deleteWithReissue>[1];
    let deletes = 0;
    w.groups.delete = async () => {
      deletes++;
    };
    const first = await deleteWithReissue(w.deps, g, 'rg-apps', undefined, 1_000);
    expect(first).toBe(new Date(1_000).toISOString());
    const deleting = { ...g, provisioningState: 'Deleting' };
    expect(await deleteWithReissue(w.deps, deleting, 'rg-apps', first, 2_000)).toBeUndefined();
    const reissueMs = optionsOf(w.deps).deleteReissueMs;
    expect(await deleteWithReissue(w.deps, deleting, 'rg-apps', first, 1_000 + reissueMs + 1)).toBeDefined();
    expect(deletes).toBe(2);
  });
});
