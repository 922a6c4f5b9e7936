/**
 * Reconcile latency on the local stack: IP fixes never wait behind a rollout. A rollout whose new group starts
 * slowly sits in its health gate for half a minute, resumed by reconcile ticks (the event-triggered run's budget
 * is cut to 3 s). Meanwhile a maintenance moves a tagged watched group: the first tick that starts after it must
 * write the new IP, while the rollout still waits. Before the rollout slice, the tick advancing the rollout slept
 * through the health gate and the fix took ~36 s.
 *
 * The ticks run on demand one after another (startTicker), as the timer would, so the assertions name ticks and
 * order ("the first tick after the maintenance") rather than elapsed time (issue 19); the latency itself is
 * printed, and measured in `npm run bench`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callIp,
  rolloutFinished,
  startHarness,
  startTicker,
  type Harness,
  type LastReconcile,
} from './reconcileHarness.js';
import { waitFor } from '../../support/waiting.js';
import { NEVER_SCHEDULE } from '../support/stack.js';

const WATCHED = { resourceGroup: 'rg-apps', name: 'latency-api', secret: 'latency-ip' };
const SLOW_START_SECONDS = 30;

function secretChange(lr: Pick<LastReconcile, 'changed'>, secret: string) {
  return lr.changed.find((c) => c.kind === 'secret' && c.target.endsWith(`/secrets/${secret}`));
}

describe('reconcile latency: a rollout in its health gate does not hold back IP fixes', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      schedule: NEVER_SCHEDULE,
      configure: (config) => {
        const web = config.apps[0]!;
        web['health'] = { ...(web['health'] as Record<string, unknown>), timeoutSeconds: 120 };
      },
      env: { ROLLOUT_EVENT_BUDGET_SECONDS: '3' },
    });
    await h.push('1.0.0');
    // The event's run has 3 s: ticks finish the first rollout too.
    const ticker = startTicker(h, async () => undefined);
    const first = await rolloutFinished(h, 'web', '1.0.0').finally(() => ticker.stop());
    expect(first.rollout?.state).toBe('succeeded');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('a maintenance on a tagged watched group is mirrored by the next tick while the ticks resume a slow-starting rollout', async () => {
    const created = await h.createGroup(WATCHED.resourceGroup, WATCHED.name, { 'ip-secret': WATCHED.secret });
    const ip = created.ipAddress?.ip;
    expect(ip).toMatch(/^127\./);
    const first = await h.tickNow();
    expect(secretChange(first, WATCHED.secret)?.message).toContain(ip);
    expect((await h.readSecret(WATCHED.secret))?.value).toBe(ip);

    const pushedAt = Date.now();
    await h.push('1.1.0', `slow:${SLOW_START_SECONDS}`);
    // After each tick: where the rollout stands (read from the table: no Azure traffic).
    const ticker = startTicker(h, async () => (await h.store.get('web'))?.state.rollout);
    try {
      // The event's run (3 s) is over and the ticks own the rollout, which waits in the health gate.
      await waitFor('the rollout in its health gate, resumed by the ticks', async () => {
        const r = (await h.store.get('web'))?.state.rollout;
        return (
          Date.now() - pushedAt > 5_000 &&
          r?.tag === '1.1.0' &&
          r.state === 'inProgress' &&
          r.step === 'healthGate'
        );
      });
      // The next tick meets the rollout in its health gate and returns without waiting for the gate to open.
      const gateSeenAt = Date.now();
      const gated = await waitFor('a tick that met the health gate', async () =>
        ticker.ticks.find((t) => Date.parse(t.result.at) > gateSeenAt),
      );
      expect(gated.result.errors).toEqual([]);
      expect(gated.seen).toMatchObject({ tag: '1.1.0', state: 'inProgress', step: 'healthGate' });

      const { oldIp, newIp } = await h.maintenance(WATCHED.resourceGroup, WATCHED.name);
      const movedAt = Date.now();
      expect(oldIp).toBe(ip);
      const fixer = await waitFor(
        'a tick that started after the maintenance',
        async () => ticker.ticks.find((t) => Date.parse(t.result.at) > movedAt),
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      console.log(
        `IP fix latency with a rollout in its health gate: ${Date.parse(fixer.result.at) + fixer.result.durationMs - movedAt} ms`,
      );
      // The first tick after the maintenance wrote the new IP, and the rollout was still in its health gate.
      expect(secretChange(fixer.result, WATCHED.secret)?.message).toContain(`${oldIp} → ${newIp}`);
      expect(fixer.seen).toMatchObject({ tag: '1.1.0', state: 'inProgress', step: 'healthGate' });
      expect((await h.readSecret(WATCHED.secret))?.value).toBe(newIp);
      expect(await callIp(newIp)).toMatchObject({ ok: true, body: { group: WATCHED.name, ip: newIp } });

      // The ticks still finish the rollout once the container answers.
      const done = await rolloutFinished(h, 'web', '1.1.0', 90_000);
      expect(done.rollout?.state).toBe('succeeded');
      expect((await h.readSecret('web-ip'))?.value).toBe(done.ip);
      expect(await callIp(done.ip!)).toMatchObject({ ok: true, body: { group: done.activeGroup } });
    } finally {
      await ticker.stop();
    }
  });
});
