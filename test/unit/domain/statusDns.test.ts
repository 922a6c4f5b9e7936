/**
 * The DNS part of the status document (issue 17, src/domain/dnsStatus.ts): each app's `dns` (name, record IP,
 * inSync) with a DnsInSync condition, null for an app without a DNS name, and the watched groups' records.
 */
import { describe, expect, it } from 'vitest';
import { parsePrivateDnsZoneId } from '../../../src/config/dnsConfig.js';
import { reconcile } from '../../../src/domain/reconcile.js';
import { collectStatus } from '../../../src/domain/status.js';
import { budget, makeConfig, makeWorld, webApp } from '../support/fakes.js';
import { ZONE_ID } from '../support/fakeDns.js';
import { deployInitial } from '../support/scenario.js';

const ZONE = parsePrivateDnsZoneId(ZONE_ID)!;

function world() {
  const api = webApp({
    name: 'api',
    repository: 'api',
    secret: { vaultUrl: 'https://kv-apps.vault.azure.net', name: 'api-ip' },
  });
  return makeWorld(
    makeConfig([webApp({ dns: { zoneId: ZONE_ID, name: 'www' } }), api], {
      watch: { resourceGroups: ['rg-shared'], dns: { zoneId: ZONE_ID } },
    }),
  );
}

describe('status: DNS names', () => {
  it('shows the name callers use, the record IP and whether it points at the active group', async () => {
    const w = world();
    await deployInitial(w);
    const ip = w.groups.peek('rg-apps', 'web-blue')!.ip!;
    const doc = await collectStatus(w.deps);
    const web = doc.apps.find((a) => a.name === 'web')!;
    expect(web.dns).toEqual({
      name: 'www.apps.internal',
      zoneId: ZONE.id,
      recordIp: ip,
      ttlSeconds: 10,
      inSync: true,
      problem: null,
    });
    expect(web.conditions.find((c) => c.type === 'DnsInSync')).toMatchObject({ status: 'True' });
    expect(doc.apps.find((a) => a.name === 'api')!.dns).toBeNull();
    expect(doc.errors).toEqual([]);

    const newIp = w.groups.maintenance('rg-apps', 'web-blue');
    const stale = (await collectStatus(w.deps)).apps.find((a) => a.name === 'web')!;
    expect(stale.dns).toMatchObject({ recordIp: ip, inSync: false, problem: null });
    expect(stale.conditions.find((c) => c.type === 'DnsInSync')).toMatchObject({
      status: 'False',
      message: `www.apps.internal differs from ${newIp}`,
    });
  });

  it('an app not deployed yet shows its name and no sync; a zone that cannot be read is a read error', async () => {
    const w = world();
    const before = (await collectStatus(w.deps)).apps.find((a) => a.name === 'web')!;
    expect(before.dns).toMatchObject({ name: 'www.apps.internal', recordIp: null, inSync: false });
    expect(before.dns!.problem).toBe('no active group yet');
    await deployInitial(w);
    w.dns.fault = (op) => (op === 'list' ? new Error('boom') : undefined);
    const doc = await collectStatus(w.deps);
    expect(doc.errors).toEqual([`DNS zone ${ZONE.id}: boom`]);
    expect(doc.apps.find((a) => a.name === 'web')!.dns).toMatchObject({
      inSync: false,
      recordIp: null,
      problem: 'zone listing failed: boom',
    });
  });

  it('lists watched groups tagged ip-dns with their records', async () => {
    const w = world();
    w.groups.seed('rg-shared', 'cache', { tags: { 'ip-dns': 'cache' } });
    const unsynced = await collectStatus(w.deps);
    expect(unsynced.watchedDns).toEqual([
      expect.objectContaining({
        name: 'cache',
        dnsName: 'cache.apps.internal',
        inSync: false,
        recordIp: null,
      }),
    ]);
    await reconcile(w.deps, budget(w, 30));
    const doc = await collectStatus(w.deps);
    const ip = w.groups.peek('rg-shared', 'cache')!.ip!;
    expect(doc.watchedDns).toEqual([
      {
        resourceGroup: 'rg-shared',
        name: 'cache',
        dnsName: 'cache.apps.internal',
        zoneId: ZONE.id,
        ip,
        recordIp: ip,
        inSync: true,
        source: 'tag',
        state: null,
        problem: null,
      },
    ]);
    expect((await collectStatus(w.deps, { app: 'web' })).watchedDns).toEqual([]);
  });
});
