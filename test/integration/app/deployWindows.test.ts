/**
 * Issue 14's acceptance checks for deploy windows and DEPLOY_FREEZE, end to end on the local stack: a push outside
 * the app's window waits (status says "held: outside deploy window until …") and the reconcile timer starts it when
 * the window opens; DEPLOY_FREEZE (set in the host's settings, then a restart) holds every app, rollback still
 * works under it, redeploy is refused unless forced; lifting it starts what waited. The window is a real one a few
 * seconds ahead (cron with seconds), so the host runs on its real clock; nothing is asserted about elapsed time.
 */
import { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../support/waiting.js';
import { useManagedIdentity } from '../support/emulator.js';
import { SUB, fastApp, testSubnetId } from '../support/fastApp.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { stackDriver } from '../support/stackDriver.js';

const ARM_SCOPE = 'https://management.azure.com/.default';
const SUBNET = testSubnetId('windows-it');
/** Open from second 0 and second 30 of every minute, for 15 s. */
const WINDOW = { cron: '0,30 * * * * *', durationMinutes: 0.25, timeZone: 'UTC' };

interface StatusView {
  name: string;
  activeGroup: string | null;
  ip: string | null;
  digest: string | null;
  tag: string | null;
  rollout: {
    id: string;
    kind: string;
    state: string;
    step: string;
    tag: string;
    digest: string;
    startedAt: string;
  } | null;
  history: Array<{ digest: string }>;
  queued: { tag: string; digest: string } | null;
  held: { reason: string; until: string | null; message: string } | null;
  rollbackTarget: { group: string } | null;
}

interface Answer {
  group: string;
  digest: string;
}

/** Waits until the UTC second, modulo 30, is within [from, to] (the window is open in [0, 15)). */
const atSecond = (from: number, to: number) =>
  waitFor(
    `a second of the half-minute in [${from}, ${to}]`,
    () => {
      const s = new Date().getUTCSeconds() % 30;
      return s >= from && s <= to;
    },
    { timeoutMs: 40_000, intervalMs: 100 },
  );

describe('deploy windows and freeze end to end (issue 14 acceptance)', () => {
  let stack: TestStack;
  let restoreIdentity: (() => void) | undefined;
  let aci: ContainerInstanceManagementClient;
  let kv: SecretClient;
  const d = stackDriver<StatusView, Answer>(() => ({ stack, aci, kv }));

  beforeAll(async () => {
    stack = await startTestStack({
      appsConfig: ({ vaultUrl }) => {
        const app = (name: string, extra: Record<string, unknown> = {}) =>
          fastApp(name, {
            subnetId: SUBNET,
            vaultUrl: vaultUrl('kv-apps'),
            extra: { drainSeconds: 1, ...extra },
          });
        return {
          apps: [
            app('win', { deployWindows: [WINDOW] }),
            app('fz1', { rollbackWindowSeconds: 300 }),
            app('fz2'),
          ],
        };
      },
      env: { STATUS_CACHE_SECONDS: '0' },
      // A tick every second: a queued push starts within a second of its window opening.
      reconcileSchedule: '* * * * * *',
    });
    restoreIdentity = useManagedIdentity(stack.emulator);
    const credential = new DefaultAzureCredential();
    aci = new ContainerInstanceManagementClient(credential, SUB, {
      endpoint: stack.emulator.url,
      credentialScopes: [ARM_SCOPE],
    });
    kv = new SecretClient(stack.emulator.vaultUrl('kv-apps'), credential);
  }, 120_000);

  afterAll(async () => {
    restoreIdentity?.();
    await stack?.stop();
  });

  let logMark = 0;
  beforeEach(() => {
    logMark = stack?.hostLogs.length ?? 0;
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail' && stack)
      console.log(
        `host log during "${ctx.task.name}":\n${stack.hostLogs.slice(logMark).slice(-80).join('\n')}`,
      );
  });

  const deploy = async (app: string, tag: string) => {
    const { digest } = await d.push(app, tag);
    const status = await d.rolloutOutcome(app, digest, 60_000);
    expect(status.rollout, `${app}:${tag}`).toMatchObject({ digest, state: 'succeeded' });
    return { digest, status };
  };

  const queuedAs = (app: string, tag: string) =>
    waitFor(
      `${app}'s push of ${tag} to be queued`,
      async () => {
        const s = await d.status(app);
        return s.queued?.tag === tag ? s : undefined;
      },
      { timeoutMs: 15_000 },
    );

  it('a push outside the window waits and starts when the window opens', async () => {
    await atSecond(1, 5);
    await deploy('win', '1.0.0');
    await atSecond(17, 24);
    const mark = await d.requestMark();
    const { digest } = await d.push('win', '1.1.0');
    const held = await queuedAs('win', '1.1.0');
    expect(held.held).toMatchObject({ reason: 'window' });
    expect(held.held!.message).toBe(`held: outside deploy window until ${held.held!.until}`);
    expect(new Date(held.held!.until!).getUTCSeconds() % 30).toBe(0);
    expect(held.rollout).toMatchObject({ tag: '1.0.0', state: 'succeeded' });
    expect(await d.createsOf('win', mark)).toEqual([]);

    const started = await d.rolloutOutcome('win', digest, 60_000);
    expect(started.rollout).toMatchObject({ kind: 'push', state: 'succeeded', tag: '1.1.0' });
    expect(Date.parse(started.rollout!.startedAt)).toBeGreaterThanOrEqual(Date.parse(held.held!.until!));
    expect(started.queued).toBeNull();
    expect(await d.createsOf('win', mark)).toHaveLength(1);
  });

  it('DEPLOY_FREEZE holds every app; rollback still works; redeploy only forced; lifting it starts what waited', async () => {
    await deploy('fz1', '1.0.0');
    const v11 = await deploy('fz1', '1.1.0');
    expect(v11.status.rollbackTarget).toMatchObject({ group: 'fz1-blue' });
    await deploy('fz2', '1.0.0');

    stack.settings['DEPLOY_FREEZE'] = 'true';
    await stack.restartHost();
    const mark = await d.requestMark();
    const fz1Next = await d.push('fz1', '1.2.0');
    const fz2Next = await d.push('fz2', '1.1.0');
    for (const [app, tag] of [
      ['fz1', '1.2.0'],
      ['fz2', '1.1.0'],
    ] as const)
      expect((await queuedAs(app, tag)).held).toEqual({
        reason: 'freeze',
        until: null,
        message: 'held: freeze',
      });
    expect((await d.status('win')).held).toMatchObject({ reason: 'freeze' });

    const blueIp = (await d.groupsOf('fz1')).find((g) => g.name === 'fz1-blue')!.ipAddress!.ip!;
    const rollback = await stack.postAction('fz1', 'rollback', { reason: 'bad release during the freeze' });
    expect(rollback.status).toBe(202);
    expect((await d.readSecret('fz1-ip')).value).toBe(blueIp);
    const back = await d.rolloutOutcome('fz1', (await d.status('fz1')).rollout!.digest);
    expect(back.rollout).toMatchObject({ kind: 'rollback', state: 'succeeded', tag: '1.0.0' });
    expect(back.queued).toMatchObject({ tag: '1.2.0' });

    const redeploy = await stack.postAction('fz2', 'redeploy');
    expect(redeploy.status).toBe(409);
    expect(((await redeploy.json()) as { message: string }).message).toBe(
      'held: freeze; send {"force": true} to redeploy now',
    );
    await sleep(2500); // timer ticks: nothing starts under the freeze
    expect(await d.createsOf('fz2', mark)).toEqual([]);

    delete stack.settings['DEPLOY_FREEZE'];
    await stack.restartHost();
    const fz2Done = await d.rolloutOutcome('fz2', fz2Next.digest, 60_000);
    expect(fz2Done.rollout).toMatchObject({ state: 'succeeded', tag: '1.1.0' });
    expect(fz2Done.held).toBeNull();
    const fz1Done = await d.rolloutOutcome('fz1', fz1Next.digest, 60_000);
    expect(fz1Done.rollout).toMatchObject({ state: 'succeeded', tag: '1.2.0' });
  });
});
