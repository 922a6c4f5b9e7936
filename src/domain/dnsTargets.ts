/**
 * Which Private DNS A record follows which group's IP (issue 17): managed apps with `dns` (record = the active
 * group's IP) and watched groups tagged `ip-dns=<name>` [+ `ip-dns-zone=<zone>`] in the resource groups whose tags
 * are honoured (secretTargets.ts, tagScannedGroups). Shared by reconcile (to write) and status (to show inSync),
 * so both agree, as secretTargets.ts is for secrets.
 */
import type { AppConfig, AppsConfig } from '../config/appsConfig.js';
import {
  appRecordName,
  fqdnOf,
  isRecordName,
  parsePrivateDnsZoneId,
  zoneKey,
  type PrivateDnsZoneRef,
} from '../config/dnsConfig.js';
import { DEFAULT_DNS_TTL_SECONDS } from '../config/dnsConfig.js';
import {
  MANAGED_BY,
  WATCH_TAGS,
  type ActiveDeployment,
  type AppState,
  type ReconcileIssue,
} from './model.js';
import type { ARecordSet, ContainerGroupView } from './ports.js';
import {
  findListedGroup,
  groupIp,
  readEach,
  tagScannedGroups,
  type GroupListings,
  type Listing,
} from './secretTargets.js';

/** Metadata on the Private DNS A record sets we write (Azure's record-set `metadata`, its tags). */
export const RECORD_METADATA = Object.freeze({
  app: 'app',
  colour: 'colour',
  group: 'group',
  resourceGroup: 'resource-group',
  managedBy: 'managed-by',
});

export interface DnsTarget {
  zone: PrivateDnsZoneRef;
  /** Relative to the zone, lower case. */
  recordName: string;
  ttlSeconds: number;
  kind: 'app' | 'watched';
  source: 'app' | 'tag';
  app?: AppConfig;
  active?: ActiveDeployment;
  resourceGroup: string;
  groupName: string;
  /** undefined when the group was not in the (successful) listing. */
  group?: ContainerGroupView;
  /** false when the resource group could not be listed (nothing can be said about the group). */
  listed: boolean;
  /** What a write puts in the record set's metadata. */
  metadata: Record<string, string>;
}

/** A-record listings keyed by zoneKey, inner map keyed by lower-case relative name. */
export type DnsListings = Map<string, Listing<Map<string, ARecordSet>>>;

export const recordKey = (zone: PrivateDnsZoneRef, name: string): string =>
  `${zoneKey(zone)}|${name.toLowerCase()}`;

export function fqdnOfTarget(t: DnsTarget): string {
  return fqdnOf(t.recordName, t.zone);
}

/** Metadata of an app's record set; the switch and reconcile write the same. */
export function appRecordMetadata(app: AppConfig, active: ActiveDeployment): Record<string, string> {
  return {
    [RECORD_METADATA.app]: app.name,
    [RECORD_METADATA.colour]: active.colour,
    [RECORD_METADATA.group]: active.group,
    [RECORD_METADATA.resourceGroup]: active.resourceGroup,
    [RECORD_METADATA.managedBy]: MANAGED_BY,
  };
}

function watchedMetadata(resourceGroup: string, name: string): Record<string, string> {
  return {
    [RECORD_METADATA.group]: name,
    [RECORD_METADATA.resourceGroup]: resourceGroup,
    [RECORD_METADATA.managedBy]: MANAGED_BY,
  };
}

/** Zones a tag may name: those APPS_CONFIG names (a tag must not steer writes to an arbitrary zone). */
export function allowedZones(config: AppsConfig): Map<string, PrivateDnsZoneRef> {
  const zones = [
    ...config.apps.flatMap((a) => (a.dns ? [a.dns.zone] : [])),
    ...(config.watch.dns?.zone ? [config.watch.dns.zone] : []),
  ];
  return new Map(zones.map((z) => [zoneKey(z), z]));
}

/** The zone an `ip-dns-zone` tag names: a zone resource id or a zone name, among the allowed zones. */
function zoneFromTag(
  value: string,
  zones: ReadonlyMap<string, PrivateDnsZoneRef>,
): PrivateDnsZoneRef | { problem: string } {
  const byId = parsePrivateDnsZoneId(value);
  const matches = byId
    ? [...zones.values()].filter((z) => zoneKey(z) === zoneKey(byId))
    : [...zones.values()].filter((z) => z.name === value.toLowerCase().replace(/\.$/, ''));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1)
    return {
      problem: `tag ${WATCH_TAGS.dnsZone}=${value} matches several zones; give the zone's resource id`,
    };
  return { problem: `tag ${WATCH_TAGS.dnsZone}=${value} names a zone that is not in APPS_CONFIG; ignored` };
}

/** The record a group tagged `ip-dns=<name>` asks for, or why it cannot have one; undefined when untagged. */
function taggedTarget(
  g: ContainerGroupView,
  config: AppsConfig,
  zones: ReadonlyMap<string, PrivateDnsZoneRef>,
): DnsTarget | { problem: string } | undefined {
  const raw = g.tags[WATCH_TAGS.dns];
  if (!raw) return undefined;
  const recordName = raw.toLowerCase();
  const zoneTag = g.tags[WATCH_TAGS.dnsZone];
  const zone = zoneTag ? zoneFromTag(zoneTag, zones) : config.watch.dns?.zone;
  if (!zone)
    return {
      problem: `tagged ${WATCH_TAGS.dns}=${raw} but no zone: add tag ${WATCH_TAGS.dnsZone} or set watch.dns.zoneId`,
    };
  if ('problem' in zone) return zone;
  if (!isRecordName(recordName, zone.name))
    return { problem: `tag ${WATCH_TAGS.dns}="${raw}" is not a valid record name in ${zone.name}` };
  return {
    zone,
    recordName,
    ttlSeconds: config.watch.dns?.ttlSeconds ?? DEFAULT_DNS_TTL_SECONDS,
    kind: 'watched',
    source: 'tag',
    resourceGroup: g.resourceGroup,
    groupName: g.name,
    listed: true,
    group: g,
    metadata: watchedMetadata(g.resourceGroup, g.name),
  };
}

function appTargets(
  config: AppsConfig,
  states: ReadonlyMap<string, AppState>,
  listings: GroupListings,
): Map<string, DnsTarget> {
  const byKey = new Map<string, DnsTarget>();
  for (const app of config.apps) {
    const active = states.get(app.name)?.active;
    if (!app.dns || !active) continue;
    const recordName = appRecordName(app)!;
    byKey.set(recordKey(app.dns.zone, recordName), {
      zone: app.dns.zone,
      recordName,
      ttlSeconds: app.dns.ttlSeconds,
      kind: 'app',
      source: 'app',
      app,
      active,
      resourceGroup: active.resourceGroup,
      groupName: active.group,
      ...findListedGroup(listings, active.resourceGroup, active.group),
      metadata: appRecordMetadata(app, active),
    });
  }
  return byKey;
}

/**
 * Every record to keep, and the problems found on the way. An app's record wins over a tag naming it; two groups
 * tagged with one record name are both reported and neither is written (the tick would flip it every time).
 */
export function resolveDnsTargets(
  config: AppsConfig,
  states: ReadonlyMap<string, AppState>,
  listings: GroupListings,
): { targets: DnsTarget[]; problems: ReconcileIssue[] } {
  const problems: ReconcileIssue[] = [];
  const byKey = appTargets(config, states, listings);
  const appKeys = new Set(
    config.apps.flatMap((a) => (a.dns ? [recordKey(a.dns.zone, appRecordName(a)!)] : [])),
  );
  const zones = allowedZones(config);
  const conflicted = new Set<string>();
  const scanned = tagScannedGroups(config);
  for (const [rg, listing] of listings) {
    if (!scanned.has(rg) || !listing.ok) continue;
    for (const g of listing.value) {
      const t = taggedTarget(g, config, zones);
      if (!t) continue;
      const where = `${g.resourceGroup}/${g.name}`;
      if ('problem' in t) {
        problems.push({ scope: 'watch', target: where, message: t.problem });
        continue;
      }
      const key = recordKey(t.zone, t.recordName);
      const existing = byKey.get(key);
      if (appKeys.has(key)) {
        problems.push({
          scope: 'watch',
          target: where,
          message: `${fqdnOfTarget(t)} is a managed app's DNS name; not pointing it at ${g.name}`,
        });
      } else if (
        existing &&
        !(existing.resourceGroup === t.resourceGroup && existing.groupName === t.groupName)
      ) {
        conflicted.add(key);
        problems.push({
          scope: 'watch',
          target: where,
          message: `${fqdnOfTarget(t)} is claimed by ${existing.resourceGroup}/${existing.groupName} and ${where}; neither is written`,
        });
      } else if (!existing) byKey.set(key, t);
    }
  }
  for (const key of conflicted) byKey.delete(key);
  return { targets: [...byKey.values()], problems };
}

/** The zones the targets live in, each once. */
export function dnsZonesOf(targets: ReadonlyArray<DnsTarget>): PrivateDnsZoneRef[] {
  return [...new Map(targets.map((t) => [zoneKey(t.zone), t.zone])).values()];
}

/** One (paged) A-record listing per zone; a failure becomes that zone's listing error, reported via onError. */
export function readDnsListings(
  zones: readonly PrivateDnsZoneRef[],
  list: (zone: PrivateDnsZoneRef) => Promise<Map<string, ARecordSet>>,
  onError: (zone: PrivateDnsZoneRef, e: unknown) => void,
): Promise<DnsListings> {
  const byKey = new Map(zones.map((z) => [zoneKey(z), z]));
  return readEach(
    [...byKey.keys()],
    (k) => k,
    (k) => list(byKey.get(k)!),
    (records) => new Map([...records].map(([name, r]) => [name.toLowerCase(), r])),
    (k, e) => onError(byKey.get(k)!, e),
  );
}

/** The target's record as its zone's listing shows it (undefined: no such record yet). */
export function recordOf(listings: DnsListings, t: DnsTarget): Listing<ARecordSet | undefined> {
  const l = listings.get(zoneKey(t.zone));
  if (!l) return { ok: false, error: 'zone not listed' };
  if (!l.ok) return l;
  return { ok: true, value: l.value.get(t.recordName) };
}

/** Does the record already send callers to `ip` with the configured TTL? (Metadata is not compared.) */
export function recordInSync(record: ARecordSet | undefined, ip: string, ttlSeconds: number): boolean {
  return (
    record !== undefined &&
    record.ips.length === 1 &&
    record.ips[0] === ip &&
    record.ttlSeconds === ttlSeconds
  );
}

/** The IP the record should hold, or why it is left as it is (never blank a record). */
export function usableRecordIp(t: DnsTarget): { ip: string } | { problem: string } {
  return groupIp(`${t.resourceGroup}/${t.groupName}`, t.group, `record ${fqdnOfTarget(t)} left unchanged`);
}
