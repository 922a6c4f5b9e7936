/**
 * The DnsRecords port's contract (src/domain/ports.ts), run against the fake the domain tests use
 * (test/unit/support/fakeDns.ts) and the real adapter on the emulator (src/adapters/privateDns.ts), so the fake
 * cannot promise the domain what Azure's Private DNS does not: ETag preconditions, 412 as PreconditionFailed,
 * lower-case names, a missing record read as undefined.
 */
import { PrivateDnsManagementClient } from '@azure/arm-privatedns';
import { DefaultAzureCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateDnsAdapter } from '../../../src/adapters/privateDns.js';
import { parsePrivateDnsZoneId } from '../../../src/config/dnsConfig.js';
import { TransientError } from '../../../src/domain/errors.js';
import { PRECONDITION_FAILED, type DnsRecords } from '../../../src/domain/ports.js';
import { FakeDnsRecords, ZONE_ID } from '../../unit/support/fakeDns.js';
import { startTestEmulator, useManagedIdentity, type TestEmulator } from '../support/emulator.js';

const ZONE = parsePrivateDnsZoneId(ZONE_ID)!;

let emulator: TestEmulator;
let restore: () => void;

beforeAll(async () => {
  emulator = await startTestEmulator();
  restore = useManagedIdentity(emulator);
});
afterAll(async () => {
  restore?.();
  await emulator?.close();
});

const implementations: Array<[string, string, () => DnsRecords]> = [
  ['fake', 'f', () => new FakeDnsRecords()],
  [
    'adapter on the emulator',
    'a',
    () => {
      const credential = new DefaultAzureCredential();
      return new PrivateDnsAdapter(
        (subscriptionId) =>
          new PrivateDnsManagementClient(credential, subscriptionId, {
            endpoint: emulator.url,
            credentialScopes: ['https://management.azure.com/.default'],
          }),
      );
    },
  ],
];

async function preconditionFailure(p: Promise<unknown>): Promise<unknown> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TransientError);
  expect(e).toMatchObject({ code: PRECONDITION_FAILED });
  return e;
}

describe.each(implementations)('DnsRecords contract: %s', (_, prefix, make) => {
  const name = (n: string) => `${prefix}-${n}`;
  const write = (ip: string) => ({ ip, ttlSeconds: 10, metadata: { app: 'web' } });

  it('a missing record is undefined; If-None-Match creates it once, then refuses', async () => {
    const dns = make();
    expect(await dns.getARecordSet(ZONE, name('new'))).toBeUndefined();
    const created = await dns.putARecordSet(ZONE, name('new'), write('10.0.0.1'), { ifNoneMatch: '*' });
    expect(created).toMatchObject({
      name: name('new'),
      ips: ['10.0.0.1'],
      ttlSeconds: 10,
      metadata: { app: 'web' },
    });
    expect(created.etag).toBeTruthy();
    await preconditionFailure(dns.putARecordSet(ZONE, name('new'), write('10.0.0.2'), { ifNoneMatch: '*' }));
    expect((await dns.getARecordSet(ZONE, name('new')))!.ips).toEqual(['10.0.0.1']);
  });

  it('If-Match replaces exactly what was read: the current ETag wins, a stale one or a missing record is refused', async () => {
    const dns = make();
    const first = await dns.putARecordSet(ZONE, name('cas'), write('10.0.1.1'), { ifNoneMatch: '*' });
    const second = await dns.putARecordSet(ZONE, name('cas'), write('10.0.1.2'), { ifMatch: first.etag! });
    expect(second.etag).not.toBe(first.etag);
    await preconditionFailure(
      dns.putARecordSet(ZONE, name('cas'), write('10.0.1.3'), { ifMatch: first.etag! }),
    );
    await preconditionFailure(dns.putARecordSet(ZONE, name('absent'), write('10.0.1.4'), { ifMatch: '*' }));
    expect((await dns.getARecordSet(ZONE, name('cas')))!).toEqual(second);
  });

  it('lists the zone keyed by lower-case names; names are kept in lower case', async () => {
    const dns = make();
    await dns.putARecordSet(ZONE, name('Mixed'), write('10.0.2.1'), { ifNoneMatch: '*' });
    const listed = await dns.listARecordSets(ZONE);
    expect(listed.get(name('mixed'))).toMatchObject({
      name: name('mixed'),
      ips: ['10.0.2.1'],
      ttlSeconds: 10,
    });
    expect(await dns.getARecordSet(ZONE, name('MIXED'))).toMatchObject({ name: name('mixed') });
  });
});
