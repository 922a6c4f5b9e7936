/**
 * Private DNS A records through `@azure/arm-privatedns` (api-version 2020-06-01): one client per subscription,
 * `RecordSets_ListByType` for a zone's A records (paged by nextLink, the service's default page of 100), `Get` and
 * `CreateOrUpdate` with `If-Match` / `If-None-Match: *`. Azure DNS answers a write whose precondition fails with
 * 412 (Microsoft Learn, dns/dns-zones-records, "Etags"); that becomes a TransientError with code
 * PreconditionFailed: the caller reads again and decides again. Other errors go through the shared
 * classification (azureErrors.ts).
 */
import type { PrivateDnsManagementClient, RecordSet } from '@azure/arm-privatedns';
import type { PrivateDnsZoneRef } from '../config/dnsConfig.js';
import { TransientError } from '../domain/errors.js';
import {
  PRECONDITION_FAILED,
  type ARecordSet,
  type ARecordWrite,
  type DnsRecords,
  type RecordPrecondition,
} from '../domain/ports.js';
import { fromAzureError, statusOf } from './azureErrors.js';

export interface PrivateDnsOptions {
  /** Per call (for a listing: all its pages). */
  requestTimeoutMs?: number;
}

/** ARM's record set → the domain's view. */
export function toARecordSet(r: RecordSet): ARecordSet {
  const view: ARecordSet = {
    name: (r.name ?? '').toLowerCase(),
    ips: (r.aRecords ?? []).flatMap((a) => (a.ipv4Address ? [a.ipv4Address] : [])),
    metadata: { ...(r.metadata ?? {}) },
  };
  if (r.ttl !== undefined) view.ttlSeconds = r.ttl;
  if (r.etag) view.etag = r.etag;
  return view;
}

export class PrivateDnsAdapter implements DnsRecords {
  private readonly clients = new Map<string, PrivateDnsManagementClient>();

  constructor(
    private readonly clientFor: (subscriptionId: string) => PrivateDnsManagementClient,
    private readonly options: PrivateDnsOptions = {},
  ) {}

  private client(zone: PrivateDnsZoneRef): PrivateDnsManagementClient {
    let c = this.clients.get(zone.subscriptionId);
    if (!c) {
      c = this.clientFor(zone.subscriptionId);
      this.clients.set(zone.subscriptionId, c);
    }
    return c;
  }

  private signal(): AbortSignal {
    return AbortSignal.timeout(this.options.requestTimeoutMs ?? 30_000);
  }

  /**
   * Every page, in one call. A failed page fails the listing (the caller retries it from the start): with a page
   * of 100 records a zone rarely has more than a few pages. (The port's observer is for adapters that resume pages
   * themselves; this one does not, so it has nothing to report.)
   */
  async listARecordSets(zone: PrivateDnsZoneRef): Promise<Map<string, ARecordSet>> {
    const out = new Map<string, ARecordSet>();
    try {
      const pager = this.client(zone).recordSets.listByType(zone.resourceGroup, zone.name, 'A', {
        abortSignal: this.signal(),
      });
      for await (const page of pager.byPage())
        for (const r of page) {
          const view = toARecordSet(r);
          out.set(view.name, view);
        }
      return out;
    } catch (e) {
      throw fromAzureError(`Private DNS list A ${zone.name}`, e);
    }
  }

  async getARecordSet(zone: PrivateDnsZoneRef, name: string): Promise<ARecordSet | undefined> {
    try {
      const r = await this.client(zone).recordSets.get(zone.resourceGroup, zone.name, 'A', name, {
        abortSignal: this.signal(),
      });
      return toARecordSet(r);
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw fromAzureError(`Private DNS get A ${name}.${zone.name}`, e);
    }
  }

  async putARecordSet(
    zone: PrivateDnsZoneRef,
    name: string,
    record: ARecordWrite,
    precondition: RecordPrecondition,
  ): Promise<ARecordSet> {
    const what = `Private DNS set A ${name}.${zone.name}`;
    try {
      const r = await this.client(zone).recordSets.createOrUpdate(
        zone.resourceGroup,
        zone.name,
        'A',
        name,
        { ttl: record.ttlSeconds, aRecords: [{ ipv4Address: record.ip }], metadata: { ...record.metadata } },
        { abortSignal: this.signal(), ...precondition },
      );
      return toARecordSet(r);
    } catch (e) {
      if (statusOf(e) === 412)
        throw new TransientError(`${what}: 412: the record set changed since it was read`, {
          statusCode: 412,
          code: PRECONDITION_FAILED,
        });
      throw fromAzureError(what, e);
    }
  }
}
