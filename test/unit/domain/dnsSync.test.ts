/**
 * Reconcile's DNS part (issue 17, src/domain/reconcile/dnsSync.ts) over the fakes: one listing per zone, writes only
 * where the IP or TTL differs, ETag preconditions, never a blank record, tagged groups, and a stale view that must not
 * undo a switch.
 */
import { describe, expect, it } from 'vitest';
import { parsePrivateDnsZoneId } from '../../../src/config/dnsConfig.js';
import { MANAGED_BY, type ReconcileResult } from '../../../src/domain/model.js';
import { reconcile } from '../../../src/domain/reconcile.js';
import { budget, makeConfig, makeWorld, webApp, type World } from '../support/fakes.js';
import { ZONE_ID } from '../support/fakeDns.js';
import { deployInitial } from '../support/scenario.js';

const ZONE = parsePrivateDnsZoneId(ZONE_ID)!;
const OTHER_ZONE_ID = ZONE_ID.replace('apps.internal', 'legacy.internal');
const OTHER_ZONE = parsePrivateDnsZoneId(OTHER_ZONE_ID)!;

function tick(w: World): Promise<ReconcileResult> {
  return reconcile({ ...w.deps }, budget(w, 60));
}

function dnsWorld(dns: Record<string, unknown> = { zoneId: ZONE_ID }, watch: Record<string, unknown> = {}) {
  return makeWorld(
    makeConfig([webApp({ dns })], {
      watch: { resourceGroups: ['rg-shared'], dns: { zoneId: ZONE_ID, ttlSeconds: 30 }, ...watch },
    }),
  );
}

const resetDnsCalls = (w: World) => (w.dns.calls = { list: 0, get: 0, put: 0 });

describe('reconcile: DNS records of managed apps', () => {
  it('a steady tick lists the zone once and writes nothing; after a maintenance one tick repairs the record', async () => {
    const w = dnsWorld();
    await deployInitial(w);
    const ip = w.groups.peek('rg-apps', 'web-blue')!.ip!;
    expect(w.dns.record(ZONE, 'web')).toMatchObject({ ips: [ip], ttlSeconds: 10 });

    resetDnsCalls(w);
    const steady = await tick(w);
    expect(steady.changed).toEqual([]);
    expect(w.dns.calls).toEqual({ list: 1, get: 0, put: 0 });
    expect(steady.counts).toMatchObject({ dnsZones: 1, dnsRecordsChecked: 1 });

    const newIp = w.groups.maintenance('rg-apps', 'web-blue');
    const etagBefore = w.dns.record(ZONE, 'web')!.etag;
    resetDnsCalls(w);
    const repaired = await tick(w);
    expect(w.dns.record(ZONE, 'web')).toMatchObject({ ips: [newIp], ttlSeconds: 10 });
    expect(w.dns.record(ZONE, 'web')!.etag).not.toBe(etagBefore);
    expect(repaired.changed).toContainEqual({
      kind: 'dnsRecord',
      target: 'web.apps.internal',
      message: `web.apps.internal: ${ip} → ${newIp} (rg-apps/web-blue)`,
    });
    expect(repaired.errors).toEqual([]);
    expect(w.dns.calls).toEqual({ list: 1, get: 0, put: 1 });
  });

  it('creates a missing record (If-None-Match) and rewrites one whose TTL differs from the config', async () => {
    const w = dnsWorld({ zoneId: ZONE_ID, ttlSeconds: 5 });
    await deployInitial(w);
    w.dns.zones.clear();
    const created = await tick(w);
    const ip = w.groups.peek('rg-apps', 'web-blue')!.ip!;
    expect(created.changed.map((c) => c.message)).toEqual([
      `web.apps.internal: (new) → ${ip} (rg-apps/web-blue)`,
    ]);
    expect(w.dns.record(ZONE, 'web')!.metadata).toEqual({
      app: 'web',
      colour: 'blue',
      group: 'web-blue',
      'resource-group': 'rg-apps',
      'managed-by': MANAGED_BY,
    });

    w.dns.seed(ZONE, 'web', [ip], 3600);
    const ttl = await tick(w);
    expect(ttl.changed.map((c) => c.message)).toEqual([
      'web.apps.internal: TTL 3600 → 5 s (rg-apps/web-blue)',
    ]);
    expect(w.dns.record(ZONE, 'web')!.ttlSeconds).toBe(5);
  });

  it('never blanks or deletes a record: a stopped active group leaves it as it is, with a warning', async () => {
    const w = dnsWorld();
    await deployInitial(w);
    const before = w.dns.record(ZONE, 'web');
    w.groups.stop('rg-apps', 'web-blue');
    resetDnsCalls(w);
    const r = await tick(w);
    expect(w.dns.record(ZONE, 'web')).toEqual(before);
    expect(w.dns.calls.put).toBe(0);
    expect(r.warnings.map((x) => x.message)).toContain(
      'rg-apps/web-blue is Stopped, not Running; record web.apps.internal left unchanged',
    );
  });

  it('a record written by someone else after the listing is not overwritten (If-Match): a warning, the next tick decides', async () => {
    const w = dnsWorld();
    await deployInitial(w);
    const newIp = w.groups.maintenance('rg-apps', 'web-blue');
    w.dns.beforePut = (zone, name) => {
      w.dns.beforePut = undefined;
      w.dns.seed(zone, name, ['10.9.9.9']);
    };
    const raced = await tick(w);
    expect(w.dns.record(ZONE, 'web')!.ips).toEqual(['10.9.9.9']);
    expect(raced.errors).toEqual([]);
    expect(raced.warnings).toContainEqual({
      scope: 'dnsRecord',
      target: 'web.apps.internal',
      message: expect.stringMatching(/^changed since it was listed .*the next tick reads it again$/),
    });
    expect(w.dns.calls.put).toBeGreaterThanOrEqual(1);

    const next = await tick(w);
    expect(w.dns.record(ZONE, 'web')!.ips).toEqual([newIp]);
    expect(next.changed.map((c) => c.kind)).toContain('dnsRecord');
  });

  it('leaves the record to a rollout that is switching, and re-reads the stored state before writing', async () => {
    const w = dnsWorld();
    await deployInitial(w);
    const oldIp = w.dns.record(ZONE, 'web')!.ips[0]!;
    // The tick read `web-blue` as active; by the time it writes, a switch has moved the app to web-green.
    w.groups.seed('rg-apps', 'web-green', { ip: '10.0.0.99' });
    const newIp = w.groups.maintenance('rg-apps', 'web-blue');
    const realGet = w.store.get.bind(w.store);
    let reads = 0;
    w.store.get = async (app: string) => {
      const row = await realGet(app);
      if (app === 'web' && row && ++reads === 1)
        return { ...row, state: { ...row.state, active: { ...row.state.active!, group: 'web-green' } } };
      return row;
    };
    const r = await tick(w);
    expect(w.dns.record(ZONE, 'web')!.ips).toEqual([oldIp]);
    expect(r.changed.filter((c) => c.kind === 'dnsRecord')).toEqual([]);
    expect(reads).toBeGreaterThanOrEqual(1);
    w.store.get = realGet;
    await tick(w);
    expect(w.dns.record(ZONE, 'web')!.ips).toEqual([newIp]);
  });

  it('reports a zone that cannot be listed and goes on with the secrets', async () => {
    const w = dnsWorld();
    await deployInitial(w);
    w.dns.fault = (op) => (op === 'list' ? new Error('boom') : undefined);
    const newIp = w.groups.maintenance('rg-apps', 'web-blue');
    const r = await tick(w);
    expect(r.errors).toContainEqual({
      scope: 'dnsZone',
      target: ZONE.id,
      message: 'listing A records failed: boom',
      retryable: true,
    });
    expect(w.secrets.value('https://kv-apps.vault.azure.net', 'web-ip')).toBe(newIp);
  });
});

describe('reconcile: DNS records of watched groups (tag ip-dns)', () => {
  it('keeps tagged groups in their zone (watch.dns or the ip-dns-zone tag), with the watched TTL', async () => {
    const api = webApp({
      name: 'api',
      repository: 'api',
      secret: { vaultUrl: 'https://kv-apps.vault.azure.net', name: 'api-ip' },
      dns: { zoneId: OTHER_ZONE_ID },
    });
    const w = makeWorld(
      makeConfig([webApp({ dns: { zoneId: ZONE_ID } }), api], {
        watch: { resourceGroups: ['rg-shared'], dns: { zoneId: ZONE_ID, ttlSeconds: 30 } },
      }),
    );
    w.groups.seed('rg-shared', 'cache', { tags: { 'ip-dns': 'Cache' } });
    w.groups.seed('rg-shared', 'queue', { tags: { 'ip-dns': 'queue', 'ip-dns-zone': 'legacy.internal' } });
    w.groups.seed('rg-shared', 'plain');
    const r = await tick(w);
    expect(r.errors).toEqual([]);
    const ip = (n: string) => w.groups.peek('rg-shared', n)!.ip!;
    expect(w.dns.record(ZONE, 'cache')).toMatchObject({ ips: [ip('cache')], ttlSeconds: 30 });
    expect(w.dns.record(ZONE, 'cache')!.metadata).toEqual({
      group: 'cache',
      'resource-group': 'rg-shared',
      'managed-by': MANAGED_BY,
    });
    expect(w.dns.record(OTHER_ZONE, 'queue')).toMatchObject({ ips: [ip('queue')] });
    expect(r.counts).toMatchObject({ dnsZones: 2, dnsRecordsChecked: 2 });
  });

  it('refuses tags naming an unknown zone or an app name, and a name claimed twice (neither is written)', async () => {
    const w = dnsWorld();
    await deployInitial(w);
    const webRecord = w.dns.record(ZONE, 'web');
    w.groups.seed('rg-shared', 'rogue', { tags: { 'ip-dns': 'web' } });
    w.groups.seed('rg-shared', 'stray', { tags: { 'ip-dns': 'x', 'ip-dns-zone': 'evil.example' } });
    w.groups.seed('rg-shared', 'twin-a', { tags: { 'ip-dns': 'twin' } });
    w.groups.seed('rg-shared', 'twin-b', { tags: { 'ip-dns': 'twin' } });
    w.groups.seed('rg-shared', 'bad', { tags: { 'ip-dns': 'not_a_label' } });
    const r = await tick(w);
    expect(w.dns.record(ZONE, 'web')).toEqual(webRecord);
    expect(w.dns.record(ZONE, 'twin')).toBeUndefined();
    expect(w.dns.record(ZONE, 'x')).toBeUndefined();
    const messages = r.warnings.filter((x) => x.scope === 'watch').map((x) => `${x.target}: ${x.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        "rg-shared/rogue: web.apps.internal is a managed app's DNS name; not pointing it at rogue",
        'rg-shared/stray: tag ip-dns-zone=evil.example names a zone that is not in APPS_CONFIG; ignored',
        'rg-shared/twin-b: twin.apps.internal is claimed by rg-shared/twin-a and rg-shared/twin-b; neither is written',
        'rg-shared/bad: tag ip-dns="not_a_label" is not a valid record name in apps.internal',
      ]),
    );
  });

  it('a tag without a zone (no watch.dns, no ip-dns-zone) is reported, not guessed', async () => {
    const w = makeWorld(makeConfig([webApp()], { watch: { resourceGroups: ['rg-shared'] } }));
    w.groups.seed('rg-shared', 'cache', { tags: { 'ip-dns': 'cache' } });
    const r = await tick(w);
    expect(r.warnings.map((x) => x.message)).toContain(
      'tagged ip-dns=cache but no zone: add tag ip-dns-zone or set watch.dns.zoneId',
    );
    expect(w.dns.calls.list).toBe(0);
  });

  it('1,000 tagged groups: the first tick writes each record once, a steady tick lists once and writes nothing', async () => {
    const w = dnsWorld();
    for (let i = 0; i < 1000; i++)
      w.groups.seed('rg-shared', `worker-${i}`, {
        tags: { 'ip-dns': `worker-${i}` },
        ip: `10.1.${i >> 8}.${i & 255}`,
      });
    const first = await tick(w);
    expect(first.errors).toEqual([]);
    expect(first.changed.filter((c) => c.kind === 'dnsRecord')).toHaveLength(1000);
    resetDnsCalls(w);
    const steady = await tick(w);
    expect(steady.changed).toEqual([]);
    expect(w.dns.calls).toEqual({ list: 1, get: 0, put: 0 });
    expect(steady.counts.dnsRecordsChecked).toBe(1000);
  });
});
