/**
 * Record sets of a Private DNS zone (REST spec specification/privatedns/resource-manager/Microsoft.Network/stable/
 * 2020-06-01/privatedns.json, RecordSets_*): A record sets are modelled in full (create or update, update, delete,
 * get, list by type with `$top` paging), with ETag preconditions on every write (preconditions.ts). Other record
 * types, and the all-types listing, answer 501: the app writes A records only.
 */
import { armRoutes, type EmuRequest, type EmuResponse, type Route } from '../core/router.js';
import { PRIVATE_DNS_API_VERSIONS } from './apiVersions.js';
import { checkPreconditions } from './preconditions.js';
import { privateDnsErrors } from './privateDnsErrors.js';
import { aRecordSetInput, DEFAULT_RECORD_TTL, recordName } from './privateDnsInput.js';
import { page } from './privateDnsPaging.js';
import { newEtag, type ARecordSetRecord, type ZoneRecord } from './privateDnsStore.js';
import { aRecordSetView } from './privateDnsViews.js';
import { ZONE, zoneOf, type PrivateDnsParts } from './zoneLookup.js';

/** The record types of the spec's RecordType enum. */
const RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'PTR', 'SOA', 'SRV', 'TXT'];

export class RecordSetRoutes {
  constructor(private readonly p: PrivateDnsParts) {}

  private get sub(): string {
    return this.p.ctx.options.subscriptionId;
  }

  routes(): Route[] {
    const arm = armRoutes(PRIVATE_DNS_API_VERSIONS);
    const byType = `${ZONE}/:recordType`;
    const one = `${byType}/:relativeRecordSetName`;
    return [
      arm('GET', `${ZONE}/ALL`, 'RecordSets_List', () => {
        throw privateDnsErrors.recordTypeNotImplemented('ALL');
      }),
      arm('GET', byType, 'RecordSets_ListByType', (req) => this.list(req)),
      arm('GET', one, 'RecordSets_Get', (req) => this.get(req)),
      arm('PUT', one, 'RecordSets_CreateOrUpdate', (req) => this.put(req)),
      arm('PATCH', one, 'RecordSets_Update', (req) => this.patch(req)),
      arm('DELETE', one, 'RecordSets_Delete', (req) => this.remove(req)),
    ];
  }

  /** The zone, after checking the record type: A, or 501 for another type, or 400 for an unknown one. */
  private aZone(req: EmuRequest): ZoneRecord {
    const zone = zoneOf(this.p, req);
    const type = (req.params['recordType'] ?? '').toUpperCase();
    if (!RECORD_TYPES.includes(type))
      throw privateDnsErrors.badRequest(`The record type '${req.params['recordType']}' is not valid.`);
    if (type !== 'A') throw privateDnsErrors.recordTypeNotImplemented(type);
    return zone;
  }

  private named(req: EmuRequest, zone: ZoneRecord): { name: string; set: ARecordSetRecord | undefined } {
    const name = recordName(req.params['relativeRecordSetName'] ?? '', zone.name);
    return { name, set: zone.aRecordSets[name] };
  }

  private list(req: EmuRequest): EmuResponse {
    const zone = this.aZone(req);
    const sets = Object.values(zone.aRecordSets).sort((a, b) => a.name.localeCompare(b.name));
    const suffix = req.query.get('$recordsetnamesuffix');
    const shown = suffix ? sets.filter((s) => s.name.endsWith(`.${suffix.toLowerCase()}`)) : sets;
    return page(
      req,
      this.p.ctx.url,
      shown,
      (s) => aRecordSetView(this.sub, zone, s),
      this.p.ctx.options.pageSize.privateDns,
    );
  }

  private get(req: EmuRequest): EmuResponse {
    const zone = this.aZone(req);
    const { name, set } = this.named(req, zone);
    if (!set) throw privateDnsErrors.recordSetNotFound(name, zone.name, zone.resourceGroup, this.sub);
    return { status: 200, body: aRecordSetView(this.sub, zone, set) };
  }

  private put(req: EmuRequest): EmuResponse {
    const zone = this.aZone(req);
    const { name, set } = this.named(req, zone);
    const input = aRecordSetInput(req.body);
    checkPreconditions(req, set);
    const next: ARecordSetRecord = {
      name,
      etag: newEtag(),
      ttl: input.ttl ?? DEFAULT_RECORD_TTL,
      ips: input.ips ?? [],
      metadata: input.metadata ?? {},
    };
    zone.aRecordSets[name] = next;
    this.p.store.changed();
    return { status: set ? 200 : 201, body: aRecordSetView(this.sub, zone, next) };
  }

  private patch(req: EmuRequest): EmuResponse {
    const zone = this.aZone(req);
    const { name, set } = this.named(req, zone);
    if (!set) throw privateDnsErrors.recordSetNotFound(name, zone.name, zone.resourceGroup, this.sub);
    const input = aRecordSetInput(req.body);
    checkPreconditions(req, set);
    if (input.ttl !== undefined) set.ttl = input.ttl;
    if (input.ips !== undefined) set.ips = input.ips;
    if (input.metadata !== undefined) set.metadata = input.metadata;
    set.etag = newEtag();
    this.p.store.changed();
    return { status: 200, body: aRecordSetView(this.sub, zone, set) };
  }

  private remove(req: EmuRequest): EmuResponse {
    const zone = this.aZone(req);
    const { name, set } = this.named(req, zone);
    checkPreconditions(req, set);
    if (!set) return { status: 204 };
    delete zone.aRecordSets[name];
    this.p.store.changed();
    return { status: 200 };
  }
}
