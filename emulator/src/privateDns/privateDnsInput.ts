/**
 * Request bodies and names of the Private DNS routes, checked as Azure checks them:
 * - zone names need at least two labels (Microsoft Learn, dns/private-dns-privatednszone, "Restrictions":
 *   single-labeled private DNS zones aren't supported); labels of letters, digits, '-' and '_', 253 characters in all;
 * - Private DNS zones and links are global resources (the REST spec's examples send "Global", Azure answers "global");
 * - an A record set holds at most 20 records (Microsoft Learn, dns/dns-limits, private DNS "Records per record set");
 *   the TTL is a 32-bit count of seconds (RFC 2181 §8). A PUT without `ttl` is kept at 3600 s, the portal's
 *   default (not verified against the service).
 */
import net from 'node:net';
import { privateDnsErrors } from './privateDnsErrors.js';

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const VNET_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+$/i;
const MAX_RECORDS = 20;
const DEFAULT_TTL = 3600;
const MAX_TTL = 2_147_483_647;

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function labelsOk(name: string): boolean {
  return name.length <= 253 && name.split('.').every((l) => LABEL.test(l));
}

export function zoneName(raw: string): string {
  const name = raw.toLowerCase().replace(/\.$/, '');
  if (!labelsOk(name) || name.split('.').length < 2)
    throw privateDnsErrors.badRequest(
      `The zone name '${raw}' is not valid: a private DNS zone name needs at least two labels of letters, digits, '-' or '_'.`,
    );
  return name;
}

/** A relative record set name (`@` for the apex), lower case. */
export function recordName(raw: string, zone: string): string {
  const name = raw.toLowerCase();
  if (name === '@') return name;
  if (!labelsOk(name) || name.length + zone.length + 1 > 253)
    throw privateDnsErrors.badRequest(`The record set name '${raw}' is not valid in zone '${zone}'.`);
  return name;
}

export function stringMap(v: unknown, field: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObject(v) || Object.values(v).some((x) => typeof x !== 'string'))
    throw privateDnsErrors.badRequest(`'${field}' must be an object of strings.`);
  return { ...(v as Record<string, string>) };
}

export function checkGlobal(body: Json): void {
  const location = body['location'];
  if (location !== undefined && (typeof location !== 'string' || location.toLowerCase() !== 'global'))
    throw privateDnsErrors.badRequest(
      `The location '${String(location)}' is not valid: private DNS zones and their links are global.`,
    );
}

export interface ARecordSetInput {
  ttl?: number;
  metadata?: Record<string, string>;
  ips?: string[];
}

/** `properties` of an A record set body; absent fields stay undefined (PATCH keeps them, PUT defaults them). */
export function aRecordSetInput(body: unknown): ARecordSetInput {
  if (!isObject(body) || !isObject(body['properties']))
    throw privateDnsErrors.badRequest("The request body must be an object with 'properties'.");
  const p = body['properties'];
  for (const other of [
    'aaaaRecords',
    'cnameRecord',
    'mxRecords',
    'ptrRecords',
    'soaRecord',
    'srvRecords',
    'txtRecords',
  ])
    if (p[other] !== undefined && p[other] !== null)
      throw privateDnsErrors.badRequest(`An A record set cannot hold '${other}'.`);
  const out: ARecordSetInput = {};
  if (p['ttl'] !== undefined) {
    const ttl = p['ttl'];
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL)
      throw privateDnsErrors.badRequest(`The TTL '${String(ttl)}' is not valid: 0 to ${MAX_TTL} seconds.`);
    out.ttl = ttl;
  }
  if (p['metadata'] !== undefined) out.metadata = stringMap(p['metadata'], 'properties.metadata');
  if (p['aRecords'] !== undefined) {
    const records = p['aRecords'];
    if (!Array.isArray(records)) throw privateDnsErrors.badRequest("'properties.aRecords' must be an array.");
    if (records.length > MAX_RECORDS)
      throw privateDnsErrors.badRequest(`A record set holds at most ${MAX_RECORDS} records.`);
    out.ips = records.map((r: unknown) => {
      const ip = isObject(r) ? r['ipv4Address'] : undefined;
      if (typeof ip !== 'string' || !net.isIPv4(ip))
        throw privateDnsErrors.badRequest(`'${String(ip)}' is not a valid IPv4 address.`);
      return ip;
    });
  }
  return out;
}

export const DEFAULT_RECORD_TTL = DEFAULT_TTL;

export function linkInput(body: unknown): {
  virtualNetworkId: string;
  registrationEnabled: boolean;
  tags: Record<string, string>;
} {
  if (!isObject(body) || !isObject(body['properties']))
    throw privateDnsErrors.badRequest("The request body must be an object with 'properties'.");
  checkGlobal(body);
  const p = body['properties'];
  const vnet = isObject(p['virtualNetwork']) ? p['virtualNetwork']['id'] : undefined;
  if (typeof vnet !== 'string' || !VNET_ID.test(vnet))
    throw privateDnsErrors.badRequest(
      "'properties.virtualNetwork.id' must be a virtual network resource id.",
    );
  const registration = p['registrationEnabled'] ?? false;
  if (typeof registration !== 'boolean')
    throw privateDnsErrors.badRequest("'properties.registrationEnabled' must be a boolean.");
  return { virtualNetworkId: vnet, registrationEnabled: registration, tags: stringMap(body['tags'], 'tags') };
}
