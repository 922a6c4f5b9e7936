/**
 * Catch-up through the domain with fakes: a push the registry holds but no event announced is found by the
 * reconcile tick every catchUpSeconds and decided like the event: one rollout, whichever of the event and the
 * catch-up comes first; the policy's order picks the newest tag; pause and deploy windows queue it.
 */
import { describe, expect, it } from 'vitest';
import { TransientError } from '../../../src/domain/errors.js';
import type { ReconcileResult } from '../../../src/domain/model.js';
import { handleImagePushed } from '../../../src/domain/onImagePushed.js';
import { reconcile } from '../../../src/domain/reconcile.js';
import { catchUpDue } from '../../../src/domain/reconcile/catchUp.js';
import { budget, digestOf, makeConfig, makeWorld, pushEvent, webApp, type World } from '../support/fakes.js';
import { deployInitial, settle, watchServing } from '../support/scenario.js';

function world(extra: Record<string, unknown> = {}, reconcileConfig: Record<string, unknown> = {}): World {
  const w = makeWorld(makeConfig([webApp({ drainSeconds: 5, ...extra })], { reconcile: reconcileConfig }));
  watchServing(w);
  return w;
}

const tick = (w: World): Promise<ReconcileResult> =>
  reconcile({ ...w.deps }, budget(w, 60), { rolloutSliceSeconds: 20 });
const state = (w: World) => w.store.state('web')!;

/** The registry holds `tag` → digest `n`, pushed now; its event is lost. */
function lostPush(w: World, tag: string, n: number | string, repository = 'web'): string {
  const digest = digestOf(n);
  w.manifests.tag(repository, tag, digest, w.clock.now());
  return digest;
}

describe('catch-up', () => {
  it('is due every catchUpSeconds (a tick a little early still counts); 0 turns it off', () => {
    const t = Date.parse('2026-12-01T10:00:00Z');
    expect(catchUpDue(600, undefined, t)).toBe(true);
    expect(catchUpDue(600, '2026-12-01T09:50:00.500Z', t)).toBe(true);
    expect(catchUpDue(600, '2026-12-01T09:51:00.000Z', t)).toBe(false);
    expect(catchUpDue(0, undefined, t)).toBe(false);
  });

  it('starts a lost push once: the next runs, and the event arriving late, change nothing', async () => {
    const w = world();
    await deployInitial(w);
    w.manifests.tag('web', '1.0.0', digestOf(1), w.clock.now());
    w.clock.advance(60_000);
    const lost = lostPush(w, '1.1.0', 2);
    const r = await tick(w);
    expect(r.catchUp).toMatchObject({
      checked: 1,
      found: [{ app: 'web', tag: '1.1.0', digest: lost, outcome: 'started' }],
      failed: [],
    });
    expect(state(w).rollout).toMatchObject({ kind: 'catchUp', tag: '1.1.0', digest: lost });
    expect(state(w).rollout!.timeline[0]!.message).toMatch(/^catch-up rollout of 1\.1\.0/);
    await settle(w);
    expect(state(w).active).toMatchObject({ tag: '1.1.0', digest: lost });
    const creates = w.groups.calls.create;

    // Not due again for catchUpSeconds: no listing; then due, and nothing new to do.
    const listings = w.manifests.tagListings.length;
    expect((await tick(w)).catchUp!.at).toBe(r.catchUp!.at);
    expect(w.manifests.tagListings.length).toBe(listings);
    w.clock.advance(600_000);
    const later = await tick(w);
    expect(later.catchUp).toMatchObject({ checked: 1, found: [] });
    expect(w.manifests.tagListings.length).toBe(listings + 1);

    const late = await handleImagePushed(
      pushEvent({ tag: '1.1.0', digest: lost, at: w.clock.now() - 700_000 }),
      w.deps,
      budget(w, 20),
    );
    expect(late).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('duplicate') });
    expect(w.groups.calls.create).toBe(creates);
  });

  it('an event that arrived first leaves catch-up nothing to do', async () => {
    const w = world();
    await deployInitial(w);
    w.manifests.tag('web', '1.0.0', digestOf(1), w.clock.now());
    const r = await tick(w);
    expect(r.catchUp).toMatchObject({ checked: 1, found: [] });
    expect(w.groups.calls.create).toBe(1);
  });

  it('the newest by the policy order wins over the latest pushed; a turned-away newest is left alone', async () => {
    const numerical = {
      type: 'regex',
      pattern: 'build-\\d+',
      order: 'numerical',
      extract: '^build-(?<n>\\d+)$',
    };
    const w = world({ tagPolicy: numerical });
    lostPush(w, 'build-10', 10);
    w.clock.advance(1_000);
    lostPush(w, 'build-9', 9); // pushed later, lower by the order
    await tick(w);
    expect(state(w).rollout).toMatchObject({ kind: 'catchUp', tag: 'build-10', digest: digestOf(10) });
    await settle(w);

    w.clock.advance(600_000);
    const turnedAway = lostPush(w, 'build-11', 11);
    const s = state(w);
    s.rejected = [
      { digest: turnedAway, tag: 'build-11', at: new Date(w.clock.now()).toISOString(), reason: 'x' },
    ];
    const held = (await w.store.get('web'))!;
    await w.store.replace('web', s, held.etag);
    const r = await tick(w);
    expect(r.catchUp!.found).toEqual([]);
    expect(state(w).active).toMatchObject({ tag: 'build-10' });
  });

  it('a deploy window queues what catch-up finds, as it queues a push, until it opens', async () => {
    const w = world({
      deployWindows: [{ cron: '0 3 * * *', durationMinutes: 60, timeZone: 'UTC' }],
    });
    w.clock.t = Date.parse('2026-12-01T03:10:00Z');
    await deployInitial(w);
    w.clock.t = Date.parse('2026-12-01T12:00:00Z');
    const lost = lostPush(w, '1.1.0', 2);
    const r = await tick(w);
    expect(r.catchUp!.found).toEqual([{ app: 'web', tag: '1.1.0', digest: lost, outcome: 'queued' }]);
    expect(state(w).queued).toMatchObject({ tag: '1.1.0', source: 'catchUp' });
    expect(w.groups.calls.create).toBe(1);
    w.clock.t = Date.parse('2026-12-02T03:00:10Z');
    await tick(w);
    expect(state(w).rollout).toMatchObject({ kind: 'catchUp', tag: '1.1.0' });
  });

  it('a listing that fails is an error for that app; catchUpSeconds 0 lists nothing', async () => {
    const w = world();
    w.manifests.error = new TransientError('503 from the registry', { statusCode: 503 });
    const r = await tick(w);
    expect(r.errors).toEqual([
      expect.objectContaining({
        scope: 'app',
        target: 'web',
        message: expect.stringContaining('catch-up: 503'),
      }),
    ]);
    expect(r.catchUp).toMatchObject({ checked: 0, failed: [{ app: 'web' }] });

    const off = world({}, { catchUpSeconds: 0 });
    lostPush(off, '1.0.0', 1);
    const r2 = await tick(off);
    expect(r2.catchUp).toBeUndefined();
    expect(off.manifests.tagListings).toEqual([]);
    expect(off.store.state('web')).toBeUndefined();
  });
});
