/**
 * What the emulator's DNS server answers, from the Private DNS state: the resolver a VM in a linked VNet asks
 * (Azure's 168.63.129.16, Microsoft Learn, dns/private-dns-overview), seen from the one machine the emulator runs on.
 *
 * - A query for a name in a zone that has at least one virtual network link is answered authoritatively: the A record
 *   set's addresses with its TTL; NXDOMAIN for a name with no record set in the zone; NOERROR with no answers
 *   (NODATA) for another type at an existing name, or for a name that only has names below it (RFC 8020). Negative
 *   answers carry the zone's SOA in the authority section (RFC 2308), with Azure's default SOA values (the REST
 *   spec's RecordSetSOAGet.json: host azureprivatedns.net, minimum TTL 300 s).
 * - A name in no linked zone gets REFUSED: the emulator is not a recursive resolver (Azure's would recurse to public
 *   DNS; nothing here needs that, and answering NXDOMAIN would claim authority the emulator does not have).
 * - Other opcodes get NOTIMP; a query without exactly one question FORMERR.
 */
import type { DecodedPacket, Packet, SoaAnswer } from 'dns-packet';
import * as dnsPacket from 'dns-packet';
import { relativeName, type PrivateDnsStore, type ZoneRecord } from './privateDnsStore.js';

const RCODE = { NOERROR: 0, FORMERR: 1, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** The SOA of every emulated zone: Azure's defaults for a new private zone. */
const SOA = { host: 'azureprivatedns.net', email: 'azureprivatedns-hostmaster.microsoft.com', ttl: 3600 };
const SOA_TIMERS = { serial: 1, refresh: 3600, retry: 300, expire: 2_419_200, minimum: 300 };

function soa(zone: ZoneRecord): SoaAnswer {
  return {
    name: zone.name,
    type: 'SOA',
    class: 'IN',
    // RFC 2308 §3: a negative answer is cached for min(SOA TTL, SOA minimum).
    ttl: Math.min(SOA.ttl, SOA_TIMERS.minimum),
    data: { mname: SOA.host, rname: SOA.email, ...SOA_TIMERS },
  };
}

function reply(
  query: DecodedPacket,
  rcode: number,
  extra: Partial<Packet> = {},
  authoritative = false,
): Packet {
  const flags =
    (authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) |
    (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) |
    rcode;
  return { type: 'response', id: query.id ?? 0, flags, questions: query.questions ?? [], ...extra };
}

/** Does any record set live at `name` or below it? */
function nameExists(zone: ZoneRecord, name: string): boolean {
  if (name === '@') return true;
  return Object.keys(zone.aRecordSets).some((n) => n === name || n.endsWith(`.${name}`));
}

export function answer(query: DecodedPacket, store: PrivateDnsStore): Packet {
  const opcode = (query as DecodedPacket & { opcode?: string }).opcode;
  if (opcode !== undefined && opcode !== 'QUERY') return reply(query, RCODE.NOTIMP);
  const questions = query.questions ?? [];
  if (questions.length !== 1) return reply(query, RCODE.FORMERR);
  const q = questions[0]!;
  const zone = q.class === 'IN' || q.class === undefined ? store.resolvingZone(q.name) : undefined;
  if (!zone) return reply(query, RCODE.REFUSED);
  const name = relativeName(q.name, zone);
  const set = zone.aRecordSets[name];
  if (q.type === 'A' && set && set.ips.length > 0)
    return reply(
      query,
      RCODE.NOERROR,
      { answers: set.ips.map((ip) => ({ name: q.name, type: 'A', class: 'IN', ttl: set.ttl, data: ip })) },
      true,
    );
  if (q.type === 'SOA' && name === '@') return reply(query, RCODE.NOERROR, { answers: [soa(zone)] }, true);
  const rcode = set || nameExists(zone, name) ? RCODE.NOERROR : RCODE.NXDOMAIN;
  return reply(query, rcode, { authorities: [soa(zone)] }, true);
}

/** A FORMERR answer for a message that decoded only as far as its id (or not at all: id 0). */
export function formatError(id: number): Packet {
  return { type: 'response', id, flags: RCODE.FORMERR, questions: [] };
}
