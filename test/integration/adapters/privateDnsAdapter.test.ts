/**
 * The Private DNS adapter (src/adapters/privateDns.ts) against the emulator, through @azure/arm-privatedns: a zone's
 * A records in one paged listing, a missing record read as undefined, writes under If-Match / If-None-Match: *, and
 * a lost precondition (412) turned into the TransientError the domain reads again on.
 */
import { PrivateDnsManagementClient } from '@azure/arm-privatedns';
import { DefaultAzureCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateDnsAdapter } from '../../../src/adapters/privateDns.js';
import { parsePrivateDnsZoneId } from '../../../src/config/dnsConfig.js';
import { TransientError } from '../../../src/domain/errors.js';
import { PRECONDITION_FAILED } from '../../../src/domain/ports.js';
import { startTestEmulator, useManagedIdentity, type TestEmulator } from '../support/emulator.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const ZONE = parsePrivateDnsZoneId(
  `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/privateDnsZones/apps.internal`,
)!;
const PAGE = 4;

let emulator: TestEmulator;
let restore: () => void;
let adapter: PrivateDnsAdapter;

beforeAll(async () => {
  emulator = await startTestEmulator({ pageSize: { privateDns: PAGE } });
  restore = useManagedIdentity(emulator);
  const credential = new DefaultAzureCredential();
  adapter = new PrivateDnsAdapter(
    (subscriptionId) =>
      new PrivateDnsManagementClient(credential, subscriptionId, {
        endpoint: emulator.url,
        credentialScopes: ['https://management.azure.com/.default'],
      }),
  );
});

afterAll(async () => {
  restore?.();
  await emulator?.close();
});

describe('PrivateDnsAdapter', () => {
  it('creates with If-None-Match, replaces with If-Match, reads a missing record as undefined', async () => {
    expect(await adapter.getARecordSet(ZONE, 'web')).toBeUndefined();
    const created = await adapter.putARecordSet(
      ZONE,
      'web',
      { ip: '10.0.1.4', ttlSeconds: 10, metadata: { app: 'web' } },
      { ifNoneMatch: '*' },
    );
    expect(created).toMatchObject({
      name: 'web',
      ips: ['10.0.1.4'],
      ttlSeconds: 10,
      metadata: { app: 'web' },
    });
    const replaced = await adapter.putARecordSet(
      ZONE,
      'web',
      { ip: '10.0.1.5', ttlSeconds: 10, metadata: { app: 'web' } },
      { ifMatch: created.etag! },
    );
    expect(replaced.etag).not.toBe(created.etag);
    expect(await adapter.getARecordSet(ZONE, 'web')).toEqual(replaced);
  });

  it('a lost precondition is a TransientError PreconditionFailed, and nothing is written', async () => {
    const first = await adapter.putARecordSet(
      ZONE,
      'api',
      { ip: '10.0.1.6', ttlSeconds: 10, metadata: {} },
      { ifNoneMatch: '*' },
    );
    await adapter.putARecordSet(
      ZONE,
      'api',
      { ip: '10.0.1.7', ttlSeconds: 10, metadata: {} },
      { ifMatch: first.etag! },
    );
    const stale = await adapter
      .putARecordSet(ZONE, 'api', { ip: '10.0.1.8', ttlSeconds: 10, metadata: {} }, { ifMatch: first.etag! })
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(TransientError);
    expect(stale).toMatchObject({ code: PRECONDITION_FAILED, statusCode: 412 });
    const again = await adapter
      .putARecordSet(ZONE, 'api', { ip: '10.0.1.8', ttlSeconds: 10, metadata: {} }, { ifNoneMatch: '*' })
      .catch((e: unknown) => e);
    expect(again).toMatchObject({ code: PRECONDITION_FAILED });
    expect((await adapter.getARecordSet(ZONE, 'api'))!.ips).toEqual(['10.0.1.7']);
  });

  it('lists every A record of the zone across pages: ceil(records / page) list calls', async () => {
    for (let i = 0; i < 9; i++)
      await adapter.putARecordSet(
        ZONE,
        `n${i}`,
        { ip: `10.0.2.${i + 1}`, ttlSeconds: 10, metadata: {} },
        { ifNoneMatch: '*' },
      );
    const since = (await emulator.requestCounts()).lastSeq;
    const records = await adapter.listARecordSets(ZONE);
    // web, api and n0..n8
    expect(records.size).toBe(11);
    expect(records.get('n3')).toMatchObject({ ips: ['10.0.2.4'], ttlSeconds: 10 });
    expect((await emulator.requestCounts(since)).counts['RecordSets_ListByType']).toBe(Math.ceil(11 / PAGE));
  });

  it('a zone that does not exist is an error naming it', async () => {
    const missing = parsePrivateDnsZoneId(ZONE.id.replace('apps.internal', 'nope.internal'))!;
    await expect(adapter.listARecordSets(missing)).rejects.toThrow(
      /Private DNS list A nope\.internal: 404 ResourceNotFound/,
    );
  });
});
