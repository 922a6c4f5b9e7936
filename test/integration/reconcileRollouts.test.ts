/**
 * Issue 5 acceptance: what the `reconcile` timer finishes for rollouts, on the local stack with the timer every
 * 2 s. The functions host is SIGKILLed in the middle of a rollout (after its group was created) and restarted;
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
  TICK_MS,
  callIp,
  rolloutFinished,
  sleep,
  startHarness,
  waitFor,
  type Harness,
} from './reconcileHarness.js';

const DRAIN_SECONDS = 6;
const ORPHAN_GRACE_SECONDS = 8;
/** A delete LRO (the emulator: one provisioning step) plus a status poll, on top of the next tick. */
const DELETE_SLACK_MS = 3_000;

interface Delivery {
  subject: string;
  state: string;
  attempts: Array<{ status?: number; outcome: string }>;
}

describe('reconcile timer: interrupted rollouts, drained groups, orphans', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
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

    // Watch the old group while the ticks finish the rollout.
    const seen: Array<{ t: number; blue: 'serving' | 'deleting' | 'gone' }> = [];
    let oldIpDuringDrain: Awaited<ReturnType<typeof callIp>> | undefined;
    const app = await waitFor(
      'the timer to finish the rollout of 1.1.0',
      async () => {
        const g = await h.emulatorGroup('rg-apps', 'web-blue');
        seen.push({
          t: Date.now(),
          blue: !g ? 'gone' : g.provisioningState === 'Deleting' ? 'deleting' : 'serving',
        });
        const a = (await h.status()).apps.find((x) => x.name === 'web')!;
        if (a.activeGroup === 'web-green' && g && g.provisioningState !== 'Deleting' && !oldIpDuringDrain)
          oldIpDuringDrain = await callIp(blueIp);
        return a.rollout?.id === rolloutId && a.rollout.state !== 'inProgress' ? a : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    );
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

    // The old group kept serving callers that had not re-read the secret until its drain ended, then went away.
    expect(oldIpDuringDrain).toMatchObject({ ok: true, status: 200, body: { group: 'web-blue' } });
    const switchedAt = Date.parse(app.rollout!.timeline.find((c) => c.step === 'switching')!.at);
    const drainUntil = switchedAt + DRAIN_SECONDS * 1000;
    const early = seen.filter((s) => s.t < drainUntil - 100);
    expect(early.some((s) => s.t > switchedAt)).toBe(true);
    expect(early.every((s) => s.blue === 'serving')).toBe(true);
    const removedAt = seen.find((s) => s.blue !== 'serving')?.t;
    expect(removedAt).toBeDefined();
    expect(removedAt!).toBeGreaterThanOrEqual(drainUntil - 100);
    expect(removedAt!).toBeLessThanOrEqual(drainUntil + TICK_MS + DELETE_SLACK_MS);
    const gone = await h.aci.containerGroups.get('rg-apps', 'web-blue').catch((e: unknown) => e);
    expect(gone).toMatchObject({ name: 'RestError', statusCode: 404 });
  });

  it('rolls back a rollout interrupted after its group was created when its image cannot be pulled', async () => {
    const before = (await h.status()).apps.find((a) => a.name === 'web')!;
    expect(before.activeGroup).toBe('web-green');
    const secretBefore = (await h.readSecret('web-ip'))!;

    const rolloutId = await pushAndKill('1.2.0', 'pull-failure', 'web-blue');
    const app = await waitFor(
      'the timer to finish the rollout of 1.2.0',
      async () => {
        const a = (await h.status()).apps.find((x) => x.name === 'web')!;
        return a.rollout?.id === rolloutId && a.rollout.state !== 'inProgress' ? a : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(app.rollout).toMatchObject({ state: 'failed', reason: 'ImagePullFailed' });
    expect(app.rollout!.error).toContain('pull');
    // The new group is deleted; the old one still serves and the secret was never touched.
    await waitFor(
      'the failed group to be deleted',
      async () => !(await h.emulatorGroup('rg-apps', 'web-blue')),
      {
        timeoutMs: TICK_MS * 2 + DELETE_SLACK_MS,
      },
    );
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

    const seen: Array<{ t: number; present: boolean }> = [];
    let deletion: string | undefined;
    await waitFor(
      'the orphan to be removed',
      async () => {
        const g = await h.emulatorGroup('rg-apps', 'web-orphan');
        const present = g !== undefined && g.provisioningState !== 'Deleting';
        seen.push({ t: Date.now(), present });
        const lr = (await h.status()).lastReconcile;
        const change = lr?.changed.find(
          (c) => c.kind === 'groupDeleted' && c.target === 'rg-apps/web-orphan',
        );
        deletion ??= change?.message;
        return !present && deletion !== undefined;
      },
      { timeoutMs: (ORPHAN_GRACE_SECONDS + 20) * 1000, intervalMs: 200 },
    );
    expect(deletion).toContain('rollout-that-crashed');
    // Not before the grace period, and by the first tick after it.
    expect(seen.filter((s) => s.t < dueAt - 100).every((s) => s.present)).toBe(true);
    expect(seen.some((s) => s.t < dueAt - 1000)).toBe(true);
    const removedAt = seen.find((s) => !s.present)!.t;
    expect(removedAt).toBeGreaterThanOrEqual(dueAt - 100);
    expect(removedAt).toBeLessThanOrEqual(dueAt + TICK_MS + DELETE_SLACK_MS);

    // Two more ticks: the hand-made group (same app tag, no managed-by) and the active group stay.
    const lastTick = Date.now();
    await h.tickAfter(lastTick);
    await sleep(TICK_MS);
    await h.tickAfter(Date.now());
    expect(await h.emulatorGroup('rg-apps', 'web-handmade')).toMatchObject({
      provisioningState: 'Succeeded',
    });
    expect(await h.emulatorGroup('rg-apps', 'web-green')).toMatchObject({ provisioningState: 'Succeeded' });
  });
});
