/**
 * Deploy windows and DEPLOY_FREEZE through the domain with fakes and a fake clock: a push outside a window is
 * queued (newest allowed wins) and the reconcile tick starts it once the window opens; a freeze holds every app;
 * rollback and abort are never held; retry and redeploy are unless forced.
 */
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/settings.js';
import { handleOperatorAction } from '../../../src/domain/actions/handleAction.js';
import { deployGate, windowOpen } from '../../../src/domain/deployGate.js';
import type { OperatorAction } from '../../../src/domain/model.js';
import { reconcile } from '../../../src/domain/reconcile.js';
import { advance } from '../../../src/domain/rollout/runner.js';
import { buildStatus } from '../../../src/domain/status.js';
import { parseActionRequest } from '../../../src/events/actionRequest.js';
import { budget, digestOf, makeConfig, makeWorld, webApp, type World } from '../support/fakes.js';
import { deployInitial, push, settle, watchServing } from '../support/scenario.js';

/** Weekdays 09:00-11:00 in Berlin (UTC+1 in December). */
const OFFICE_HOURS = { cron: '0 9 * * 1-5', durationMinutes: 120, timeZone: 'Europe/Berlin' };
/** Tuesday 1 December 2026. */
const at = (utc: string) => Date.parse(`2026-12-01T${utc}Z`);

function world(extra: Record<string, unknown> = {}, apps: string[] = ['web']): World {
  const cfg = apps.map((name) =>
    webApp({
      name,
      repository: name,
      secret: { vaultUrl: 'https://kv-apps.vault.azure.net', name: `${name}-ip` },
      drainSeconds: 5,
      ...extra,
    }),
  );
  const w = makeWorld(makeConfig(cfg));
  watchServing(w);
  return w;
}

const act = (w: World, action: OperatorAction, extra: { force?: boolean; app?: string } = {}) =>
  handleOperatorAction({ app: extra.app ?? 'web', action, actor: 'alice', ...extra }, w.deps, {
    ...budget(w, 10),
    maxSleepMs: 0,
  });

const tick = (w: World) => reconcile({ ...w.deps }, budget(w, 60), { rolloutSliceSeconds: 20 });

describe('deploy gate', () => {
  it('opens a window at each cron time in its time zone for durationMinutes', () => {
    const app = { deployWindows: [OFFICE_HOURS] };
    expect(deployGate(app, undefined, at('07:30:00'))).toEqual({
      held: true,
      reason: 'window',
      until: at('08:00:00'),
      message: 'held: outside deploy window until 2026-12-01T08:00:00.000Z',
    });
    expect(deployGate(app, undefined, at('08:00:00'))).toEqual({ held: false });
    expect(deployGate(app, undefined, at('09:59:59'))).toEqual({ held: false });
    // Closed at the end of the two hours; the next opening is Wednesday's.
    expect(deployGate(app, undefined, at('10:00:00'))).toMatchObject({
      held: true,
      until: Date.parse('2026-12-02T08:00:00Z'),
    });
    expect(
      windowOpen({ cron: '*/20 * * * * *', durationMinutes: 0.25, timeZone: 'UTC' }, at('08:00:14')),
    ).toBe(true);
    expect(
      windowOpen({ cron: '*/20 * * * * *', durationMinutes: 0.25, timeZone: 'UTC' }, at('08:00:15')),
    ).toBe(false);
    expect(deployGate({ deployWindows: [] }, undefined, at('03:00:00'))).toEqual({ held: false });
  });

  it('a freeze holds whatever the windows say; one whose end has passed is over', () => {
    expect(deployGate({ deployWindows: [] }, {}, at('08:30:00'))).toEqual({
      held: true,
      reason: 'freeze',
      message: 'held: freeze',
    });
    const until = { until: '2026-12-01T12:00:00.000Z' };
    expect(deployGate({ deployWindows: [OFFICE_HOURS] }, until, at('08:30:00'))).toMatchObject({
      reason: 'freeze',
      message: 'held: freeze until 2026-12-01T12:00:00.000Z',
    });
    expect(deployGate({ deployWindows: [] }, until, at('12:00:00'))).toEqual({ held: false });
  });

  it('DEPLOY_FREEZE: true, false, a zoned ISO time; anything else is refused naming the setting', () => {
    const env = (v?: string) => ({
      AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000001',
      APPS_CONFIG: JSON.stringify({ apps: [] }),
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      ...(v === undefined ? {} : { DEPLOY_FREEZE: v }),
    });
    expect(loadSettings(env()).deployFreeze).toBeUndefined();
    expect(loadSettings(env('false')).deployFreeze).toBeUndefined();
    expect(loadSettings(env('TRUE')).deployFreeze).toEqual({});
    expect(loadSettings(env('2027-01-04T09:00:00+01:00')).deployFreeze).toEqual({
      until: '2027-01-04T08:00:00.000Z',
    });
    expect(() => loadSettings(env('2027-01-04T09:00'))).toThrow(
      'App setting DEPLOY_FREEZE: must be true, false or an ISO time with a zone such as 2027-01-04T08:00:00Z, got "2027-01-04T09:00"',
    );
  });

  it('config: a window needs a cron pattern and a time zone that exist', () => {
    const errors = makeConfig([
      webApp({ deployWindows: [{ cron: '0 25 * * *', durationMinutes: 60 }] }),
      webApp({
        name: 'api',
        repository: 'api',
        deployWindows: [{ ...OFFICE_HOURS, timeZone: 'Mars/Olympus' }],
      }),
    ]).errors.map((e) => e.text);
    expect(errors[0]).toMatch(/^apps\[0\] \(web\): deployWindows\[0\]\.cron: not a cron pattern/);
    expect(errors[1]).toBe(
      'apps[1] (api): deployWindows[0].timeZone: not an IANA time zone name (e.g. Europe/Berlin, UTC)',
    );
  });
});

describe('deploy windows', () => {
  it('a push outside the window is queued, the newest allowed wins, and the tick starts it when the window opens', async () => {
    const w = world({ deployWindows: [OFFICE_HOURS] });
    w.clock.t = at('08:10:00');
    await deployInitial(w);
    w.clock.t = at('10:30:00');
    const r2 = await push(w, '1.1.0', 2);
    expect(r2).toMatchObject({
      outcome: 'queued',
      reason:
        'queued: held: outside deploy window until 2026-12-02T08:00:00.000Z; 1.1.0 starts when the deploy window opens',
    });
    const r3 = await push(w, '1.2.0', 3);
    expect(r3.outcome).toBe('queued');
    expect((await push(w, '1.1.5', 4)).outcome).toBe('ignored'); // lower than the queued 1.2.0
    const held = w.store.state('web')!;
    expect(held.queued).toMatchObject({ tag: '1.2.0', digest: digestOf(3) });
    expect(held.rollout).toMatchObject({ tag: '1.0.0', state: 'succeeded' });

    const before = await tick(w);
    expect(before.changed.filter((c) => c.kind === 'rollout')).toEqual([]);
    const doc = buildStatus({
      config: w.deps.config,
      states: new Map([['web', w.store.state('web')!]]),
      history: new Map(),
      listings: new Map(),
      secrets: new Map(),
      now: w.clock.now(),
    });
    expect(doc.apps[0]!.held).toEqual({
      reason: 'window',
      until: '2026-12-02T08:00:00.000Z',
      message: 'held: outside deploy window until 2026-12-02T08:00:00.000Z',
    });
    expect(w.groups.calls.create).toBe(1);

    w.clock.t = at('08:00:30') + 86_400_000; // Wednesday, inside the window
    await tick(w);
    const s = w.store.state('web')!;
    expect(s.rollout).toMatchObject({ tag: '1.2.0', digest: digestOf(3) });
    expect(Date.parse(s.rollout!.startedAt)).toBeGreaterThanOrEqual(Date.parse('2026-12-02T08:00:00Z'));
    expect(s.queued).toBeUndefined();
    await settle(w);
    expect(w.store.state('web')!.active).toMatchObject({ tag: '1.2.0' });
  });
});

describe('DEPLOY_FREEZE', () => {
  it('holds every app; rollback and abort still work; retry and redeploy only when forced', async () => {
    const w = world({ rollbackWindowSeconds: 600 }, ['web', 'api']);
    await deployInitial(w);
    await push(w, '1.1.0', 2);
    await passes(w, 8);
    expect(w.store.state('web')!.rollbackTarget).toMatchObject({ tag: '1.0.0' });
    w.deps.deployFreeze = {};
    const web = await push(w, '1.2.0', 3);
    expect(web).toMatchObject({ outcome: 'queued', reason: expect.stringContaining('held: freeze') });
    const api = await handlePushFor(w, 'api');
    expect(api).toMatchObject({ outcome: 'queued', reason: expect.stringContaining('held: freeze') });
    await tick(w);
    expect(w.store.state('api')!.rollout).toBeUndefined();

    const rollback = await act(w, 'rollback');
    expect(rollback).toMatchObject({ outcome: 'accepted' });
    await passes(w, 5); // (settle waits for the queue to empty, which the freeze prevents)
    expect(w.store.state('web')!.rollout).toMatchObject({ kind: 'rollback', state: 'succeeded' });
    expect(w.store.state('web')!.active).toMatchObject({ tag: '1.0.0' });
    expect(w.store.state('web')!.queued).toMatchObject({ tag: '1.2.0' });

    const redeploy = await act(w, 'redeploy');
    expect(redeploy).toEqual({
      outcome: 'notApplicable',
      app: 'web',
      action: 'redeploy',
      reason: 'held: freeze; send {"force": true} to redeploy now',
    });
    const forced = await act(w, 'redeploy', { force: true });
    expect(forced).toMatchObject({ outcome: 'accepted', rolloutId: expect.any(String) });
    expect(w.store.state('web')!.actions![0]).toMatchObject({ action: 'redeploy', forced: true });
    expect(w.store.state('web')!.rollout!.timeline[0]!.message).toContain('redeploy (forced) by alice');
    const aborted = await act(w, 'abort');
    expect(aborted).toMatchObject({ outcome: 'accepted' });

    // The freeze lifts: the next tick starts what waited.
    delete w.deps.deployFreeze;
    await tick(w);
    expect(w.store.state('api')!.rollout).toMatchObject({ tag: '2.0.0' });
    expect(w.store.state('web')!.rollout).toMatchObject({ tag: '1.2.0' });
  });

  it('parses force for retry and redeploy only', () => {
    expect(parseActionRequest('redeploy', '{"force":true,"reason":"hotfix"}')).toEqual({
      ok: true,
      action: 'redeploy',
      reason: 'hotfix',
      force: true,
    });
    expect(parseActionRequest('retry', '{"force":false}')).toEqual({ ok: true, action: 'retry' });
    expect(parseActionRequest('rollback', '{"force":true}')).toEqual({
      ok: false,
      message: '"force" applies to retry and redeploy (rollback is never held by deploy windows or a freeze)',
    });
    expect(parseActionRequest('retry', '{"force":"yes"}')).toEqual({
      ok: false,
      message: '"force" must be true or false',
    });
  });
});

async function passes(w: World, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await advance('web', w.deps, budget(w, 20));
    w.clock.advance(5_000);
  }
}

async function handlePushFor(w: World, app: string) {
  const { handleImagePushed } = await import('../../../src/domain/onImagePushed.js');
  const { pushEvent } = await import('../support/fakes.js');
  return handleImagePushed(
    pushEvent({ tag: '2.0.0', digest: digestOf(`${app}-2`), repository: app, at: w.clock.now() }),
    w.deps,
    budget(w, 20),
  );
}
