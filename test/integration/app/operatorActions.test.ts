/**
 * Issue 13's acceptance checks, end to end on the local stack through the real routes: the operator actions
 * (`POST /api/apps/{app}/{action}` with the actions key), manual promotion, verify after the switch and the
 * rollback window, with callers that re-read the Key Vault secret every second. Each scenario has its own app.
 * Outcomes are read with the real SDK clients and the emulator's request log; no assertion is on elapsed time
 * (the figures are in `npm run demo` and the issue's note).
 */
import { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { execFile } from 'node:child_process';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../support/waiting.js';
import { startCaller } from '../support/caller.js';
import { useManagedIdentity } from '../support/emulator.js';
import { PORT, SUB, fastApp, testSubnetId } from '../support/fastApp.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { stackDriver } from '../support/stackDriver.js';
import { handedOutKey } from '../../../scripts/lib/localStack.js';

/** The built CLI (package.json bin), run as an operator runs it; resolves with its exit code and output. */
function acibg(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['dist/src/cli/main.js', ...args],
      { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

const ARM_SCOPE = 'https://management.azure.com/.default';
const SUBNET = testSubnetId('operator-it');
const VERIFY = { intervalSeconds: 0.5, durationSeconds: 3, failureThreshold: 3 };
const ACTIONS = ['rollback', 'promote', 'abort', 'pause', 'resume', 'retry', 'redeploy'];

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
    reason: string | null;
    error: string | null;
    group: string;
    verify: { probes: number; failures: number; last: string | null } | null;
  } | null;
  history: Array<{ digest: string; kind: string; requestedBy: { actor: string; reason?: string } | null }>;
  paused: { actor: string; reason?: string } | null;
  previewIp: string | null;
  rollbackTarget: { group: string; until: string } | null;
  actions: Array<{ action: string; actor: string; reason?: string }>;
  availableActions: string[];
  queued: { tag: string } | null;
}

interface Answer {
  group: string;
  digest: string;
}

function appsConfig(vaultUrl: string): Record<string, unknown> {
  const app = (name: string, extra: Record<string, unknown>) =>
    fastApp(name, { subnetId: SUBNET, vaultUrl, extra: { drainSeconds: 2, ...extra } });
  return {
    apps: [
      // Callers re-read the secret every second: a 5 s drain leaves room for a slow read on a loaded machine.
      app('rb', { rollbackWindowSeconds: 300, drainSeconds: 5 }),
      app('mp', { promotion: { mode: 'manual' }, verify: VERIFY, drainSeconds: 5 }),
      app('dg', { verify: { ...VERIFY, durationSeconds: 20 } }),
      app('pr', {}),
      app('rt', {}),
    ],
  };
}

describe('operator actions end to end (issue 13 acceptance)', () => {
  let stack: TestStack;
  let restoreIdentity: (() => void) | undefined;
  let aci: ContainerInstanceManagementClient;
  let kv: SecretClient;
  const d = stackDriver<StatusView, Answer>(() => ({ stack, aci, kv }));

  beforeAll(async () => {
    stack = await startTestStack({
      appsConfig: ({ vaultUrl }) => appsConfig(vaultUrl('kv-apps')),
      env: { STATUS_CACHE_SECONDS: '0' },
      // A timer every 2 s finishes drains and verify periods the push's own run leaves.
      reconcileSchedule: '*/2 * * * * *',
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

  const act = async (app: string, action: string, body?: unknown) => {
    const res = await stack.postAction(app, action, body);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  /** Push and wait until the rollout of that digest has finished (any outcome). */
  const deploy = async (app: string, tag: string, behavior?: string) => {
    const { digest } = await d.push(app, tag, behavior ? { behavior } : {});
    return { digest, status: await d.rolloutOutcome(app, digest, 60_000) };
  };

  const rolloutAt = (app: string, step: string) =>
    waitFor(
      `${app}'s rollout to reach ${step}`,
      async () => {
        const s = await d.status(app);
        return s.rollout?.step === step && s.rollout.state !== 'failed' ? s : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 200 },
    );

  const caller = (app: string) =>
    startCaller({ secrets: kv, secretName: `${app}-ip`, port: PORT, refreshMs: 1000 });

  it('the status key opens no action route; the actions key does; unknown app 404, unknown action 400', async () => {
    for (const action of ACTIONS) {
      const res = await stack.call(`/api/apps/pr/${action}`, { method: 'POST' });
      await res.text();
      expect([401, 403], `${action} with the status key`).toContain(res.status);
    }
    expect((await act('nope', 'pause')).status).toBe(404);
    expect((await act('pr', 'explode')).status).toBe(400);
    expect((await act('pr', 'resume')).status).toBe(409);
  });

  it('rollback inside the window: the secret moves back before the 202, no group is created, no call fails', async () => {
    const v1 = await deploy('rb', '1.0.0');
    expect(v1.status.rollout!.state).toBe('succeeded');
    const v2 = await deploy('rb', '1.1.0');
    expect(v2.status).toMatchObject({ activeGroup: 'rb-green', rollbackTarget: { group: 'rb-blue' } });
    const blueIp = (await d.groupsOf('rb')).find((g) => g.name === 'rb-blue')!.ipAddress!.ip!;
    const calls = await caller('rb');
    await sleep(1500);

    const mark = await d.requestMark();
    const res = await act('rb', 'rollback', { reason: 'error rate up' });
    expect(res).toMatchObject({ status: 202, body: { app: 'rb', action: 'rollback' } });
    expect((await d.readSecret('rb-ip')).value).toBe(blueIp);
    await d.onlyGroups('rb', ['rb-blue']);
    expect(await d.createsOf('rb', mark)).toEqual([]);
    await sleep(2500); // the caller's next reads (every second) reach rb-blue
    const report = await calls.stop();
    expect(report.failures, JSON.stringify(report.failureSamples)).toBe(0);
    expect(report.digestOrder).toEqual([v2.digest, v1.digest]);

    const s = await d.rolloutOutcome('rb', v1.digest);
    expect(s).toMatchObject({ activeGroup: 'rb-blue', digest: v1.digest, rollbackTarget: null });
    expect(s.rollout).toMatchObject({ kind: 'rollback', state: 'succeeded' });
    expect(s.actions[0]).toMatchObject({
      action: 'rollback',
      actor: 'function key',
      reason: 'error rate up',
    });
    expect(s.history[0]).toMatchObject({ kind: 'rollback', requestedBy: { reason: 'error rate up' } });
  });

  it('manual promotion: the new version waits in the preview secret, promote switches with no failed call; abort removes a waiting group', async () => {
    const v1 = await deploy('mp', '1.0.0');
    expect(v1.status.rollout!.state).toBe('succeeded');
    const calls = await caller('mp');
    const { digest: d2 } = await d.push('mp', '1.1.0');
    const waiting = await rolloutAt('mp', 'awaitingPromotion');
    expect(waiting.rollout).toMatchObject({ digest: d2, state: 'awaitingPromotion' });
    expect(waiting.availableActions).toEqual(expect.arrayContaining(['promote', 'abort']));
    const green = await d.callIp(waiting.previewIp!);
    expect(green).toMatchObject({ group: 'mp-green', digest: d2 });
    expect((await d.readSecret('mp-ip-preview')).value).toBe(waiting.previewIp);
    expect((await d.readSecret('mp-ip')).value).not.toBe(waiting.previewIp);

    expect(await act('mp', 'promote', { reason: 'QA passed' })).toMatchObject({ status: 202 });
    const promoted = await d.rolloutOutcome('mp', d2);
    expect(promoted.rollout).toMatchObject({ state: 'succeeded' });
    expect(promoted.activeGroup).toBe('mp-green');
    await sleep(2000);
    const report = await calls.stop();
    expect(report.failures, JSON.stringify(report.failureSamples)).toBe(0);
    expect(report.digestOrder).toEqual([v1.digest, d2]);

    const { digest: d3 } = await d.push('mp', '1.2.0');
    await rolloutAt('mp', 'awaitingPromotion');
    expect(await d.groupExists('mp-blue')).toBe(true);
    expect(await act('mp', 'abort', { reason: 'not today' })).toMatchObject({ status: 202 });
    const aborted = await d.rolloutOutcome('mp', d3);
    expect(aborted.rollout).toMatchObject({ state: 'aborted', reason: 'AbortedByOperator' });
    await d.onlyGroups('mp', ['mp-green']);
    expect((await d.readSecret('mp-ip')).value).toBe(promoted.ip);
    expect((await act('mp', 'promote')).status).toBe(409);
  });

  it('a version that degrades after the health gate is reverted by verify; the old group answered throughout', async () => {
    const v1 = await deploy('dg', '1.0.0');
    expect(v1.status.rollout!.state).toBe('succeeded');
    const blueIp = v1.status.ip!;
    let oldFailures = 0;
    let oldCalls = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        oldCalls++;
        await d.callIp(blueIp).catch(() => oldFailures++);
        await sleep(100);
      }
    })();
    const { digest: d2 } = await d.push('dg', '1.1.0', { behavior: 'degrade:3' });
    const out = await d.rolloutOutcome('dg', d2, 60_000);
    polling = false;
    await poll;

    expect(out.rollout).toMatchObject({ state: 'rolledBack', reason: 'VerifyFailed' });
    expect(out.rollout!.error).toContain(`${VERIFY.failureThreshold} consecutive`);
    // Reverted at the threshold-th failing probe, not later.
    expect(out.rollout!.verify).toMatchObject({ failures: VERIFY.failureThreshold });
    expect(out).toMatchObject({ activeGroup: 'dg-blue', digest: v1.digest });
    expect((await d.readSecret('dg-ip')).value).toBe(blueIp);
    expect(oldCalls).toBeGreaterThan(10);
    expect(oldFailures).toBe(0);
    await d.onlyGroups('dg', ['dg-blue']);
    const again = await d.push('dg', '1.1.0', { digest: d2 });
    await sleep(1000);
    expect((await d.status('dg')).rollout!.id).toBe(out.rollout!.id);
    expect(again.digest).toBe(d2);
  });

  it('pause + 3 pushes + resume runs exactly one rollout, to the newest', async () => {
    await deploy('pr', '1.0.0');
    expect(await act('pr', 'pause', { reason: 'freeze' })).toMatchObject({ status: 202 });
    const mark = await d.requestMark();
    await d.push('pr', '1.1.0');
    await d.push('pr', '1.2.0');
    const newest = await d.push('pr', '1.3.0');
    const queued = await waitFor(
      'the newest push to be queued',
      async () => {
        const s = await d.status('pr');
        return s.queued?.tag === '1.3.0' ? s : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(queued.paused).toMatchObject({ actor: 'function key', reason: 'freeze' });
    await sleep(2500); // a timer tick or two: nothing starts while paused
    expect(await d.createsOf('pr', mark)).toEqual([]);

    const resumed = await act('pr', 'resume');
    expect(resumed.status).toBe(202);
    const done = await d.rolloutOutcome('pr', newest.digest);
    expect(done).toMatchObject({ tag: '1.3.0', digest: newest.digest, paused: null });
    expect(await d.createsOf('pr', mark)).toHaveLength(1);
  });

  it('retry deploys a version that failed for a cause fixed outside (the registry refused, then allowed)', async () => {
    await deploy('rt', '1.0.0');
    const locked = { publicNetworkAccess: 'Disabled', networkRuleBypassOptions: 'None' };
    expect(
      (await stack.emulator.control('POST', '/_emulator/registries/contoso/network', locked)).status,
    ).toBe(200);
    try {
      const failed = await deploy('rt', '1.1.0');
      expect(failed.status.rollout).toMatchObject({ state: 'failed', reason: 'RegistryNetworkRestricted' });
    } finally {
      const open = { publicNetworkAccess: 'Enabled', networkRuleBypassOptions: 'AzureServices' };
      await stack.emulator.control('POST', '/_emulator/registries/contoso/network', open);
    }
    const res = await act('rt', 'retry', { reason: 'trusted services allowed again' });
    expect(res).toMatchObject({ status: 202, body: { action: 'retry' } });
    const retried = await d.rolloutOutcome('rt', (await d.status('rt')).rollout!.digest);
    expect(retried.rollout).toMatchObject({ kind: 'retry', state: 'succeeded', tag: '1.1.0' });
    expect(retried).toMatchObject({ tag: '1.1.0', activeGroup: 'rt-green' });
  });

  it('the operator CLI drives the same routes: status, pause and resume with a reason; the status key is refused for actions', async () => {
    const base = { ACIBG_URL: stack.host.baseUrl };
    const actionsKey = handedOutKey(stack.host, 'actionsKey');
    const statusKey = handedOutKey(stack.host, 'functionKey');
    const status = await acibg(['status', 'pr'], { ...base, ACIBG_STATUS_KEY: statusKey });
    expect(status.code, status.out).toBe(0);
    expect(status.out).toContain('1.3.0');

    const paused = await acibg(['pause', 'pr', '--reason', 'cli check'], { ...base, ACIBG_KEY: actionsKey });
    expect(paused.code, paused.out).toBe(0);
    expect((await d.status('pr')).paused).toMatchObject({ reason: 'cli check' });
    const again = await acibg(['pause', 'pr'], { ...base, ACIBG_KEY: actionsKey });
    expect(again.code).toBe(4);
    expect(again.out).toContain('already paused');
    const wrongKey = await acibg(['resume', 'pr'], { ...base, ACIBG_KEY: statusKey });
    expect(wrongKey.code).toBe(5);
    const resumed = await acibg(['resume', 'pr', '--json'], { ...base, ACIBG_KEY: actionsKey });
    expect(resumed.code, resumed.out).toBe(0);
    expect(JSON.parse(resumed.out)).toMatchObject({ app: 'pr', action: 'resume' });
    expect((await d.status('pr')).paused).toBeNull();
  });
});
