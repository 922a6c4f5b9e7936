/**
 * Issue 5 acceptance: 300 watched groups in 3 resource groups, nothing stale. One tick makes
 * ceil(groups / page size) list calls per resource group plus the vault's listing pages (with
 * `reconcile.secretAuditSeconds: 0`: a full vault listing every tick), no secret writes and no per-group GETs,
 * counted with the emulator's request log.
 *
 * How one tick is framed: the host runs the real `reconcile` timer function, but its schedule never fires
 * (NEVER_SCHEDULE); the test starts exactly one run through the host's admin API (`POST /admin/functions/reconcile`,
 * as in Azure) and knows it has finished when the tick's result (`lastReconcile`, which status shows) changes in
 * the rollout table. The table is read straight from Azurite rather than through `GET /api/status`, because status
 * lists the resource groups and the vault itself: its own calls would land in the window being counted. The
 * request log is read before the run and after its result was recorded (the tick's last step), so the window
 * holds that one tick and nothing else.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapLimit } from '../../../src/domain/concurrency.js';
import type { ReconcileResult } from '../../../src/domain/model.js';
import { startHarness, subnetId, type Harness } from './reconcileHarness.js';
import { NEVER_SCHEDULE } from '../support/stack.js';

const RESOURCE_GROUPS = ['rg-scale-1', 'rg-scale-2', 'rg-scale-3'];
const PER_RESOURCE_GROUP = 100;
/** Smaller than the group count, so a resource group's list really takes several pages. */
const GROUP_PAGE_SIZE = 40;
/** Key Vault's default page of listPropertiesOfSecrets (the emulator's default, as Azure). */
const SECRET_PAGE_SIZE = 25;

interface RequestSummary {
  total: number;
  lastSeq: number;
  counts: Record<string, number>;
  statuses: Record<string, number>;
}

/** Calls to Azure services (the control API's own requests left out). */
function azureCalls(summary: RequestSummary): Record<string, number> {
  return Object.fromEntries(Object.entries(summary.counts).filter(([op]) => !op.startsWith('Emulator_')));
}

describe('reconcile at scale: 300 groups in 3 resource groups', () => {
  let h: Harness;
  let configuredGroups: string[];

  const requests = async (since: number) =>
    (await h.stack.emulator.control<RequestSummary>('GET', `/_emulator/requests?since=${since}`)).body;

  /** Exactly one run of the host's timer function, and the emulator requests it made. */
  async function oneTick(): Promise<{
    result: ReconcileResult;
    calls: Record<string, number>;
    statuses: Record<string, number>;
  }> {
    const since = (await requests(0)).lastSeq;
    const result = await h.tickNow(60_000);
    const summary = await requests(since);
    const statuses = Object.fromEntries(
      Object.entries(summary.statuses).filter(([op]) => !op.startsWith('Emulator_')),
    );
    return { result, calls: azureCalls(summary), statuses };
  }

  beforeAll(async () => {
    h = await startHarness({
      schedule: NEVER_SCHEDULE,
      emulator: { pageSize: { containerGroups: GROUP_PAGE_SIZE, secrets: SECRET_PAGE_SIZE } },
      configure: (config) => {
        config.watch.resourceGroups = [...config.watch.resourceGroups, ...RESOURCE_GROUPS];
        // The vault is listed on every tick here (no secret mirror between audits), so that the listing's own
        // paths (pages, throttling, failure, a hung page) are what each tick meets. The mirror's steady tick,
        // which lists no vault, is reconcileAudit.test.ts's subject.
        config.reconcile = { ...config.reconcile, secretAuditSeconds: 0 };
      },
    });
    configuredGroups = [
      ...new Set([
        ...h.config.apps.map((a) => String(a['resourceGroup'])),
        ...h.config.watch.resourceGroups,
        ...(h.config.watch.groups as Array<{ resourceGroup: string }>).map((g) => g.resourceGroup),
      ]),
    ];
    // One seed call per group: each group carries its own `ip-secret` tag (its own secret).
    const salt = crypto.randomBytes(3).toString('hex');
    const seeds = RESOURCE_GROUPS.flatMap((rg, r) =>
      Array.from({ length: PER_RESOURCE_GROUP }, (_, i) => ({ rg, r: r + 1, i: i + 1 })),
    );
    const results = await mapLimit(seeds, 8, async ({ rg, r, i }) => {
      const res = await h.stack.emulator.control<{ created: unknown[] }>(
        'POST',
        '/_emulator/containerGroups/seed',
        {
          resourceGroup: rg,
          count: 1,
          namePrefix: `svc-${r}`,
          startIndex: i,
          subnetId: subnetId(`scale-${salt}-${r}`),
          tags: { 'ip-secret': `svc-${r}-${i}-ip` },
          listen: false,
        },
      );
      if (res.status !== 201 || res.body.created.length !== 1)
        throw new Error(`seed ${rg}/svc-${r}-${i}: ${res.status}`);
    });
    expect(results.filter((x) => !x.ok)).toEqual([]);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const expectedLists = (groupsPerRg: (rg: string) => number) =>
    configuredGroups.reduce((n, rg) => n + Math.max(1, Math.ceil(groupsPerRg(rg) / GROUP_PAGE_SIZE)), 0);
  const perRg = (rg: string) => (RESOURCE_GROUPS.includes(rg) ? PER_RESOURCE_GROUP : 0);
  const secretsInVault = async () => {
    const res = await h.stack.emulator.control<{ value: Array<{ name: string; secrets: number }> }>(
      'GET',
      '/_emulator/vaults',
    );
    return res.body.value.find((v) => v.name === 'kv-apps')!.secrets;
  };

  it('first tick: creates the 300 secrets, with no per-group GETs', async () => {
    const { result, calls } = await oneTick();
    expect(result.errors).toEqual([]);
    // 300 tagged groups + the sample's configured rg-legacy/legacy-worker (absent: reported, nothing written).
    expect(result.counts).toMatchObject({ groups: 300, vaults: 1, secretsChecked: 301, writes: 300 });
    expect(calls['SetSecret']).toBe(300);
    expect(calls['ContainerGroups_Get']).toBeUndefined();
    expect(calls['GetSecret']).toBeUndefined();
    expect(calls['ContainerGroups_ListByResourceGroup']).toBe(expectedLists(perRg));
    const secret = await h.readSecret('svc-2-57-ip');
    const group = await h.aci.containerGroups.get('rg-scale-2', 'svc-2-57');
    expect(secret?.value).toBe(group.ipAddress?.ip);
  });

  it('nothing stale: one tick = ceil(groups/page) lists per resource group + the vault listing, no writes, no GETs', async () => {
    const secrets = await secretsInVault();
    expect(secrets).toBeGreaterThanOrEqual(300);
    const { result, calls, statuses } = await oneTick();
    expect(result.errors).toEqual([]);
    expect(result.changed).toEqual([]);
    expect(result.counts).toMatchObject({ resourceGroups: configuredGroups.length, groups: 300, writes: 0 });
    // 3 × ceil(100/40) = 9 for the seeded resource groups, 1 each for rg-apps and rg-legacy (empty);
    // ceil(secrets/25) pages of the vault. Nothing else: no SetSecret, GetSecret or ContainerGroups_Get.
    expect(calls).toEqual({
      ContainerGroups_ListByResourceGroup: expectedLists(perRg),
      GetSecrets: Math.ceil(secrets / SECRET_PAGE_SIZE),
    });
    expect(Object.keys(statuses).every((k) => k.endsWith(' 200'))).toBe(true);
  });

  it('one group moved: the next tick writes that one secret only, still without per-group GETs', async () => {
    const { newIp } = await h.maintenance('rg-scale-3', 'svc-3-99');
    const secrets = await secretsInVault();
    const { result, calls } = await oneTick();
    expect(result.errors).toEqual([]);
    expect(result.changed).toHaveLength(1);
    expect(result.changed[0]!.message).toContain(`→ ${newIp}`);
    expect(calls).toEqual({
      ContainerGroups_ListByResourceGroup: expectedLists(perRg),
      GetSecrets: Math.ceil(secrets / SECRET_PAGE_SIZE),
      SetSecret: 1,
    });
    expect((await h.readSecret('svc-3-99-ip'))?.value).toBe(newIp);
  });
  it('a throttled vault listing: each throttled call is counted once, and the call’s own retries get it through in the same tick', async () => {
    const { newIp } = await h.maintenance('rg-scale-1', 'svc-1-7');
    // The tick's first four listing calls are throttled (429 without Retry-After): the call's own jittered
    // retries (src/adapters/jitteredRetryPolicy.ts, issue 16) absorb them, and the tick counts every one.
    const fault = await h.stack.emulator.control<{ id: string }>('POST', '/_emulator/faults', {
      kind: 'throttle',
      match: { operation: 'GetSecrets' },
      count: 4,
    });
    expect(fault.status).toBe(201);
    try {
      const { result, statuses } = await oneTick();
      expect(statuses['GetSecrets 429']).toBe(4);
      expect(result.throttled).toBe(4);
      expect(result.errors).toEqual([]);
      expect(result.counts.writes).toBe(1);
    } finally {
      await h.stack.emulator.control('DELETE', `/_emulator/faults/${fault.body.id}`);
    }
    expect((await h.readSecret('svc-1-7-ip'))?.value).toBe(newIp);
  });
  it('a vault listing that fails: reported, nothing is written blind; the next tick recovers', async () => {
    const { newIp } = await h.maintenance('rg-scale-1', 'svc-1-8');
    // Key Vault refuses the listing (403 Forbidden: not retried, by the call or the tick).
    const fault = await h.stack.emulator.control<{ id: string }>('POST', '/_emulator/faults', {
      kind: 'error',
      status: 403,
      code: 'Forbidden',
      match: { operation: 'GetSecrets' },
      count: 1,
    });
    expect(fault.status).toBe(201);
    try {
      const { result, statuses } = await oneTick();
      expect(statuses['GetSecrets 403']).toBe(1);
      expect(result.errors).toEqual([
        expect.objectContaining({ scope: 'vault', target: h.vaultUrl, retryable: false }),
      ]);
      expect(result.counts.writes).toBe(0);
      expect(statuses['SetSecret 200']).toBeUndefined();
    } finally {
      await h.stack.emulator.control('DELETE', `/_emulator/faults/${fault.body.id}`);
    }
    const next = await oneTick();
    expect(next.result.errors).toEqual([]);
    expect(next.result.throttled).toBe(0);
    expect(next.calls['SetSecret']).toBe(1);
    expect((await h.readSecret('svc-1-8-ip'))?.value).toBe(newIp);
  });
  it('a hung page of the vault listing costs the tick one request timeout, not the tick', async () => {
    const { newIp } = await h.maintenance('rg-scale-2', 'svc-2-3');
    // The second GetSecrets call (page 2 of the tick's listing) gets no answer while this test runs (the socket
    // is dropped after 10 min, longer than the test may take): a tick that waited for it would never finish.
    const fault = await h.stack.emulator.control<{ id: string }>('POST', '/_emulator/faults', {
      kind: 'timeout',
      match: { operation: 'GetSecrets' },
      share: 0.5,
      count: 1,
      latencyMs: 600_000,
    });
    expect(fault.status).toBe(201);
    try {
      const { result, statuses } = await oneTick();
      // The app's per-call timeout is 20 s (src/composition.ts): the tick gives up on the page, retries the
      // listing and finishes; it does not wait for the hung answer (which never comes).
      expect(statuses['GetSecrets 0']).toBe(1);
      expect(result.errors).toEqual([]);
      expect(result.counts.writes).toBe(1);
    } finally {
      await h.stack.emulator.control('DELETE', `/_emulator/faults/${fault.body.id}`);
    }
    expect((await h.readSecret('svc-2-3-ip'))?.value).toBe(newIp);
  });
});
