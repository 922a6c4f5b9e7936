/**
 * Issue 5 acceptance: what the `reconcile` timer finishes for rollouts, on the local stack. The ticks are run on
 * demand one after another (startTicker), as the timer would every 2 s, so that each assertion names the tick
 * that did something ("the first tick that started after the drain ended deleted the old group") instead of
 * bounding wall-clock time (issue 19). The functions host is SIGKILLed in the middle of a rollout (after its group was created) and restarted;
 * the Event Grid subscription allows one delivery attempt, so the killed delivery is not redelivered and only the
 * timer can move the rollout on.
 *
 *  - an interrupted rollout is completed by the next ticks, and the old group is deleted when its drain ends
 *  - an interrupted rollout whose image cannot be pulled is rolled back (new group deleted, old one kept)
 *  - an orphan (a group tagged as ours that no rollout refers to) is removed once its grace period has passed,
 *    and a group without our managed-by tag is never touched
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callIp,
  rolloutFinished,
  startHarness,
  startTicker,
  type Harness,
  type TickRecord,
} from './reconcileHarness.js';
import { waitFor } from '../../support/waiting.js';
import { NEVER_SCHEDULE } from '../support/stack.js';

const DRAIN_SECONDS = 6;
const ORPHAN_GRACE_SECONDS = 8;

/**
 * Removed on time, in the order of ticks: every tick that had ended before `dueAt` left the group in place, and
 * the first tick that ended at or after `dueAt` (the one running then, which may have waited for it inside its
 * slice, or the first one to start after it) left it deleting or gone. Returns the ticks that ended before, and
 * that first tick.
 */
function removedOnTime<T>(ticks: Array<TickRecord<T>>, dueAt: number, present: (seen: T) => boolean) {
  const endOf = (t: TickRecord<T>) => Date.parse(t.result.at) + t.result.durationMs;
  const before = ticks.filter((t) => endOf(t) < dueAt);
  expect(before.every((t) => present(t.seen))).toBe(true);
  const remover = ticks.find((t) => endOf(t) >= dueAt);
  expect(remover, 'a tick that ended after the due time').toBeDefined();
  expect(present(remover!.seen)).toBe(false);
  return { before, remover: remover! };
}

interface Delivery {
  subject: string;
  state: string;
  attempts: Array<{ status?: number; outcome: string }>;
}

describe('reconcile timer: interrupted rollouts, drained groups, orphans', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      schedule: NEVER_SCHEDULE,
      configure: (config) => {
        config.apps[0]!['drainSeconds'] = DRAIN_SECONDS;
        config.reconcile = { orphanGraceSeconds: ORPHAN_GRACE_SECONDS };
      },
    });
    // One delivery attempt: a delivery cut by the SIGKILL is dead-lettered instead of retried.
    const host = h.stack.host;
    const sub = await h.stack.emulator.control('POST', '/_emulator/eventgrid/subscriptions', {
      registryName: 'contoso',
      name: 'functions-onimagepushed',
      endpointUrl: `${host.baseUrl}/runtime/webhooks/eventgrid?functionName=onImagePushed&code=${host.systemKey}`,
      includedEventTypes: ['Microsoft.ContainerRegistry.ImagePushed'],
      maxDeliveryAttempts: 1,
    });
    expect(sub.status).toBe(200);
    await h.push('1.0.0');
    const app = await rolloutFinished(h, 'web', '1.0.0');
    expect(app).toMatchObject({ activeGroup: 'web-blue', rollout: { state: 'succeeded' } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const deliveriesOf = async (subject: string) =>
    (
      await h.stack.emulator.control<{ value: Delivery[] }>('GET', '/_emulator/eventgrid/deliveries')
    ).body.value.filter((d) => d.subject === subject);

  /** Pushes web:{tag}, waits until its group exists, then SIGKILLs the host and starts it again. */
  async function pushAndKill(tag: string, behavior: string, group: string) {
    await h.push(tag, behavior);
    await waitFor(`${group} created by the rollout of ${tag}`, () => h.emulatorGroup('rg-apps', group), {
      intervalMs: 20,
    });
    // Interrupted: at the kill the rollout is in progress, past the create, and its group is the one created.
    // (Read from the table before the kill: once the host is back, a tick may move it on at any moment.)
    const stored = (await h.store.get('web'))?.state.rollout;
    await h.stack.restartHost({ signal: 'SIGKILL' });
    expect(stored).toMatchObject({ tag, state: 'inProgress', group });
    expect(['creating', 'waitingRunning', 'healthGate']).toContain(stored!.step);
    const created = await h.aci.containerGroups.get('rg-apps', group);
    expect(created.tags?.['rollout-id']).toBe(stored!.id);
    return stored!.id;
  }

  it('completes a rollout interrupted after its group was created; the drained group is deleted on time', async () => {
    const blueIp = (await h.readSecret('web-ip'))!.value!;
    expect(await callIp(blueIp)).toMatchObject({ ok: true, body: { group: 'web-blue' } });

    // The new image answers only 8 s after it starts: the kill lands during waitingRunning or the health gate.
    const rolloutId = await pushAndKill('1.1.0', 'slow:8', 'web-green');

    // Ticks finish the rollout; after each one, where the old group stands.
    const blueState = async () => {
      const g = await h.emulatorGroup('rg-apps', 'web-blue');
      return !g ? 'gone' : g.provisioningState === 'Deleting' ? 'deleting' : 'serving';
    };
    const ticker = startTicker(h, blueState);
    let oldIpDuringDrain: Awaited<ReturnType<typeof callIp>> | undefined;
    const app = await waitFor(
      'the ticks to finish the rollout of 1.1.0',
      async () => {
        const g = await h.emulatorGroup('rg-apps', 'web-blue');
        const a = (await h.status()).apps.find((x) => x.name === 'web')!;
        if (a.activeGroup === 'web-green' && g && g.provisioningState !== 'Deleting' && !oldIpDuringDrain)
          oldIpDuringDrain = await callIp(blueIp);
        return a.rollout?.id === rolloutId && a.rollout.state !== 'inProgress' ? a : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    ).finally(() => ticker.stop());
    expect(app.rollout).toMatchObject({ state: 'succeeded', step: 'succeeded', tag: '1.1.0' });
    expect(app.activeGroup).toBe('web-green');

    // Only the timer could have done it: the delivery that was cut by the kill was not redelivered.
    const deliveries = await deliveriesOf('web:1.1.0');
    expect(deliveries.length).toBeGreaterThan(0);
    for (const d of deliveries) {
      expect(d.attempts).toHaveLength(1);
      expect(d.state).not.toBe('delivered');
    }

    // The secret points at the new group; a caller that re-reads it reaches the new image.
    const secret = await h.readSecret('web-ip');
    expect(secret?.value).toBe(app.ip);
    expect(secret?.tags).toMatchObject({ group: 'web-green', colour: 'green', digest: app.digest! });
    expect(await callIp(secret!.value!)).toMatchObject({
      ok: true,
      status: 200,
      body: { group: 'web-green' },
    });

    // The old group kept serving callers that had not re-read the secret until its drain ended, then went away:
    // not before the drain's end the app recorded, and by the first tick that started after it.
    expect(oldIpDuringDrain).toMatchObject({ ok: true, status: 200, body: { group: 'web-blue' } });
    const finished = (await h.store.get('web'))!.state.rollout!;
    expect(finished.id).toBe(rolloutId);
    const drainUntil = Date.parse(finished.drainUntil!);
    expect(drainUntil - Date.parse(finished.switchedAt!)).toBe(DRAIN_SECONDS * 1000);
    expect(Date.parse(finished.deleteRequestedAt!)).toBeGreaterThanOrEqual(drainUntil);
    removedOnTime(ticker.ticks, drainUntil, (blue) => blue === 'serving');
    const gone = await h.aci.containerGroups.get('rg-apps', 'web-blue').catch((e: unknown) => e);
    expect(gone).toMatchObject({ name: 'RestError', statusCode: 404 });
  });

  it('rolls back a rollout interrupted after its group was created when its image cannot be pulled', async () => {
    const before = (await h.status()).apps.find((a) => a.name === 'web')!;
    expect(before.activeGroup).toBe('web-green');
    const secretBefore = (await h.readSecret('web-ip'))!;

    const rolloutId = await pushAndKill('1.2.0', 'pull-failure', 'web-blue');
    const ticker = startTicker(h, async () => undefined);
    const app = await waitFor(
      'the ticks to finish the rollout of 1.2.0',
      async () => {
        const a = (await h.status()).apps.find((x) => x.name === 'web')!;
        return a.rollout?.id === rolloutId && a.rollout.state !== 'inProgress' ? a : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    ).finally(() => ticker.stop());
    expect(app.rollout).toMatchObject({ state: 'failed', reason: 'ImagePullFailed' });
    expect(app.rollout!.error).toContain('pull');
    // The new group is deleted by the tick that rolled back or by one of the next two; the old one still serves
    // and the secret was never touched.
    const newGroupLeft = async () => {
      const g = await h.emulatorGroup('rg-apps', 'web-blue');
      return g !== undefined && g.provisioningState !== 'Deleting';
    };
    for (let i = 0; i < 2 && (await newGroupLeft()); i++) await h.tickNow();
    expect(await newGroupLeft()).toBe(false);
    await waitFor('the failed group to be gone', async () => !(await h.emulatorGroup('rg-apps', 'web-blue')));
    expect(app.activeGroup).toBe('web-green');
    const secret = await h.readSecret('web-ip');
    expect(secret?.version).toBe(secretBefore.version);
    expect(await callIp(secret!.value!)).toMatchObject({ ok: true, body: { group: 'web-green' } });
    const deliveries = await deliveriesOf('web:1.2.0');
    for (const d of deliveries) expect(d.attempts).toHaveLength(1);
  });

  it('removes an orphan after the grace period and never touches a group without our managed-by tag', async () => {
    const createdAt = new Date();
    await h.createGroup('rg-apps', 'web-orphan', {
      'managed-by': 'aci-bluegreen',
      app: 'web',
      colour: 'green',
      'rollout-id': 'rollout-that-crashed',
      'created-at': createdAt.toISOString(),
    });
    await h.createGroup('rg-apps', 'web-handmade', { app: 'web', 'created-at': createdAt.toISOString() });
    const dueAt = createdAt.getTime() + ORPHAN_GRACE_SECONDS * 1000;

    const orphanPresent = async () => {
      const g = await h.emulatorGroup('rg-apps', 'web-orphan');
      return g !== undefined && g.provisioningState !== 'Deleting';
    };
    const ticker = startTicker(h, orphanPresent);
    await waitFor('the orphan to be removed', async () => !(await orphanPresent()), {
      timeoutMs: (ORPHAN_GRACE_SECONDS + 20) * 1000,
      intervalMs: 200,
    }).finally(() => ticker.stop());
    // Not before the grace period, and by the first tick after it, which says why.
    const { before, remover } = removedOnTime(ticker.ticks, dueAt, (present) => present);
    expect(before.length, 'ticks that ran inside the grace period').toBeGreaterThan(0);
    const deletion = remover.result.changed.find(
      (c) => c.kind === 'groupDeleted' && c.target === 'rg-apps/web-orphan',
    );
    expect(deletion?.message).toContain('rollout-that-crashed');

    // Two more ticks: the hand-made group (same app tag, no managed-by) and the active group stay.
    await h.tickNow();
    await h.tickNow();
    expect(await h.emulatorGroup('rg-apps', 'web-handmade')).toMatchObject({
      provisioningState: 'Succeeded',
    });
    expect(await h.emulatorGroup('rg-apps', 'web-green')).toMatchObject({ provisioningState: 'Succeeded' });
  });
});
