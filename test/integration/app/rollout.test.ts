/**
 * Issue 4's acceptance checks, end to end on the local stack (support/stack.ts: Azurite, the emulator, the
 * functions host running the built app). Driven only through public surfaces: the emulator's control API
 * (pushes, Event Grid delivery faults, registry network settings, request log), the host's Event Grid webhook,
 * `GET /api/status/{app}` and the reconcile timer; outcomes are read with the real SDK clients (ACI groups, Key
 * Vault secrets) and by calling the groups' IPs.
 *
 * Each scenario has its own app (same registry, resource group and subnet), so a failure in one does not leave
 * state behind for another. Timings are small: health probes every 250 ms, drain 3 s, emulator provisioning steps
 * of 300 ms; the app's own poll interval (3 s while it waits for a group) sets the pace of a rollout (~5-10 s).
 */
import crypto from 'node:crypto';
import { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../support/waiting.js';
import { startCaller } from '../support/caller.js';
import { useManagedIdentity } from '../support/emulator.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { stackDriver } from '../support/stackDriver.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const RG = 'rg-apps';
const registryId = (name: string) =>
  `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/${name}`;
// Not the sample's subnet: the emulator maps each subnet to its own 127.x /24, and other test files (their own
// emulators, run in parallel) use the sample's. An address a rollout here frees (old group deleted) could be taken by
// one of them, and an "old IP no longer answers" check would then fail for the wrong reason.
const SUBNET_ID = `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-rollout-it/subnets/aci`;
const PULL_IDENTITY = `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-acr-pull`;
const ARM_SCOPE = 'https://management.azure.com/.default';
const PORT = 8080;
const DRAIN_SECONDS = 3;
/** The stack subscribes the host's webhook to the contoso registry under this name. */
const SUBSCRIPTION = 'functions-onimagepushed';
const CREATE = 'ContainerGroups_CreateOrUpdate';

// ------------------------------------------------------------------------------------------- configuration

interface AppOptions {
  repository?: string;
  registry?: string;
  keepFailed?: boolean;
  healthTimeoutSeconds?: number;
}

function appConfig(name: string, kvApps: string, o: AppOptions = {}): Record<string, unknown> {
  return {
    name,
    registry: { resourceId: registryId(o.registry ?? 'contoso') },
    repository: o.repository ?? name,
    tagPolicy: { type: 'semver', range: '>=1.0.0', allowDowngrade: false },
    resourceGroup: RG,
    location: 'westeurope',
    subnetId: SUBNET_ID,
    adoptGroup: null,
    template: {
      osType: 'Linux',
      imagePullIdentity: PULL_IDENTITY,
      containers: [
        {
          name: 'app',
          cpu: 0.5,
          memoryInGB: 1,
          ports: [PORT],
          env: { LOG_LEVEL: 'info' },
          secureEnvFromKeyVault: { DB_PASSWORD: { vaultUrl: kvApps, secretName: 'web-db-password' } },
        },
      ],
    },
    health: {
      port: PORT,
      path: '/healthz',
      expectedStatus: [200, 299],
      consecutiveSuccesses: 2,
      intervalSeconds: 0.25,
      timeoutSeconds: o.healthTimeoutSeconds ?? 3,
      maxRestarts: 2,
    },
    secret: { vaultUrl: kvApps, name: `${name}-ip` },
    drainSeconds: DRAIN_SECONDS,
    keepFailed: o.keepFailed ?? false,
    provisioningTimeoutSeconds: 30,
  };
}

function appsConfig(kvApps: string): Record<string, unknown> {
  return {
    apps: [
      appConfig('web', kvApps),
      appConfig('dup', kvApps),
      appConfig('order', kvApps),
      appConfig('sup', kvApps, { healthTimeoutSeconds: 20 }),
      appConfig('conc', kvApps),
      appConfig('fail', kvApps),
      appConfig('keep', kvApps, { keepFailed: true }),
      appConfig('stale', kvApps, { keepFailed: true }),
      // host killed mid-rollout (slow start: a longer health timeout)
      appConfig('kill', kvApps, { healthTimeoutSeconds: 20 }),
      // the seeded registry with public network access disabled (trusted services allowed)
      appConfig('locked', kvApps, { registry: 'locked', repository: 'web' }),
    ],
    watch: { resourceGroups: [RG], vaultUrl: kvApps, groups: [] },
  };
}

// ------------------------------------------------------------------------------------------- shapes read

interface RolloutView {
  id: string;
  state: 'inProgress' | 'succeeded' | 'failed' | 'superseded';
  step: string;
  error: string | null;
  reason: string | null;
  tag: string;
  digest: string;
  group: string;
  startedAt: string;
  finishedAt: string | null;
  timeline: { step: string; at: string; message: string }[];
}

interface HistoryView {
  rolloutId: string;
  tag: string;
  digest: string;
  outcome: 'succeeded' | 'failed' | 'superseded';
  reason: string | null;
  message: string | null;
  group: string;
  startedAt: string;
  finishedAt: string;
}

interface AppStatusView {
  name: string;
  activeColor: string | null;
  activeGroup: string | null;
  ip: string | null;
  digest: string | null;
  tag: string | null;
  secret: { name: string; inSync: boolean; ip: string | null; problem: string | null };
  rollout: RolloutView | null;
  queued: unknown;
  history: HistoryView[];
  lastReconcile: { at: string } | null;
}

/** What an emulated container answers on any path. */
interface GroupAnswer {
  group: string;
  digest: string;
  tag?: string;
  ip: string;
}

interface DeliveryView {
  id: string;
  eventId: string;
  subject: string;
  state: string;
  event: Record<string, unknown>;
  faults: string[];
  attempts: { startedAt: string; status?: number; outcome: string }[];
}

interface Deployed {
  digest: string;
  ip: string;
  group: string;
}

// ------------------------------------------------------------------------------------------- the suite

describe('blue/green rollout on image push (issue 4 acceptance)', () => {
  let stack: TestStack;
  let restoreIdentity: (() => void) | undefined;
  let aci: ContainerInstanceManagementClient;
  let kv: SecretClient;

  beforeAll(async () => {
    stack = await startTestStack({
      // The vault URL in APPS_CONFIG carries the emulator's port: computed once the emulator has started.
      appsConfig: ({ vaultUrl }) => appsConfig(vaultUrl('kv-apps')),
      // live status (no cache), so polling sees every step
      env: { STATUS_CACHE_SECONDS: '0' },
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

  // On a failure, show what the app logged during that test (the host's output is not printed otherwise).
  let testLogMark = 0;
  beforeEach(() => {
    testLogMark = stack?.hostLogs.length ?? 0;
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail' && stack)
      console.log(
        `host log during "${ctx.task.name}":\n${stack.hostLogs.slice(testLogMark).slice(-80).join('\n')}`,
      );
  });

  // ----------------------------------------------------------------------------------------- helpers

  const {
    push,
    status,
    rolloutOutcome,
    readSecret,
    groupsOf,
    groupExists,
    onlyGroups,
    callIp,
    requestMark,
    createsOf,
  } = stackDriver<AppStatusView, GroupAnswer>(() => ({ stack, aci, kv }));

  const webhookUrl = () =>
    `${stack.host.baseUrl}/runtime/webhooks/eventgrid?functionName=onImagePushed&code=${stack.host.systemKey}`;

  /** POST to the host's Event Grid webhook as Event Grid does (an array of events). */
  const postWebhook = async (body: unknown, raw = false): Promise<number> => {
    const res = await fetch(webhookUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
      body: raw ? (body as string) : JSON.stringify(Array.isArray(body) ? body : [body]),
    });
    await res.text();
    return res.status;
  };

  /** An ACR ImagePushed event in the Event Grid schema (azure-facts.md). */
  const imagePushed = (o: {
    repository: string;
    tag: string;
    digest: string;
    registry?: string;
    host?: string;
    eventType?: string;
    time?: Date;
  }): Record<string, unknown> => {
    const registry = o.registry ?? 'contoso';
    return {
      id: crypto.randomUUID(),
      topic: registryId(registry),
      subject: `${o.repository}:${o.tag}`,
      eventType: o.eventType ?? 'Microsoft.ContainerRegistry.ImagePushed',
      eventTime: (o.time ?? new Date()).toISOString(),
      dataVersion: '2.0',
      metadataVersion: '1',
      data: {
        id: crypto.randomUUID(),
        timestamp: (o.time ?? new Date()).toISOString(),
        action: 'push',
        location: 'westeurope',
        target: {
          mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
          size: 3023,
          digest: o.digest,
          length: 3023,
          repository: o.repository,
          tag: o.tag,
        },
        request: {
          id: crypto.randomUUID(),
          host: o.host ?? `${registry}.azurecr.io`,
          method: 'PUT',
          useragent: 'docker/27.0',
        },
      },
    };
  };

  const deliveriesOf = async (subject: string): Promise<DeliveryView[]> => {
    const res = await stack.emulator.control<{ value: DeliveryView[] }>(
      'GET',
      `/_emulator/eventgrid/deliveries?subscription=${SUBSCRIPTION}`,
    );
    return res.body.value.filter((d) => d.subject === subject);
  };

  const addDeliveryFault = async (spec: Record<string, unknown>): Promise<string> => {
    const res = await stack.emulator.control<{ id: string }>('POST', '/_emulator/eventgrid/faults', spec);
    if (res.status !== 201) throw new Error(`delivery fault: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id;
  };

  const removeDeliveryFault = (id: string) =>
    stack.emulator.control('DELETE', `/_emulator/eventgrid/faults/${id}`);

  const logMark = () => stack.hostLogs.length;
  const logsSince = (mark: number) => stack.hostLogs.slice(mark);
  const waitForLog = (mark: number, pattern: RegExp, what: string, timeoutMs = 10_000) =>
    waitFor(
      `a host log line ${what} (${pattern})`,
      async () => logsSince(mark).find((l) => pattern.test(l)),
      {
        timeoutMs,
        intervalMs: 100,
      },
    );

  /** Push and wait until it serves (and, by default, until the previous group is gone). */
  const deploy = async (app: string, tag: string, { drained = true } = {}): Promise<Deployed> => {
    const { digest } = await push(app, tag);
    const s = await rolloutOutcome(app, digest);
    expect(s.rollout?.state, `rollout of ${app}:${tag}: ${s.rollout?.error}`).toBe('succeeded');
    expect(s.digest).toBe(digest);
    if (drained) await onlyGroups(app, [s.activeGroup!]);
    const secret = await readSecret(`${app}-ip`);
    return { digest, ip: secret.value!, group: s.activeGroup! };
  };

  // ----------------------------------------------------------------------------------------- acceptance

  it('push web:1.1.0: the secret holds the new group IP, which answers with the new digest; the old group is deleted after drainSeconds', async () => {
    const base = await deploy('web', '1.0.0');
    expect(base.group).toBe('web-blue');
    expect((await callIp(base.ip)).digest).toBe(base.digest);

    const since = await requestMark();
    const { digest } = await push('web', '1.1.0');
    const switched = await waitFor(
      'web-ip to name the new group',
      async () => {
        const s = await readSecret('web-ip');
        return s.value !== base.ip ? s : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const newIp = switched.value!;
    expect(switched.properties.tags).toMatchObject({ app: 'web', group: 'web-green', digest });
    const answer = await callIp(newIp);
    expect(answer).toMatchObject({ group: 'web-green', digest, ip: newIp });
    // The old group drains: it still serves right after the switch.
    expect((await callIp(base.ip)).digest).toBe(base.digest);
    expect(await groupExists('web-blue')).toBe(true);

    const goneAt = await waitFor(
      'web-blue to be deleted',
      async () => ((await groupExists('web-blue')) ? undefined : Date.now()),
      {
        timeoutMs: DRAIN_SECONDS * 1000 + 15_000,
        intervalMs: 100,
      },
    );
    // Key Vault's `updated` has second precision (rounded down): never after the real switch.
    const switchedAt = switched.properties.updatedOn!.getTime();
    expect(goneAt - switchedAt).toBeGreaterThanOrEqual(DRAIN_SECONDS * 1000);

    const s = await rolloutOutcome('web', digest);
    expect(s.rollout).toMatchObject({
      state: 'succeeded',
      tag: '1.1.0',
      digest,
      group: 'web-green',
      error: null,
    });
    expect(s).toMatchObject({
      activeGroup: 'web-green',
      activeColor: 'green',
      tag: '1.1.0',
      digest,
      ip: newIp,
    });
    expect(s.secret).toMatchObject({ name: 'web-ip', inSync: true, ip: newIp });
    expect((await readSecret('web-ip')).value).toBe(newIp);
    expect((await groupsOf('web')).map((g) => g.name)).toEqual(['web-green']);
    // The rollout itself deleted the old group once the drain was over (no timer runs in this stack): its steps
    // came in order, and the deletion was not started before the drain ended.
    const stepAt = (step: string) => Date.parse(s.rollout!.timeline.find((c) => c.step === step)!.at);
    expect(stepAt('switching')).toBeLessThanOrEqual(stepAt('draining'));
    expect(stepAt('draining')).toBeLessThanOrEqual(stepAt('deletingOld'));
    expect(stepAt('deletingOld')).toBeGreaterThanOrEqual(switchedAt + DRAIN_SECONDS * 1000);
    // The group runs the pushed digest (immutable reference), not the tag.
    const green = await aci.containerGroups.get(RG, 'web-green');
    expect(green.containers[0]?.image).toBe(`contoso.azurecr.io/web@${digest}`);
    expect(green.tags).toMatchObject({
      app: 'web',
      colour: 'green',
      digest,
      tag: '1.1.0',
      'rollout-id': s.rollout!.id,
    });
    expect(await createsOf('web', since)).toHaveLength(1);
  }, 90_000);

  it('a caller that re-reads the secret every second and calls the IP continuously sees zero failed requests across a rollout', async () => {
    // web serves 1.1.0 (previous test); wait until it is idle with its old group gone.
    const before = await waitFor('web to be idle with an active group', async () => {
      const s = await status('web');
      return s.rollout?.state !== 'inProgress' && s.activeGroup && (await groupsOf('web')).length === 1
        ? s
        : undefined;
    });
    const oldDigest = before.digest!;
    const caller = await startCaller({ secrets: kv, secretName: 'web-ip', port: PORT, refreshMs: 1000 });
    try {
      await waitFor('the caller to get answers from the active group', async () =>
        caller.snapshot().successes >= 10 ? true : undefined,
      );
      const { digest } = await push('web', '1.2.0');
      const s = await rolloutOutcome('web', digest);
      expect(s.rollout?.state, String(s.rollout?.error)).toBe('succeeded');
      await onlyGroups('web', [s.activeGroup!]);
      // Keep calling a little after the old group is gone.
      const seen = caller.snapshot().successes;
      await waitFor('more answers after the old group was deleted', async () =>
        caller.snapshot().successes >= seen + 20 ? true : undefined,
      );
      const report = await caller.stop();
      expect(report.failures, `failed requests: ${JSON.stringify(report.failureSamples, null, 1)}`).toBe(0);
      expect(report.secretReadFailures, report.secretReadErrors.join('; ')).toBe(0);
      expect(report.digestOrder).toEqual([oldDigest, digest]);
      expect(report.ips).toHaveLength(2);
      expect(report.successes).toBeGreaterThan(50);
      console.log(
        `caller: ${report.successes} answers in ${report.durationMs} ms, ${report.secretReads} secret reads, ` +
          `per digest ${JSON.stringify(report.digests)}`,
      );
    } finally {
      await caller.stop();
    }
  }, 90_000);

  it('the same event delivered twice (Event Grid duplicate fault, and a raw double POST of it) makes one rollout', async () => {
    await deploy('dup', '1.0.0');
    const faultId = await addDeliveryFault({
      kind: 'duplicate',
      times: 2,
      count: 1,
      match: { subjectBeginsWith: 'dup:1.1.0' },
    });
    const mark = logMark();
    const since = await requestMark();
    let digest: string;
    let eventId: string;
    try {
      ({ digest } = await push('dup', '1.1.0'));
      const copies = await deliveriesOf('dup:1.1.0');
      expect(copies, 'the duplicate fault makes two deliveries of one event').toHaveLength(2);
      expect(copies.every((d) => d.faults.includes('duplicate'))).toBe(true);
      eventId = copies[0]!.eventId;
      expect(copies[1]!.eventId).toBe(eventId);
      // The very same event body, twice more, at once, straight to the webhook.
      const statuses = await Promise.all([postWebhook(copies[0]!.event), postWebhook(copies[0]!.event)]);
      expect(statuses).toEqual([202, 202]);
    } finally {
      await removeDeliveryFault(faultId);
    }
    const s = await rolloutOutcome('dup', digest);
    expect(s.rollout?.state, String(s.rollout?.error)).toBe('succeeded');
    const delivered = await waitFor('both Event Grid copies to be delivered', async () => {
      const ds = await deliveriesOf('dup:1.1.0');
      return ds.length === 2 && ds.every((d) => d.state === 'delivered') ? ds : undefined;
    });
    for (const d of delivered) expect(d.attempts.map((a) => a.outcome)).toEqual(['Delivered']);

    expect(await createsOf('dup', since), 'one ACI create for one event').toHaveLength(1);
    expect(s.history.filter((h) => h.digest === digest)).toHaveLength(1);
    const outcomes = await waitFor('the four deliveries to be logged', async () => {
      const lines = logsSince(mark).filter((l) => l.includes(`ImagePushed dup:1.1.0 (${eventId})`));
      return lines.length >= 4 ? lines : undefined;
    });
    expect(outcomes.filter((l) => /: started: /.test(l))).toHaveLength(1);
    expect(outcomes.filter((l) => /: ignored: duplicate/.test(l))).toHaveLength(3);
  }, 90_000);

  it('the same digest pushed under two tags makes one rollout', async () => {
    const before = await status('dup');
    expect(before.rollout?.state).toBe('succeeded');
    const mark = logMark();
    const since = await requestMark();
    const { digest } = await push('dup', '1.2.0');
    const again = await push('dup', '1.2.1', { digest });
    expect(again.digest).toBe(digest);
    const s = await rolloutOutcome('dup', digest);
    expect(s.rollout?.state, String(s.rollout?.error)).toBe('succeeded');
    await onlyGroups('dup', [s.activeGroup!]);
    const line = await waitForLog(
      mark,
      /ImagePushed dup:1\.2\.[01] .*ignored: duplicate/,
      'for the second tag',
    );
    expect(line).toContain(digest.slice(7, 19));
    expect(await createsOf('dup', since)).toHaveLength(1);
    expect((await status('dup')).history.filter((h) => h.digest === digest)).toHaveLength(1);
    expect((await callIp((await readSecret('dup-ip')).value!)).digest).toBe(digest);
  }, 90_000);

  it('1.2.0 then 1.1.0, delivered in the wrong order (reorder fault): ends on 1.2.0; 1.1.0 is ignored with a reason', async () => {
    const faultId = await addDeliveryFault({
      kind: 'reorder',
      windowMs: 1500,
      count: 2,
      match: { subjectBeginsWith: 'order:' },
    });
    const mark = logMark();
    const since = await requestMark();
    let d110: string;
    let d120: string;
    try {
      ({ digest: d110 } = await push('order', '1.1.0'));
      ({ digest: d120 } = await push('order', '1.2.0'));
    } finally {
      await removeDeliveryFault(faultId);
    }
    const s = await rolloutOutcome('order', d120);
    expect(s.rollout?.state, String(s.rollout?.error)).toBe('succeeded');
    const [first, second] = await waitFor('both deliveries to be delivered', async () => {
      const a = (await deliveriesOf('order:1.2.0'))[0];
      const b = (await deliveriesOf('order:1.1.0'))[0];
      return a?.state === 'delivered' && b?.state === 'delivered' ? [a, b] : undefined;
    });
    // The fault really reversed them: 1.2.0 reached the app first.
    expect(first.faults).toContain('reorder');
    expect(Date.parse(first.attempts[0]!.startedAt)).toBeLessThan(Date.parse(second.attempts[0]!.startedAt));
    expect(first.attempts.at(-1)?.outcome).toBe('Delivered');
    expect(second.attempts.at(-1)?.outcome).toBe('Delivered');

    const reason = await waitForLog(
      mark,
      /ImagePushed order:1\.1\.0 .*: ignored: /,
      'saying why 1.1.0 is ignored',
    );
    expect(reason).toMatch(/stale: 1\.1\.0 is lower than the active version 1\.2\.0/);
    const after = await status('order');
    expect(after).toMatchObject({ tag: '1.2.0', digest: d120 });
    expect(after.rollout).toMatchObject({ state: 'succeeded', digest: d120 });
    expect(after.history.some((h) => h.digest === d110)).toBe(false);
    expect(await createsOf('order', since)).toHaveLength(1);
    expect((await callIp((await readSecret('order-ip')).value!)).digest).toBe(d120);
  }, 90_000);

  it('a push during a rollout supersedes it: ends on the newest, no group left behind', async () => {
    const base = await deploy('sup', '1.0.0');
    const mark = logMark();
    // Slow start: Running at once, but refuses connections for 6 s, so the health gate holds the rollout.
    const { digest: d110 } = await push('sup', '1.1.0', { behavior: 'slow:6' });
    const inFlight = await waitFor('1.1.0 to be in its health gate', async () => {
      const s = await status('sup');
      return s.rollout?.digest === d110 && s.rollout.step === 'healthGate' ? s.rollout : undefined;
    });
    expect(await groupExists(inFlight.group)).toBe(true);
    const { digest: d120 } = await push('sup', '1.2.0');
    const s = await rolloutOutcome('sup', d120);
    expect(s.rollout?.state, String(s.rollout?.error)).toBe('succeeded');
    expect(s).toMatchObject({ tag: '1.2.0', digest: d120 });
    const superseded = s.history.find((h) => h.digest === d110);
    expect(superseded).toMatchObject({ outcome: 'superseded', rolloutId: inFlight.id });
    expect(superseded?.message).toMatch(/superseded by 1\.2\.0/);
    await waitForLog(
      mark,
      /ImagePushed sup:1\.2\.0 .*1\.2\.0 supersedes the rollout of 1\.1\.0/,
      'for the supersede',
    );

    // No group left behind: only the active one after the drain, running 1.2.0.
    const [only] = await onlyGroups('sup', [s.activeGroup!]);
    expect(only?.tags).toMatchObject({ digest: d120, 'rollout-id': s.rollout!.id });
    const secret = await readSecret('sup-ip');
    expect(secret.value).not.toBe(base.ip);
    expect(await callIp(secret.value!)).toMatchObject({ digest: d120, group: s.activeGroup });
  }, 90_000);

  it('a push after the switch (old group draining) is queued and deployed next: ends on the newest, no group left behind', async () => {
    const before = await status('sup');
    expect(before.rollout?.state, 'sup is idle (previous test)').toBe('succeeded');
    const mark = logMark();
    const { digest: d130 } = await push('sup', '1.3.0');
    await waitFor('1.3.0 to switch and drain the old group', async () => {
      const s = await status('sup');
      return s.rollout?.digest === d130 && s.rollout.step === 'draining' ? true : undefined;
    });
    const { digest: d140 } = await push('sup', '1.4.0');
    await waitFor('1.4.0 to be queued', async () => {
      const q = (await status('sup')).queued as { digest?: string } | null;
      return q?.digest === d140 ? q : undefined;
    });

    // 1.3.0 finishes as it would have (the drained group is deleted), then 1.4.0 starts.
    const done130 = await waitFor('1.3.0 to succeed', async () => {
      const s = await status('sup');
      return s.history.find((h) => h.digest === d130);
    });
    expect(done130.outcome).toBe('succeeded');
    // Deliveries carry on with the queued push within their time budget; what the budget leaves, the reconcile
    // timer finishes (design: "the timer resumes anything unfinished").
    await waitFor('both deliveries to be answered', async () => {
      const a = (await deliveriesOf('sup:1.3.0'))[0];
      const b = (await deliveriesOf('sup:1.4.0'))[0];
      return a?.state === 'delivered' && b?.state === 'delivered' ? true : undefined;
    });
    // (The outcome line is written when the delivery's handler returns.)
    const line = await waitForLog(
      mark,
      /ImagePushed sup:1\.4\.0 .*: (queued|superseded|started|ignored): /,
      'for 1.4.0',
    );
    expect(line).toMatch(
      /: queued: rollout .* has already switched \(draining\); 1\.4\.0 starts when it finishes/,
    );
    const afterEvents = await status('sup');
    if (afterEvents.rollout?.digest !== d140 || afterEvents.rollout.state === 'inProgress')
      await stack.runFunction('reconcile');
    const s = await rolloutOutcome('sup', d140);
    expect(s.rollout?.state, String(s.rollout?.error)).toBe('succeeded');
    expect(s).toMatchObject({ tag: '1.4.0', digest: d140, queued: null });
    const [only] = await onlyGroups('sup', [s.activeGroup!]);
    expect(only?.tags).toMatchObject({ digest: d140 });
    expect(await callIp((await readSecret('sup-ip')).value!)).toMatchObject({
      digest: d140,
      group: s.activeGroup,
    });
  }, 90_000);

  it('deliveries for one app processed concurrently never run two rollouts at once', async () => {
    await deploy('conc', '1.0.0');
    const tags = ['2.0.1', '2.0.2', '2.0.3', '2.0.4'];
    // Keep Event Grid's own deliveries of these pushes out of the way: this test sends them itself, all at once.
    const faultId = await addDeliveryFault({
      kind: 'delay',
      delayMs: 600_000,
      count: tags.length,
      match: { subjectBeginsWith: 'conc:2.' },
    });
    const digests: Record<string, string> = {};
    try {
      for (const tag of tags) digests[tag] = (await push('conc', tag)).digest;
    } finally {
      await removeDeliveryFault(faultId);
    }
    const highest = tags.at(-1)!;
    const events = tags.map((tag) => imagePushed({ repository: 'conc', tag, digest: digests[tag]! }));
    const mark = logMark();
    const since = await requestMark();

    interface Sample {
      at: number;
      groups: { name: string; rolloutId?: string; state?: string }[];
      secretGroup?: string;
      rollout?: { id: string; state: string; step: string };
    }
    const samples: Sample[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [groups, secret, st] = await Promise.all([
          groupsOf('conc'),
          readSecret('conc-ip'),
          status('conc'),
        ]);
        samples.push({
          at: Date.now(),
          groups: groups.map((g) => ({
            name: g.name!,
            ...(g.tags?.['rollout-id'] ? { rolloutId: g.tags['rollout-id'] } : {}),
            ...(g.provisioningState ? { state: g.provisioningState } : {}),
          })),
          ...(secret.properties.tags?.['group'] ? { secretGroup: secret.properties.tags['group'] } : {}),
          ...(st.rollout
            ? { rollout: { id: st.rollout.id, state: st.rollout.state, step: st.rollout.step } }
            : {}),
        });
        await sleep(100);
      }
    })();

    let final: AppStatusView;
    try {
      const statuses = await Promise.all(events.map((e) => postWebhook(e)));
      expect(statuses, 'every delivery is answered 2xx').toEqual(tags.map(() => 202));
      final = await rolloutOutcome('conc', digests[highest]!);
      expect(final.rollout?.state, String(final.rollout?.error)).toBe('succeeded');
      await onlyGroups('conc', [final.activeGroup!]);
    } finally {
      sampling = false;
      await sampler;
    }

    // Every event has an outcome with a reason in the log.
    for (const [i, e] of events.entries())
      await waitForLog(
        mark,
        new RegExp(
          `ImagePushed conc:${tags[i]!.replace(/\./g, '\\.')} \\(${String(e['id'])}\\): (started|superseded|queued|ignored): `,
        ),
        `for conc:${tags[i]}`,
      );

    // While it ran: the group callers use always existed, and at most one other group was being created.
    expect(samples.length, 'the sampler ran').toBeGreaterThan(10);
    const rolloutIds = new Set<string>([...samples.flatMap((x) => (x.rollout ? [x.rollout.id] : []))]);
    const st = await status('conc');
    for (const h of st.history) rolloutIds.add(h.rolloutId);
    for (const x of samples) {
      const where = `sample at ${new Date(x.at).toISOString()}: ${JSON.stringify(x)}`;
      expect(
        x.groups.some((g) => g.name === x.secretGroup),
        `the secret's group exists; ${where}`,
      ).toBe(true);
      const others = x.groups.filter((g) => g.name !== x.secretGroup);
      expect(others.length, `at most one non-active group; ${where}`).toBeLessThanOrEqual(1);
      for (const g of others)
        if (g.rolloutId)
          expect(rolloutIds.has(g.rolloutId), `group made by a recorded rollout; ${where}`).toBe(true);
    }

    // Rollouts never overlapped: each began when (or after) the one before it ended.
    const mine = st.history
      .filter((h) => tags.includes(h.tag))
      // Two rollouts can start in the same millisecond (one superseded at once): order those by when they ended.
      .sort(
        (a, b) =>
          Date.parse(a.startedAt) - Date.parse(b.startedAt) ||
          Date.parse(a.finishedAt) - Date.parse(b.finishedAt),
      );
    expect(mine.length).toBeGreaterThanOrEqual(1);
    for (let i = 1; i < mine.length; i++)
      expect(
        Date.parse(mine[i - 1]!.finishedAt),
        `rollout ${mine[i - 1]!.rolloutId} (${mine[i - 1]!.tag}) overlaps ${mine[i]!.rolloutId} (${mine[i]!.tag})`,
      ).toBeLessThanOrEqual(Date.parse(mine[i]!.startedAt));
    expect(mine.filter((h) => h.outcome === 'succeeded').map((h) => h.tag)).toEqual([highest]);
    expect(mine.filter((h) => h.outcome !== 'succeeded').every((h) => h.outcome === 'superseded')).toBe(true);

    // A consistent end: the highest version serves, through the secret, alone.
    expect(st).toMatchObject({ tag: highest, digest: digests[highest], queued: null });
    expect(st.secret.inSync).toBe(true);
    const secret = await readSecret('conc-ip');
    expect(await callIp(secret.value!)).toMatchObject({ digest: digests[highest], group: st.activeGroup });
    const creates = await createsOf('conc', since);
    expect(creates.length, 'no more creates than rollouts that reached the create step').toBeLessThanOrEqual(
      mine.length,
    );
    console.log(
      `concurrent deliveries: ${samples.length} samples, ${mine.length} rollouts (${mine.map((h) => `${h.tag} ${h.outcome}`).join(', ')}), ${creates.length} ACI creates`,
    );
  }, 120_000);

  it('a superseded rollout that was waiting does not touch the group of the rollout that replaced it', async () => {
    // A kept failed group is the leftover the next rollout must delete first (cleaningIdle waits for it).
    const { digest: failed } = await push('stale', '1.0.0', { behavior: 'unhealthy' });
    expect((await rolloutOutcome('stale', failed)).rollout?.state).toBe('failed');
    expect(await groupExists('stale-blue')).toBe(true);

    const since = await requestMark();
    const { digest: d110 } = await push('stale', '1.1.0');
    const waiting = await waitFor('1.1.0 to wait for the leftover to be deleted', async () => {
      const s = await status('stale');
      return s.rollout?.digest === d110 && s.rollout.step === 'cleaningIdle' ? s.rollout : undefined;
    });
    await waitFor(
      'the leftover to be gone',
      async () => ((await groupExists('stale-blue')) ? undefined : true),
      {
        intervalMs: 50,
      },
    );
    // 1.2.0 supersedes 1.1.0 while 1.1.0's delivery is still in its poll wait, and creates stale-blue at once.
    const { digest: d120 } = await push('stale', '1.2.0');
    const s = await rolloutOutcome('stale', d120);
    expect(s.rollout?.state, String(s.rollout?.error)).toBe('succeeded');
    expect(s.history.find((h) => h.digest === d110)).toMatchObject({
      outcome: 'superseded',
      rolloutId: waiting.id,
    });
    const timeline = s.rollout!.timeline.map((t) => `${t.at} ${t.step}: ${t.message}`).join('\n');
    // Once superseded, 1.1.0 does nothing more in Azure: 1.2.0's group is created once and never deleted.
    const writes = await stack.emulator.control<{
      entries: { at: string; method: string; path: string; status: number }[];
    }>('GET', `/_emulator/requests?since=${since}&entries=true`);
    const onGroup = writes.body.entries
      .filter((e) => /\/containerGroups\/stale-blue(\?|$)/i.test(e.path) && e.method !== 'GET')
      .map((e) => `${e.at} ${e.method} ${e.status}`);
    // Expected: 1.1.0 deletes the leftover, 1.2.0 creates its group. Nothing else.
    expect(
      onGroup.map((w) => w.split(' ')[1]),
      `writes to stale-blue:\n${onGroup.join('\n')}\n1.2.0's timeline:\n${timeline}`,
    ).toEqual(['DELETE', 'PUT']);
    expect(timeline).not.toMatch(/re-creating/);
  }, 90_000);

  describe('failures: Failed with the reason, the old group keeps serving and stays in the secret, no new group left', () => {
    const cases = [
      {
        tag: '1.1.0',
        behavior: 'unhealthy',
        reason: 'HealthCheckFailed',
        message: /health check failed: GET http:\/\/[\d.]+:8080\/healthz → 503/,
      },
      {
        tag: '1.2.0',
        behavior: 'crash',
        reason: 'ContainerCrashed',
        message: /container crashed: exit code 1, restarted \d+ times/,
      },
      {
        tag: '1.3.0',
        behavior: 'pull-failure',
        reason: 'ImagePullFailed',
        message: /image pull failed: .*pull/i,
      },
      {
        // ACI often refuses such a create at once (400 InaccessibleImage) instead of failing its LRO.
        tag: '1.3.1',
        behavior: 'pull-failure:unauthorized',
        sync: true,
        reason: 'ImagePullFailed',
        message: /image pull failed: .*InaccessibleImage/i,
      },
    ] as const;
    let base: Deployed | undefined;

    for (const c of cases)
      it(`${c.behavior}${'sync' in c ? ' (create refused at once)' : ''}: ${c.reason}`, async () => {
        const b = (base ??= await deploy('fail', '1.0.0'));
        const since = await requestMark();
        const validation = (imageValidation: string) =>
          stack.emulator.control('POST', '/_emulator/containerGroups/options', { imageValidation });
        if ('sync' in c) expect((await validation('sync')).status).toBe(200);
        let s: AppStatusView;
        let digest: string;
        try {
          ({ digest } = await push('fail', c.tag, { behavior: c.behavior }));
          s = await rolloutOutcome('fail', digest);
        } finally {
          if ('sync' in c) await validation('async');
        }
        expect(s.rollout).toMatchObject({ state: 'failed', reason: c.reason, digest });
        expect(s.rollout?.error).toMatch(c.message);
        const h = s.history.find((x) => x.digest === digest);
        expect(h).toMatchObject({ outcome: 'failed', reason: c.reason });
        expect(h?.message).toMatch(c.message);
        // The old group still serves, and the secret still points at it.
        expect(s).toMatchObject({ activeGroup: b.group, digest: b.digest, tag: '1.0.0' });
        const secret = await readSecret('fail-ip');
        expect(secret.value).toBe(b.ip);
        expect(await callIp(b.ip)).toMatchObject({ digest: b.digest, group: b.group });
        // The failed group is removed.
        await onlyGroups('fail', [b.group], 15_000);
        expect(await createsOf('fail', since)).toHaveLength(1);
      }, 60_000);

    it('keepFailed: the failed group is kept for diagnosis', async () => {
      const { digest } = await push('keep', '1.0.0', { behavior: 'unhealthy:500' });
      const s = await rolloutOutcome('keep', digest);
      expect(s.rollout).toMatchObject({ state: 'failed', reason: 'HealthCheckFailed', group: 'keep-blue' });
      expect(s.rollout?.error).toMatch(/→ 500/);
      // Still there after the failure was handled, and after a reconcile tick (not an orphan either).
      await sleep(1500);
      expect(await groupExists('keep-blue')).toBe(true);
      const before = (await status('keep')).lastReconcile?.at;
      await stack.runFunction('reconcile');
      await waitFor('a reconcile tick to finish', async () => {
        const at = (await status('keep')).lastReconcile?.at;
        return at && at !== before ? at : undefined;
      });
      const kept = await aci.containerGroups.get(RG, 'keep-blue');
      expect(kept.tags).toMatchObject({ digest, 'rollout-id': s.rollout!.id });
      // It still runs the failed image, answering 500 as it did to the health gate.
      const res = await fetch(`http://${kept.ipAddress!.ip!}:${PORT}/`, {
        signal: AbortSignal.timeout(3000),
      });
      expect(res.status).toBe(500);
      expect(((await res.json()) as GroupAnswer).digest).toBe(digest);
    }, 60_000);
  });

  // Issue 10: the old rule ("ACI cannot pull from a network-restricted registry") was wrong. ACI pulls from it as a
  // trusted service with the pull identity; only what Azure refuses fails, at once (registryAccess.test.ts has more).
  describe('network-restricted registry: deploys when ACI can pass it, fails at once when it cannot', () => {
    it('an app on the locked registry (public access disabled, trusted services allowed, pull identity) deploys', async () => {
      // The stack subscribes only contoso's events; subscribe the webhook to locked's system topic too.
      const sub = await stack.emulator.control('POST', '/_emulator/eventgrid/subscriptions', {
        registryName: 'locked',
        name: 'functions-onimagepushed-locked',
        endpointUrl: webhookUrl(),
        includedEventTypes: ['Microsoft.ContainerRegistry.ImagePushed'],
      });
      expect(sub.status).toBe(200);
      const since = await requestMark();
      const { digest } = await push('web', '1.0.0', { registry: 'locked' });
      const s = await rolloutOutcome('locked', digest);
      expect(s.rollout).toMatchObject({ state: 'succeeded', group: 'locked-blue' });
      const preflight = s.rollout!.timeline.filter((c) => c.step === 'accepted').map((c) => c.message);
      expect(preflight.at(-1)).toMatch(
        /^registry locked is network-restricted \(public network access is Disabled; its firewall denies by default .*\); ACI pulls through the trusted-services exception \(networkRuleBypassOptions=AzureServices\) with managed identity id-acr-pull; private endpoint pe-locked is outside the ACI subnet aci; target locked-blue$/,
      );
      expect(await createsOf('locked', since)).toHaveLength(1);
      expect((await callIp(s.ip!)).digest).toBe(digest);
    }, 60_000);

    it('contoso flipped to public network access Disabled with trusted services denied: fails at once, the running app keeps serving', async () => {
      const base = await status('fail');
      expect(base.activeGroup, 'fail has an active group (failure tests)').toBeTruthy();
      const ip = (await readSecret('fail-ip')).value!;
      const since = await requestMark();
      const flipped = await stack.emulator.control('POST', '/_emulator/registries/contoso/network', {
        publicNetworkAccess: 'Disabled',
        networkRuleBypassOptions: 'None',
      });
      expect(flipped.status).toBe(200);
      try {
        const { digest } = await push('fail', '1.4.0');
        const s = await rolloutOutcome('fail', digest, 15_000);
        expect(s.rollout).toMatchObject({
          state: 'failed',
          reason: 'RegistryNetworkRestricted',
          step: 'accepted',
        });
        expect(s.rollout?.error).toMatch(
          /registry contoso is network-restricted \(public network access is Disabled\)/,
        );
        expect(s.rollout?.error).toMatch(
          /contoso denies trusted services \(networkRuleBypassOptions=None\)\. Fix: enable 'Allow trusted Microsoft services/,
        );
        expect(s.rollout!.timeline.map((c) => c.step)).not.toContain('creating');
        expect(await createsOf('fail', since)).toHaveLength(0);
        expect(s).toMatchObject({ activeGroup: base.activeGroup, digest: base.digest });
        expect((await readSecret('fail-ip')).value).toBe(ip);
        expect((await callIp(ip)).digest).toBe(base.digest);
      } finally {
        await stack.emulator.control('POST', '/_emulator/registries/contoso/network', {
          publicNetworkAccess: 'Enabled',
          networkRuleBypassOptions: 'AzureServices',
        });
      }
    }, 60_000);
  });

  it('malformed or foreign events, unknown repositories, disallowed tags: no rollout, a logged reason, a 2xx; a body that is not JSON: 400', async () => {
    const before = await status('web');
    const since = await requestMark();
    const mark = logMark();
    const digest = `sha256:${crypto.randomBytes(32).toString('hex')}`;
    const deleted = imagePushed({
      repository: 'web',
      tag: '9.0.0',
      digest,
      eventType: 'Microsoft.ContainerRegistry.ImageDeleted',
    });
    const noTarget = imagePushed({ repository: 'web', tag: '9.0.1', digest });
    delete (noTarget['data'] as Record<string, unknown>)['target'];
    const cases: { what: string; event: Record<string, unknown>; log: RegExp }[] = [
      {
        what: 'another registry (topic)',
        event: imagePushed({ repository: 'web', tag: '9.0.0', digest, registry: 'fabrikam' }),
        log: /rejected: no app is configured for registry .*registries\/fabrikam/,
      },
      {
        what: 'a login server that is not the registry',
        event: imagePushed({ repository: 'web', tag: '9.0.0', digest, host: 'evil.azurecr.io' }),
        log: /rejected: login server evil\.azurecr\.io does not match registry contoso/,
      },
      {
        what: 'an unknown repository',
        event: imagePushed({ repository: 'nosuch', tag: '9.0.0', digest }),
        log: /rejected: repository nosuch is not configured/,
      },
      {
        what: 'a tag that is not a version',
        event: imagePushed({ repository: 'web', tag: 'latest', digest }),
        log: /rejected: tag "latest" is not a semantic version/,
      },
      {
        what: 'a version outside the range',
        event: imagePushed({ repository: 'web', tag: '0.9.0', digest }),
        log: /rejected: tag "0\.9\.0" is outside the semver range >=1\.0\.0/,
      },
      {
        what: 'ImageDeleted',
        event: deleted,
        log: /ignored: event type Microsoft\.ContainerRegistry\.ImageDeleted is not handled/,
      },
      {
        what: 'ImagePushed without data.target',
        event: noTarget,
        log: /rejected: malformed event: ImagePushed data\.target/,
      },
      {
        what: 'an event without a topic',
        event: (({ topic: _t, ...rest }) => rest)(imagePushed({ repository: 'web', tag: '9.0.2', digest })),
        log: /rejected: malformed event: Event Grid event topic/,
      },
    ];
    for (const c of cases) {
      expect(await postWebhook(c.event), c.what).toBe(202);
      const line = await waitForLog(mark, new RegExp(String(c.event['id'])), `for ${c.what}`);
      expect(line, c.what).toMatch(c.log);
    }
    // Through Event Grid itself: an unknown repository and a disallowed tag pushed to contoso are delivered (2xx).
    await push('nosuch', '1.0.0');
    await push('web', 'latest');
    for (const subject of ['nosuch:1.0.0', 'web:latest']) {
      const [d] = await waitFor(`the delivery of ${subject}`, async () => {
        const ds = await deliveriesOf(subject);
        return ds[0]?.state === 'delivered' ? ds : undefined;
      });
      expect(d!.attempts.map((a) => a.status)).toEqual([202]);
    }
    await waitForLog(
      mark,
      /ImagePushed web:latest .*rejected: tag "latest" is not a semantic version/,
      'for web:latest via Event Grid',
    );
    // Not JSON: 400 (Event Grid dead-letters it rather than retrying).
    expect(await postWebhook('{"not json', true)).toBe(400);

    const creates = await stack.emulator.control<{ entries: unknown[] }>(
      'GET',
      `/_emulator/requests?since=${since}&operation=${CREATE}`,
    );
    expect(creates.body.entries, 'no ACI create at all').toHaveLength(0);
    const after = await status('web');
    expect(after.rollout?.id).toBe(before.rollout?.id);
    expect(after.digest).toBe(before.digest);
  }, 60_000);

  it('the host killed (SIGKILL) mid-rollout after the new group was created: the reconcile timer completes the rollout', async () => {
    const base = await deploy('kill', '1.0.0');
    const oldIp = base.ip;
    const since = await requestMark();
    // Slow start: the group is created and Running, but the health gate waits 8 s for it to listen.
    const { digest } = await push('kill', '1.3.0', { behavior: 'slow:8' });
    const inFlight = await waitFor('1.3.0 to be in its health gate', async () => {
      const s = await status('kill');
      return s.rollout?.digest === digest && s.rollout.step === 'healthGate' ? s.rollout : undefined;
    });
    expect(await groupExists(inFlight.group)).toBe(true);

    await stack.restartHost({ signal: 'SIGKILL' });
    // Nothing moved it while the host was down, and the redelivered event is a duplicate: still in progress.
    const stuck = await status('kill');
    expect(stuck.rollout).toMatchObject({ id: inFlight.id, state: 'inProgress' });
    expect((await readSecret('kill-ip')).value).toBe(oldIp);

    await stack.runFunction('reconcile');
    const s = await rolloutOutcome('kill', digest, 45_000);
    expect(s.rollout, JSON.stringify(s.rollout, null, 1)).toMatchObject({
      id: inFlight.id,
      state: 'succeeded',
      digest,
      tag: '1.3.0',
    });
    await onlyGroups('kill', [inFlight.group]);
    const ip = (await readSecret('kill-ip')).value!;
    expect(ip).not.toBe(oldIp);
    expect(await callIp(ip)).toMatchObject({ digest, group: inFlight.group });
    // The group created before the kill was kept, not created again.
    expect(await createsOf('kill', since)).toHaveLength(1);
    // Event Grid redelivered the event the dead host never answered, and the new host answered it.
    const [delivery] = await waitFor('the interrupted delivery to be redelivered', async () => {
      const ds = await deliveriesOf('kill:1.3.0');
      return ds[0]?.state === 'delivered' ? ds : undefined;
    });
    expect(delivery!.attempts.length).toBeGreaterThan(1);
    expect(delivery!.attempts.at(-1)?.outcome).toBe('Delivered');
  }, 120_000);

  it('CloudEvents 1.0: a subscription delivering the CloudEvents schema deploys the push the same way', async () => {
    const before = await status('order');
    expect(before.rollout?.state, 'order is idle (reorder test)').toBe('succeeded');
    const subscribe = (deliverySchema: string) =>
      stack.emulator.control('POST', '/_emulator/eventgrid/subscriptions', {
        registryName: 'contoso',
        name: SUBSCRIPTION,
        endpointUrl: webhookUrl(),
        includedEventTypes: ['Microsoft.ContainerRegistry.ImagePushed'],
        deliverySchema,
      });
    expect((await subscribe('CloudEventSchemaV1_0')).status).toBe(200);
    try {
      const { digest } = await push('order', '1.3.0');
      const [delivery] = await waitFor('the CloudEvent to be delivered', async () => {
        const ds = await deliveriesOf('order:1.3.0');
        return ds[0]?.state === 'delivered' ? ds : undefined;
      });
      expect(delivery!.event).toMatchObject({
        specversion: '1.0',
        type: 'Microsoft.ContainerRegistry.ImagePushed',
      });
      expect(delivery!.attempts.map((a) => a.status)).toEqual([202]);
      const s = await rolloutOutcome('order', digest);
      expect(s.rollout?.state, String(s.rollout?.error)).toBe('succeeded');
      expect(s).toMatchObject({ tag: '1.3.0', digest });
      expect(await callIp((await readSecret('order-ip')).value!)).toMatchObject({ digest });
    } finally {
      expect((await subscribe('EventGridSchema')).status).toBe(200);
    }
  }, 60_000);
});
