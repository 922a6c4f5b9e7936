/**
 * Issue 14's acceptance checks for desired state, end to end on the local stack: a config change (web's memory in
 * the host's APPS_CONFIG, then a host restart) rolls out as one blue/green of the same digest with zero failed
 * calls, and an app that opted out shows the drift; an ImagePushed delivery dropped by the emulator's Event Grid is
 * caught up by the first catch-up run after it, exactly once; numerical and alphabetical tag orders with `extract`
 * refuse downgrades. Outcomes are read with the real SDK clients, the host's status route and the emulator's
 * request log; nothing is asserted about elapsed time.
 */
import { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../support/waiting.js';
import { startCaller } from '../support/caller.js';
import { useManagedIdentity } from '../support/emulator.js';
import { PORT, RG, SUB, fastApp, testSubnetId } from '../support/fastApp.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { stackDriver } from '../support/stackDriver.js';

const ARM_SCOPE = 'https://management.azure.com/.default';
const SUBNET = testSubnetId('desired-it');
const CATCH_UP_SECONDS = 6;

interface StatusView {
  name: string;
  activeGroup: string | null;
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
    requestedBy: { actor: string; reason?: string } | null;
  } | null;
  history: Array<{ digest: string; kind: string; outcome: string }>;
  ignored: Array<{ tag: string; digest: string; outcome: string; reason: string }>;
  config: { state: string; desiredHash: string | null; activeHash: string | null; message: string };
}

interface Answer {
  group: string;
  digest: string;
}

type AppEntry = Record<string, unknown> & {
  name: string;
  template: { containers: Array<Record<string, unknown>> };
};

function appsConfig(vaultUrl: string): { apps: AppEntry[]; reconcile: Record<string, unknown> } {
  const app = (name: string, extra: Record<string, unknown> = {}) =>
    fastApp(name, { subnetId: SUBNET, vaultUrl, extra: { drainSeconds: 2, ...extra } }) as AppEntry;
  return {
    apps: [
      app('web'),
      app('drift', { rolloutOnConfigChange: false }),
      app('cu'),
      app('num', {
        tagPolicy: {
          type: 'regex',
          pattern: 'build-[0-9]+',
          order: 'numerical',
          extract: '^build-(?<n>[0-9]+)$',
        },
      }),
      app('alpha', {
        tagPolicy: { type: 'any', order: 'alphabetical', extract: '^main-[0-9a-f]{7}-(?<ts>[0-9]{14})$' },
      }),
    ],
    reconcile: { catchUpSeconds: CATCH_UP_SECONDS },
  };
}

describe('desired state end to end (issue 14 acceptance)', () => {
  let stack: TestStack;
  let restoreIdentity: (() => void) | undefined;
  let aci: ContainerInstanceManagementClient;
  let kv: SecretClient;
  const d = stackDriver<StatusView, Answer>(() => ({ stack, aci, kv }));

  beforeAll(async () => {
    stack = await startTestStack({
      appsConfig: ({ vaultUrl }) => appsConfig(vaultUrl('kv-apps')),
      env: { STATUS_CACHE_SECONDS: '0' },
      // The timer every 2 s, as in Azure every minute: it finishes drains, starts config rollouts, runs catch-up.
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
  afterEach(async (ctx) => {
    await stack?.emulator.control('DELETE', '/_emulator/eventgrid/faults');
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

  /** The memory of the app container of a group, as ARM shows it. */
  const memoryOf = async (group: string) =>
    (await aci.containerGroups.get(RG, group)).containers[0]!.resources.requests.memoryInGB;

  it('a changed memory in the host config rolls out one blue/green of the same digest, zero failed calls; opting out shows drift', async () => {
    const web = await deploy('web', '1.0.0');
    const drift = await deploy('drift', '1.0.0');
    expect(web.status.config).toMatchObject({ state: 'inSync' });
    expect(web.status.config.activeHash).toMatch(/^v1-[0-9a-f]{16}$/);
    const before = web.status.config.activeHash;
    const calls = await startCaller({ secrets: kv, secretName: 'web-ip', port: PORT, refreshMs: 1000 });
    await sleep(1500);

    const mark = await d.requestMark();
    const config = JSON.parse(stack.settings['APPS_CONFIG']!) as { apps: AppEntry[] };
    for (const app of config.apps.filter((a) => a.name === 'web' || a.name === 'drift'))
      app.template.containers[0]!['memoryInGB'] = 1.5;
    stack.settings['APPS_CONFIG'] = JSON.stringify(config);
    await stack.restartHost();

    const changed = await waitFor(
      "web's config rollout to finish",
      async () => {
        const s = await d.status('web');
        return s.rollout?.kind === 'configChanged' && ['succeeded', 'failed'].includes(s.rollout.state)
          ? s
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(changed.rollout).toMatchObject({
      kind: 'configChanged',
      state: 'succeeded',
      digest: web.digest,
      tag: '1.0.0',
      requestedBy: { actor: 'reconcile' },
    });
    expect(changed).toMatchObject({ activeGroup: 'web-green', digest: web.digest });
    expect(await memoryOf('web-green')).toBe(1.5);
    expect(changed.config.state).toBe('inSync');
    expect(changed.config.activeHash).not.toBe(before);
    await d.onlyGroups('web', ['web-green']);
    await sleep(2500); // the caller's next reads reach web-green; more timer ticks find nothing to do
    const report = await calls.stop();
    expect(report.failures, JSON.stringify(report.failureSamples)).toBe(0);
    expect(report.ips.length).toBeGreaterThanOrEqual(2);
    expect(await d.createsOf('web', mark)).toHaveLength(1);

    const opted = await d.status('drift');
    expect(opted.config).toMatchObject({ state: 'drift' });
    expect(opted.config.message).toContain('rolloutOnConfigChange is false');
    expect(opted).toMatchObject({ activeGroup: 'drift-blue', digest: drift.digest });
    expect(await memoryOf('drift-blue')).toBe(1);
    expect(await d.createsOf('drift', mark)).toEqual([]);
  });

  it('an ImagePushed delivery dropped by Event Grid is caught up by the next catch-up run, exactly once', async () => {
    await deploy('cu', '1.0.0');
    const fault = await stack.emulator.control('POST', '/_emulator/eventgrid/faults', {
      kind: 'drop',
      match: { subjectBeginsWith: 'cu:1.1.0' },
      count: 1,
    });
    expect(fault.status).toBe(201);
    const mark = await d.requestMark();
    const logFrom = stack.hostLogs.length;
    const pushedAt = Date.now();
    const { digest } = await d.push('cu', '1.1.0');
    const states = await waitFor('the delivery of cu:1.1.0 to be recorded', async () => {
      const res = await stack.emulator.control<{ value: Array<{ subject: string; state: string }> }>(
        'GET',
        '/_emulator/eventgrid/deliveries',
      );
      const mine = res.body.value.filter((x) => x.subject === 'cu:1.1.0').map((x) => x.state);
      return mine.length > 0 ? mine : undefined;
    });
    expect(states).toEqual(['dropped']);

    const caught = await d.rolloutOutcome('cu', digest, 60_000);
    expect(caught.rollout).toMatchObject({ kind: 'catchUp', state: 'succeeded', tag: '1.1.0', digest });
    expect(caught).toMatchObject({ activeGroup: 'cu-green', digest });
    // The first catch-up run that started after the push found it: no run in between missed it.
    const runsSince = () =>
      stack.hostLogs.slice(logFrom).filter((l) => {
        const at = /catch-up run of (\S+): \d+ repositories checked/.exec(l)?.[1];
        return at !== undefined && Date.parse(at) >= pushedAt;
      });
    const runs = runsSince();
    expect(runs[0]).toContain('cu 1.1.0: started');

    // Another catch-up period later: still one rollout and one group created for that digest.
    const seenRuns = runs.length;
    await waitFor('another catch-up run', () => runsSince().length > seenRuns, {
      timeoutMs: (CATCH_UP_SECONDS + 10) * 1000,
      intervalMs: 500,
    });
    expect(await d.createsOf('cu', mark)).toHaveLength(1);
    const after = await d.status('cu');
    expect(after.rollout!.id).toBe(caught.rollout!.id);
    expect(after.history.filter((h) => h.digest === digest)).toHaveLength(1);
  });

  it('numerical order with extract: build-10 follows build-9, and build-8 is refused as a downgrade', async () => {
    await deploy('num', 'build-9');
    await deploy('num', 'build-10'); // lower than build-9 as text, higher as a number
    const { digest } = await d.push('num', 'build-8');
    const refused = await waitFor(
      'the downgrade to be recorded as ignored',
      async () => (await d.status('num')).ignored.find((i) => i.digest === digest),
      { timeoutMs: 15_000 },
    );
    expect(refused.reason).toMatch(
      /^stale: build-8 is lower than the active version build-10 \(numerical order/,
    );
    expect(await d.status('num')).toMatchObject({ tag: 'build-10', activeGroup: 'num-green' });
  });

  it('alphabetical order of the extracted timestamp: a later build wins whatever its sha; an earlier one is refused', async () => {
    await deploy('alpha', 'main-fffffff-20261130101500');
    await deploy('alpha', 'main-0000000-20261130111500');
    const { digest } = await d.push('alpha', 'main-aaaaaaa-20261129000000');
    const refused = await waitFor(
      'the downgrade to be recorded as ignored',
      async () => (await d.status('alpha')).ignored.find((i) => i.digest === digest),
      { timeoutMs: 15_000 },
    );
    expect(refused.reason).toMatch(
      /^stale: main-aaaaaaa-20261129000000 is lower than the active version main-0000000-20261130111500 \(alphabetical order/,
    );
    expect((await d.status('alpha')).tag).toBe('main-0000000-20261130111500');
  });
});
