/**
 * An in-memory Private DNS for the domain tests: zones of A record sets with ETags that change on every write, and
 * the two preconditions the domain uses (If-Match: ETag, If-None-Match: *), answered as the adapter does
 * (TransientError PreconditionFailed). Calls are counted and logged in order, so a test can assert that the switch
 * writes the record before the secret, and that a steady tick lists once per zone and writes nothing.
 */
import crypto from 'node:crypto';
import { zoneKey, type PrivateDnsZoneRef } from '../../../src/config/dnsConfig.js';
import { TransientError } from '../../../src/domain/errors.js';
import {
  PRECONDITION_FAILED,
  type ARecordSet,
  type ARecordWrite,
  type DnsRecords,
  type RecordPrecondition,
} from '../../../src/domain/ports.js';

export const ZONE_ID =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-network/providers/Microsoft.Network/privateDnsZones/apps.internal';

const tick = () => new Promise((r) => setImmediate(r));

export class FakeDnsRecords implements DnsRecords {
  zones = new Map<string, Map<string, ARecordSet>>();
  calls = { list: 0, get: 0, put: 0 };
  /** Every write, in order: `put web.apps.internal 10.0.0.5`. Shared with other fakes' logs by the test if wanted. */
  log: string[];
  /** Return an error to throw for a call, or undefined. */
  fault: ((op: 'list' | 'get' | 'put', zone: string, name?: string) => Error | undefined) | undefined;
  /** Runs just before a put is applied (to simulate a concurrent writer). */
  beforePut: ((zone: PrivateDnsZoneRef, name: string) => void) | undefined;

  constructor(log: string[] = []) {
    this.log = log;
  }

  private zone(zone: PrivateDnsZoneRef): Map<string, ARecordSet> {
    let z = this.zones.get(zoneKey(zone));
    if (!z) this.zones.set(zoneKey(zone), (z = new Map()));
    return z;
  }

  /** Put a record directly (a person, or another tool), with a fresh ETag. */
  seed(zone: PrivateDnsZoneRef, name: string, ips: string[], ttlSeconds = 10, metadata = {}): ARecordSet {
    const r: ARecordSet = { name, ips, ttlSeconds, metadata, etag: crypto.randomUUID() };
    this.zone(zone).set(name, r);
    return r;
  }

  record(zone: PrivateDnsZoneRef, name: string): ARecordSet | undefined {
    return this.zones.get(zoneKey(zone))?.get(name);
  }

  async listARecordSets(zone: PrivateDnsZoneRef): Promise<Map<string, ARecordSet>> {
    await tick();
    this.calls.list++;
    const f = this.fault?.('list', zone.name);
    if (f) throw f;
    return new Map([...this.zone(zone)].map(([k, v]) => [k, structuredClone(v)]));
  }

  async getARecordSet(zone: PrivateDnsZoneRef, name: string): Promise<ARecordSet | undefined> {
    await tick();
    this.calls.get++;
    const f = this.fault?.('get', zone.name, name);
    if (f) throw f;
    const r = this.zone(zone).get(name.toLowerCase());
    return r ? structuredClone(r) : undefined;
  }

  async putARecordSet(
    zone: PrivateDnsZoneRef,
    name: string,
    record: ARecordWrite,
    precondition: RecordPrecondition,
  ): Promise<ARecordSet> {
    await tick();
    this.calls.put++;
    const f = this.fault?.('put', zone.name, name);
    if (f) throw f;
    this.beforePut?.(zone, name);
    // Names are case-insensitive and kept in lower case, as Azure does.
    name = name.toLowerCase();
    const current = this.zone(zone).get(name);
    const refused =
      'ifNoneMatch' in precondition
        ? current !== undefined
        : current === undefined || (precondition.ifMatch !== '*' && precondition.ifMatch !== current.etag);
    if (refused)
      throw new TransientError(`put ${name}.${zone.name}: 412`, {
        statusCode: 412,
        code: PRECONDITION_FAILED,
      });
    const next: ARecordSet = {
      name,
      ips: [record.ip],
      ttlSeconds: record.ttlSeconds,
      metadata: { ...record.metadata },
      etag: crypto.randomUUID(),
    };
    this.zone(zone).set(name, next);
    this.log.push(`put ${name}.${zone.name} ${record.ip}`);
    return structuredClone(next);
  }
}
