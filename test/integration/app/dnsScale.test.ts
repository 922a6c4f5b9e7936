/**
 * Issue 17 acceptance: 1,000 watched groups with DNS names (tag `ip-dns`) in one zone. The first tick creates the
 * 1,000 A records; a steady tick then lists the zone's records in ceil(records / page) calls (Azure's default page of
 * 100) and writes nothing; one moved group costs one record write. Counted with the emulator's request log, one tick
 * at a time (the harness runs the host's reconcile timer on demand, as reconcileScale.test.ts does).
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapLimit } from '../../../src/domain/concurrency.js';
import type { ReconcileResult } from '../../../src/domain/model.js';
import { NEVER_SCHEDULE } from '../support/stack.js';
import { startHarness, subnetId, type Harness } from './reconcileHarness.js';

const RESOURCE_GROUP = 'rg-dns-scale';
const GROUPS = 1000;
/** An emulated subnet is a /24: at most 251 groups each. */
const PER_SUBNET = 250;
/** RecordSets_ListByType without `$top`: 100 record sets a page, as Azure (the emulator's default). */
const RECORD_PAGE = 100;

interface RequestSummary {
  lastSeq: number;
  counts: Record<string, number>;
}

describe('DNS names at scale: 1,000 watched groups in one zone', () => {
  let h: Harness;

  const requests = async (since: number) =>
    (await h.stack.emulator.control<RequestSummary>('GET', `/_emulator/requests?since=${since}`)).body;

  /** One run of the host's timer, and the Private DNS calls it made. */
  async function oneTick(): Promise<{ result: ReconcileResult; dns: Record<string, number> }> {
    const since = (await requests(0)).lastSeq;
    const result = await h.tickNow(120_000);
    const { counts } = await requests(since);
    return {
      result,
      dns: Object.fromEntries(Object.entries(counts).filter(([op]) => op.startsWith('RecordSets_'))),
    };
  }

  beforeAll(async () => {
    h = await startHarness({
      schedule: NEVER_SCHEDULE,
      configure: (config) => {
        config.watch.resourceGroups = [...config.watch.resourceGroups, RESOURCE_GROUP];
      },
    });
    const salt = crypto.randomBytes(3).toString('hex');
    // One seed call per group: each group carries its own name in its `ip-dns` tag.
    const seeds = Array.from({ length: GROUPS }, (_, i) => i + 1);
    const results = await mapLimit(seeds, 8, async (i) => {
      const res = await h.stack.emulator.control<{ created: unknown[] }>(
        'POST',
        '/_emulator/containerGroups/seed',
        {
          resourceGroup: RESOURCE_GROUP,
          count: 1,
          namePrefix: 'svc',
          startIndex: i,
          subnetId: subnetId(`dns-scale-${salt}-${Math.ceil(i / PER_SUBNET)}`),
          tags: { 'ip-dns': `svc-${i}` },
          listen: false,
        },
      );
      if (res.status !== 201 || res.body.created.length !== 1)
        throw new Error(`seed svc-${i}: ${res.status}`);
    });
    expect(results.filter((r) => !r.ok)).toEqual([]);
  }, 300_000);

  afterAll(async () => {
    await h?.stop();
  });

  it('first tick: creates the 1,000 records (If-None-Match), one listing of the zone, no per-record GETs', async () => {
    const { result, dns } = await oneTick();
    expect(result.errors).toEqual([]);
    expect(result.counts).toMatchObject({ dnsZones: 1, dnsRecordsChecked: GROUPS });
    expect(result.changed.filter((c) => c.kind === 'dnsRecord')).toHaveLength(GROUPS);
    // The zone held no records yet: one page.
    expect(dns).toEqual({ RecordSets_ListByType: 1, RecordSets_CreateOrUpdate: GROUPS });
    const group = await h.aci.containerGroups.get(RESOURCE_GROUP, 'svc-577');
    const zone = await h.stack.emulator.control<{
      value: Array<{ name: string; aRecords: Array<{ name: string; ips: string[] }> }>;
    }>('GET', '/_emulator/privateDnsZones');
    const records = zone.body.value.find((z) => z.name === 'apps.internal')!.aRecords;
    expect(records.find((r) => r.name === 'svc-577')?.ips).toEqual([group.ipAddress?.ip]);
  });

  it('steady tick: ceil(records / page) listing calls and no writes', async () => {
    const { result, dns } = await oneTick();
    expect(result.errors).toEqual([]);
    expect(result.changed).toEqual([]);
    expect(dns).toEqual({ RecordSets_ListByType: Math.ceil(GROUPS / RECORD_PAGE) });
  });

  it('one group moved: the next tick writes that one record only', async () => {
    const { newIp } = await h.maintenance(RESOURCE_GROUP, 'svc-42');
    const { result, dns } = await oneTick();
    expect(result.errors).toEqual([]);
    expect(result.changed).toEqual([
      expect.objectContaining({
        kind: 'dnsRecord',
        target: 'svc-42.apps.internal',
        message: expect.stringContaining(`→ ${newIp}`),
      }),
    ]);
    expect(dns).toEqual({
      RecordSets_ListByType: Math.ceil(GROUPS / RECORD_PAGE),
      RecordSets_CreateOrUpdate: 1,
    });
  });
});
