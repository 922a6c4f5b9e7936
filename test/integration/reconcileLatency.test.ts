/**
 * Reconcile latency on the local stack (RECONCILE_SCHEDULE=*\/2 * * * * *): IP fixes never wait behind a rollout.
 * A rollout whose new group starts slowly sits in its health gate for half a minute, resumed by the timer (the
 * event-triggered run's budget is cut to 3 s). Meanwhile a maintenance moves a tagged watched group: its secret
 * must hold the new IP within about two ticks. Before the rollout slice, the tick advancing the rollout slept
 * through the health gate and the fix took ~36 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TICK_MS,
  callIp,
  rolloutFinished,
  startHarness,
  waitFor,
  type Harness,
  type LastReconcile,
} from './reconcileHarness.js';

const WATCHED = { resourceGroup: 'rg-apps', name: 'latency-api', secret: 'latency-ip' };
const SLOW_START_SECONDS = 30;

function secretChange(lr: LastReconcile, secret: string) {
  return lr.changed.find((c) => c.kind === 'secret' && c.target.endsWith(`/secrets/${secret}`));
}

describe('reconcile latency: a rollout in its health gate does not hold back IP fixes', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      configure: (config) => {
        const web = config.apps[0]!;
        web['health'] = { ...(web['health'] as Record<string, unknown>), timeoutSeconds: 120 };
      },
      env: { ROLLOUT_EVENT_BUDGET_SECONDS: '3' },
    });
    await h.push('1.0.0');
    expect((await rolloutFinished(h, 'web', '1.0.0')).rollout?.state).toBe('succeeded');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('a maintenance on a tagged watched group is mirrored within about two ticks while the timer resumes a slow-starting rollout', async () => {
    const created = await h.createGroup(WATCHED.resourceGroup, WATCHED.name, { 'ip-secret': WATCHED.secret });
    const ip = created.ipAddress?.ip;
    expect(ip).toMatch(/^127\./);
    await waitFor('the watched secret', async () => (await h.readSecret(WATCHED.secret))?.value === ip);

    const pushedAt = Date.now();
    await h.push('1.1.0', `slow:${SLOW_START_SECONDS}`);
    // The event's run (3 s) is over and the timer owns the rollout, which waits in the health gate.
    await waitFor('the rollout in its health gate, resumed by the timer', async () => {
      const web = (await h.status()).apps.find((a) => a.name === 'web');
      return (
        Date.now() - pushedAt > 5_000 &&
        web?.rollout?.tag === '1.1.0' &&
        web.rollout.state === 'inProgress' &&
        web.rollout.step === 'healthGate'
      );
    });
    const during = await h.tickAfter(Date.now());
    expect(during.errors).toEqual([]);
    expect(during.durationMs).toBeLessThan(TICK_MS);

    const { oldIp, newIp } = await h.maintenance(WATCHED.resourceGroup, WATCHED.name);
    const movedAt = Date.now();
    expect(oldIp).toBe(ip);
    const fixed = await waitFor(
      'the watched secret to hold the new IP',
      async () => ((await h.readSecret(WATCHED.secret))?.value === newIp ? Date.now() : undefined),
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    const latencyMs = fixed - movedAt;
    console.log(`IP fix latency with a rollout in its health gate: ${latencyMs} ms`);
    // One of the first two ticks that start after the maintenance writes it.
    const first = await h.tickAfter(movedAt);
    const second = secretChange(first, WATCHED.secret) ? first : await h.tickAfter(Date.parse(first.at));
    expect(secretChange(second, WATCHED.secret)?.message).toContain(`${oldIp} → ${newIp}`);
    expect(latencyMs).toBeLessThan(2 * TICK_MS + 1_500);
    expect(await callIp(newIp)).toMatchObject({ ok: true, body: { group: WATCHED.name, ip: newIp } });

    // The fix did not wait for the rollout, which was still in its health gate.
    const web = (await h.status()).apps.find((a) => a.name === 'web')!;
    expect(web.rollout).toMatchObject({ tag: '1.1.0', state: 'inProgress', step: 'healthGate' });
    expect(Date.now() - pushedAt).toBeLessThan(SLOW_START_SECONDS * 1000);

    // The timer still finishes the rollout, tick by tick, once the container answers.
    const done = await rolloutFinished(h, 'web', '1.1.0', 90_000);
    expect(done.rollout?.state).toBe('succeeded');
    expect((await h.readSecret('web-ip'))?.value).toBe(done.ip);
    expect(await callIp(done.ip!)).toMatchObject({ ok: true, body: { group: done.activeGroup } });
  });
});
