/**
 * The emulator's Private DNS through Azure's SDK (@azure/arm-privatedns, api-version 2020-06-01): zones, virtual
 * network links, A record sets with ETag preconditions and `$top` paging; and its DNS server through DNS clients:
 * Node's resolver (UDP) and a raw TCP query written with dns-packet.
 */
import dns from 'node:dns';
import net from 'node:net';
import { DefaultAzureCredential } from '@azure/identity';
import { PrivateDnsManagementClient, type RecordSet } from '@azure/arm-privatedns';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, useManagedIdentity, type TestEmulator } from '../support/emulator.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const VNET = `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-dns-it`;
const POLL = { updateIntervalInMs: 50 };
const PAGE = 10;

interface RestError {
  statusCode?: number;
  code?: string;
  message: string;
}

async function failure(promise: Promise<unknown>): Promise<RestError> {
  const result = await promise.then(
    () => undefined,
    (e: unknown) => e as RestError,
  );
  if (!result) throw new Error('expected the call to fail');
  return result;
}

const aRecord = (ip: string, ttl = 10): RecordSet => ({ ttl, aRecords: [{ ipv4Address: ip }] });

let emulator: TestEmulator;
let restoreEnv: () => void;
let client: PrivateDnsManagementClient;
let resolver: dns.promises.Resolver;

beforeAll(async () => {
  emulator = await startTestEmulator({ pageSize: { privateDns: PAGE } });
  restoreEnv = useManagedIdentity(emulator);
  client = new PrivateDnsManagementClient(new DefaultAzureCredential(), SUB, {
    endpoint: emulator.url,
    credentialScopes: ['https://management.azure.com/.default'],
  });
  resolver = new dns.promises.Resolver({ timeout: 2_000, tries: 1 });
  resolver.setServers([String(emulator.stack['dnsServer'])]);
});

afterAll(async () => {
  restoreEnv?.();
  await emulator?.close();
});

describe('emulator: Private DNS zones and links through @azure/arm-privatedns', () => {
  it('has the seeded zone apps.internal in rg-network, linked to vnet-apps, and says where its DNS server is', async () => {
    expect(emulator.stack['dnsServer']).toMatch(/^127\.0\.0\.1:\d+$/);
    const zone = await client.privateZones.get('rg-network', 'apps.internal');
    expect(zone).toMatchObject({
      name: 'apps.internal',
      type: 'Microsoft.Network/privateDnsZones',
      location: 'global',
      provisioningState: 'Succeeded',
      numberOfVirtualNetworkLinks: 1,
      maxNumberOfRecordSets: 25_000,
    });
    const links = [];
    for await (const l of client.virtualNetworkLinks.list('rg-network', 'apps.internal')) links.push(l);
    expect(links.map((l) => [l.name, l.virtualNetwork?.id])).toEqual([
      [
        'vnet-apps-link',
        `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-apps`,
      ],
    ]);
  });

  it('creates a zone and a link (the SDK pollers finish), lists zones, refuses to delete a zone that has links', async () => {
    const zone = await client.privateZones.beginCreateOrUpdateAndWait(
      'rg-dns-it',
      'Corp.Internal',
      { location: 'Global', tags: { team: 'it' } },
      POLL,
    );
    expect(zone).toMatchObject({ name: 'corp.internal', location: 'global', tags: { team: 'it' } });
    expect(zone.etag).toMatch(/^[0-9a-f-]{36}$/);
    const link = await client.virtualNetworkLinks.beginCreateOrUpdateAndWait(
      'rg-dns-it',
      'corp.internal',
      'link-1',
      { location: 'global', virtualNetwork: { id: VNET }, registrationEnabled: false },
      POLL,
    );
    expect(link).toMatchObject({ virtualNetworkLinkState: 'Completed', provisioningState: 'Succeeded' });
    const names: string[] = [];
    for await (const z of client.privateZones.listByResourceGroup('rg-dns-it')) names.push(z.name!);
    expect(names).toEqual(['corp.internal']);

    const refused = await failure(client.privateZones.beginDeleteAndWait('rg-dns-it', 'corp.internal', POLL));
    expect(refused).toMatchObject({ statusCode: 409, code: 'CannotDeleteResource' });
    await client.virtualNetworkLinks.beginDeleteAndWait('rg-dns-it', 'corp.internal', 'link-1', POLL);
    await client.privateZones.beginDeleteAndWait('rg-dns-it', 'corp.internal', POLL);
    const gone = await failure(client.privateZones.get('rg-dns-it', 'corp.internal'));
    expect(gone).toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
  });

  it('refuses a single-label zone, a location other than global and an unknown api-version', async () => {
    const single = await failure(
      client.privateZones.beginCreateOrUpdateAndWait('rg-dns-it', 'internal', { location: 'global' }, POLL),
    );
    expect(single).toMatchObject({ statusCode: 400, code: 'BadRequest' });
    const regional = await failure(
      client.privateZones.beginCreateOrUpdateAndWait(
        'rg-dns-it',
        'x.internal',
        { location: 'westeurope' },
        POLL,
      ),
    );
    expect(regional).toMatchObject({ statusCode: 400 });
    const old = new PrivateDnsManagementClient(new DefaultAzureCredential(), SUB, {
      endpoint: emulator.url,
      credentialScopes: ['https://management.azure.com/.default'],
      apiVersion: '2017-01-01',
    });
    expect(await failure(old.privateZones.get('rg-network', 'apps.internal'))).toMatchObject({
      statusCode: 400,
      code: 'NoRegisteredProviderFound',
    });
  });
});

describe('emulator: A record sets with ETags', () => {
  it('creates (201), reads and replaces a record set; names come back in lower case with an fqdn', async () => {
    const created = await client.recordSets.createOrUpdate('rg-network', 'apps.internal', 'A', 'Etag-Test', {
      ...aRecord('10.1.0.4'),
      metadata: { app: 'web' },
    });
    expect(created).toMatchObject({
      name: 'etag-test',
      type: 'Microsoft.Network/privateDnsZones/A',
      ttl: 10,
      fqdn: 'etag-test.apps.internal.',
      isAutoRegistered: false,
      aRecords: [{ ipv4Address: '10.1.0.4' }],
      metadata: { app: 'web' },
    });
    const read = await client.recordSets.get('rg-network', 'apps.internal', 'A', 'etag-test');
    expect(read.etag).toBe(created.etag);
    const replaced = await client.recordSets.createOrUpdate(
      'rg-network',
      'apps.internal',
      'A',
      'etag-test',
      aRecord('10.1.0.5'),
      { ifMatch: read.etag! },
    );
    expect(replaced.etag).not.toBe(read.etag);
    expect(replaced.aRecords).toEqual([{ ipv4Address: '10.1.0.5' }]);
  });

  it('answers 412 PreconditionFailed to a stale If-Match, If-None-Match: * on an existing set, If-Match on a missing one', async () => {
    const first = await client.recordSets.createOrUpdate(
      'rg-network',
      'apps.internal',
      'A',
      'race',
      aRecord('10.1.0.6'),
    );
    await client.recordSets.createOrUpdate('rg-network', 'apps.internal', 'A', 'race', aRecord('10.1.0.7'));
    const stale = await failure(
      client.recordSets.createOrUpdate('rg-network', 'apps.internal', 'A', 'race', aRecord('10.1.0.8'), {
        ifMatch: first.etag!,
      }),
    );
    expect(stale).toMatchObject({ statusCode: 412, code: 'PreconditionFailed' });
    const exists = await failure(
      client.recordSets.createOrUpdate('rg-network', 'apps.internal', 'A', 'race', aRecord('10.1.0.8'), {
        ifNoneMatch: '*',
      }),
    );
    expect(exists).toMatchObject({ statusCode: 412, code: 'PreconditionFailed' });
    const missing = await failure(
      client.recordSets.createOrUpdate('rg-network', 'apps.internal', 'A', 'nobody', aRecord('10.1.0.8'), {
        ifMatch: '*',
      }),
    );
    expect(missing).toMatchObject({ statusCode: 412 });
    expect((await client.recordSets.get('rg-network', 'apps.internal', 'A', 'race')).aRecords).toEqual([
      { ipv4Address: '10.1.0.7' },
    ]);
    const fresh = await client.recordSets.createOrUpdate(
      'rg-network',
      'apps.internal',
      'A',
      'brand-new',
      aRecord('10.1.0.9'),
      { ifNoneMatch: '*' },
    );
    expect(fresh.aRecords).toEqual([{ ipv4Address: '10.1.0.9' }]);
  });

  it('updates (PATCH) and deletes under If-Match; a missing set is 404 NotFound, deleting it again 204', async () => {
    const set = await client.recordSets.createOrUpdate(
      'rg-network',
      'apps.internal',
      'A',
      'patched',
      aRecord('10.1.1.1', 60),
    );
    const patched = await client.recordSets.update(
      'rg-network',
      'apps.internal',
      'A',
      'patched',
      { ttl: 30 },
      { ifMatch: set.etag! },
    );
    expect(patched).toMatchObject({ ttl: 30, aRecords: [{ ipv4Address: '10.1.1.1' }] });
    const refused = await failure(
      client.recordSets.delete('rg-network', 'apps.internal', 'A', 'patched', { ifMatch: set.etag! }),
    );
    expect(refused).toMatchObject({ statusCode: 412 });
    await client.recordSets.delete('rg-network', 'apps.internal', 'A', 'patched', { ifMatch: patched.etag! });
    const gone = await failure(client.recordSets.get('rg-network', 'apps.internal', 'A', 'patched'));
    expect(gone).toMatchObject({ statusCode: 404, code: 'NotFound' });
    await client.recordSets.delete('rg-network', 'apps.internal', 'A', 'patched');
  });

  it('refuses bad record sets: an address that is not IPv4, more than 20 records; other types are not emulated (501)', async () => {
    const bad = await failure(
      client.recordSets.createOrUpdate('rg-network', 'apps.internal', 'A', 'bad', aRecord('10.1.300.1')),
    );
    expect(bad).toMatchObject({ statusCode: 400, code: 'BadRequest' });
    const many = Array.from({ length: 21 }, (_, i) => ({ ipv4Address: `10.2.0.${i + 1}` }));
    expect(
      await failure(
        client.recordSets.createOrUpdate('rg-network', 'apps.internal', 'A', 'many', {
          ttl: 5,
          aRecords: many,
        }),
      ),
    ).toMatchObject({ statusCode: 400 });
    const cname = await failure(
      client.recordSets.createOrUpdate('rg-network', 'apps.internal', 'CNAME', 'alias', {
        ttl: 5,
        cnameRecord: { cname: 'web.apps.internal' },
      }),
    );
    expect(cname).toMatchObject({ statusCode: 501, code: 'NotImplemented' });
  });

  it('pages A record sets: the default page, $top carried on in nextLink, $top outside 1-1000 refused', async () => {
    await client.privateZones.beginCreateOrUpdateAndWait(
      'rg-dns-it',
      'paged.internal',
      { location: 'global' },
      POLL,
    );
    for (let i = 0; i < 23; i++)
      await client.recordSets.createOrUpdate(
        'rg-dns-it',
        'paged.internal',
        'A',
        `r${String(i).padStart(2, '0')}`,
        aRecord(`10.3.0.${i + 1}`),
      );
    const since = (await emulator.requestCounts()).lastSeq;
    const pages: number[] = [];
    for await (const p of client.recordSets.listByType('rg-dns-it', 'paged.internal', 'A').byPage())
      pages.push(p.length);
    expect(pages).toEqual([PAGE, PAGE, 3]);
    expect((await emulator.requestCounts(since)).counts['RecordSets_ListByType']).toBe(3);

    const topped: string[][] = [];
    for await (const p of client.recordSets
      .listByType('rg-dns-it', 'paged.internal', 'A', { top: 7 })
      .byPage())
      topped.push(p.map((r) => r.name!));
    expect(topped.map((p) => p.length)).toEqual([7, 7, 7, 2]);
    expect(topped.flat()).toEqual(Array.from({ length: 23 }, (_, i) => `r${String(i).padStart(2, '0')}`));

    for (const top of [0, 1001]) {
      const refused = await failure(
        client.recordSets.listByType('rg-dns-it', 'paged.internal', 'A', { top }).byPage().next(),
      );
      expect(refused).toMatchObject({ statusCode: 400, code: 'BadRequest' });
      expect(refused.message).toContain(`Invalid $top value: '${top}'`);
    }
  });
});

/** One query over TCP (2-byte length prefix, RFC 1035 §4.2.2), written and read with dns-packet. */
function tcpQuery(address: string, name: string, type: 'A' | 'AAAA'): Promise<dnsPacket.DecodedPacket> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host!, () =>
      socket.write(
        dnsPacket.streamEncode({ type: 'query', id: 4242, questions: [{ type, name, class: 'IN' }] }),
      ),
    );
    let got = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        socket.end();
        resolve(dnsPacket.decode(got.subarray(2, 2 + got.readUInt16BE(0))));
      }
    });
    socket.on('error', reject);
  });
}

describe('emulator: the DNS server answers from the same records', () => {
  it('answers A queries over UDP with the record TTL, and follows a change at once', async () => {
    await client.recordSets.createOrUpdate(
      'rg-network',
      'apps.internal',
      'A',
      'svc',
      aRecord('127.10.0.4', 7),
    );
    expect(await resolver.resolve4('svc.apps.internal', { ttl: true })).toEqual([
      { address: '127.10.0.4', ttl: 7 },
    ]);
    await client.recordSets.createOrUpdate(
      'rg-network',
      'apps.internal',
      'A',
      'svc',
      aRecord('127.10.0.5', 7),
    );
    expect(await resolver.resolve4('SVC.Apps.Internal')).toEqual(['127.10.0.5']);
  });

  it('NXDOMAIN for an unknown name in a known zone, no data for another type, REFUSED outside the linked zones', async () => {
    expect(await failure(resolver.resolve4('nobody.apps.internal'))).toMatchObject({ code: 'ENOTFOUND' });
    expect(await failure(resolver.resolve6('svc.apps.internal'))).toMatchObject({ code: 'ENODATA' });
    expect(await failure(resolver.resolve4('example.com'))).toMatchObject({ code: 'EREFUSED' });
    // A zone without a virtual network link resolves nowhere.
    await client.privateZones.beginCreateOrUpdateAndWait(
      'rg-dns-it',
      'unlinked.internal',
      { location: 'global' },
      POLL,
    );
    await client.recordSets.createOrUpdate('rg-dns-it', 'unlinked.internal', 'A', 'x', aRecord('127.10.0.9'));
    expect(await failure(resolver.resolve4('x.unlinked.internal'))).toMatchObject({ code: 'EREFUSED' });
  });

  it('answers over TCP too, authoritatively, with the SOA in negative answers', async () => {
    const address = String(emulator.stack['dnsServer']);
    const hit = await tcpQuery(address, 'svc.apps.internal', 'A');
    expect(hit).toMatchObject({ id: 4242, type: 'response', rcode: 'NOERROR', flag_aa: true });
    expect(hit.answers).toEqual([expect.objectContaining({ type: 'A', data: '127.10.0.5', ttl: 7 })]);
    const miss = await tcpQuery(address, 'nobody.apps.internal', 'A');
    expect(miss).toMatchObject({ rcode: 'NXDOMAIN' });
    expect(miss.authorities).toEqual([
      expect.objectContaining({
        type: 'SOA',
        name: 'apps.internal',
        data: expect.objectContaining({ mname: 'azureprivatedns.net' }),
      }),
    ]);
    const control = await emulator.control<{ queries: number; value: Array<{ name: string }> }>(
      'GET',
      '/_emulator/privateDnsZones',
    );
    expect(control.body.queries).toBeGreaterThanOrEqual(2);
    expect(control.body.value.map((z) => z.name)).toContain('apps.internal');
  });
});
