/**
 * The DNS part of the status document (issue 17): each app's `dns` field (the name callers use, the record's IP,
 * whether it points at the active group), a `DnsInSync` condition, and the watched groups' records. Judged with
 * the same targets and rules as reconcile (dnsTargets.ts), so status and the timer agree.
 */
import type { AppConfig, AppsConfig } from '../config/appsConfig.js';
import type { DomainDeps } from './deps.js';
import { errorMessage } from './errors.js';
import type { AppState } from './model.js';
import { appRecordName, fqdnOf, zoneKey, type PrivateDnsZoneRef } from '../config/dnsConfig.js';
import {
  dnsZonesOf,
  fqdnOfTarget,
  readDnsListings,
  resolveDnsTargets,
  recordInSync,
  recordOf,
  usableRecordIp,
  type DnsListings,
  type DnsTarget,
} from './dnsTargets.js';
import type { GroupListings } from './secretTargets.js';
import type { AppDnsStatus, AppStatus, WatchedDnsStatus } from './statusDocument.js';

/** Zones status reads: those of the targets, and those of apps that have no active group yet. */
export function statusDnsZones(config: AppsConfig, targets: ReadonlyArray<DnsTarget>): PrivateDnsZoneRef[] {
  const zones = new Map(dnsZonesOf(targets).map((z) => [zoneKey(z), z]));
  for (const app of config.apps) if (app.dns) zones.set(zoneKey(app.dns.zone), app.dns.zone);
  return [...zones.values()];
}

function judged(
  t: DnsTarget | undefined,
  listings: DnsListings,
): Pick<AppDnsStatus, 'recordIp' | 'inSync' | 'problem'> | undefined {
  if (!t) return undefined;
  const record = recordOf(listings, t);
  if (!record.ok) return { recordIp: null, inSync: false, problem: `zone listing failed: ${record.error}` };
  const recordIp = record.value?.ips[0] ?? null;
  if (!t.listed) return { recordIp, inSync: false, problem: 'resource group listing failed' };
  const ip = usableRecordIp(t);
  if ('problem' in ip) return { recordIp, inSync: false, problem: ip.problem };
  return {
    recordIp,
    inSync: recordInSync(record.value, ip.ip, t.ttlSeconds),
    problem: record.value ? null : 'record does not exist yet',
  };
}

/** An app's `dns` field: null when the app has no DNS name. */
export function appDnsStatus(
  app: AppConfig,
  target: DnsTarget | undefined,
  listings: DnsListings,
): AppDnsStatus | null {
  if (!app.dns) return null;
  const name = appRecordName(app)!;
  const base = { name: fqdnOf(name, app.dns.zone), zoneId: app.dns.zone.id, ttlSeconds: app.dns.ttlSeconds };
  const state = judged(target, listings);
  if (state) return { ...base, ...state };
  // No active group yet: show what the zone holds under the name, if it could be read.
  const l = listings.get(zoneKey(app.dns.zone));
  const recordIp = l?.ok ? (l.value.get(name)?.ips[0] ?? null) : null;
  return { ...base, recordIp, inSync: false, problem: 'no active group yet' };
}

/** The app's status with its `dns` field and, for an app with a DNS name, the DnsInSync condition. */
export function withDns(
  status: AppStatus,
  app: AppConfig,
  targets: ReadonlyArray<DnsTarget>,
  listings: DnsListings,
): AppStatus {
  const target = targets.find((t) => t.kind === 'app' && t.app?.name === app.name);
  const dns = appDnsStatus(app, target, listings);
  if (!dns) return { ...status, dns: null };
  const condition = {
    type: 'DnsInSync' as const,
    status: dns.inSync ? ('True' as const) : ('False' as const),
    reason: dns.inSync ? 'InSync' : 'OutOfSync',
    message:
      dns.problem ?? (dns.inSync ? `${dns.name} = ${dns.recordIp}` : `${dns.name} differs from ${status.ip}`),
  };
  return { ...status, dns, conditions: [...status.conditions, condition] };
}

/** The watched groups' records (groups tagged `ip-dns`). */
export function watchedDnsStatus(
  targets: ReadonlyArray<DnsTarget>,
  listings: DnsListings,
): WatchedDnsStatus[] {
  return targets
    .filter((t) => t.kind === 'watched')
    .map((t) => ({
      resourceGroup: t.resourceGroup,
      name: t.groupName,
      dnsName: fqdnOfTarget(t),
      zoneId: t.zone.id,
      ip: t.group?.ip ?? null,
      state: t.group?.state ?? null,
      source: t.source,
      ...judged(t, listings)!,
    }));
}

/** What status shows of DNS, judged from the group listings and the zones' A-record listings. */
export function dnsView(
  config: AppsConfig,
  states: ReadonlyMap<string, AppState>,
  groups: GroupListings,
  listings: DnsListings = new Map(),
): { withDns(status: AppStatus, app: AppConfig): AppStatus; watched(): WatchedDnsStatus[] } {
  const { targets } = resolveDnsTargets(config, states, groups);
  return {
    withDns: (status, app) => withDns(status, app, targets, listings),
    watched: () => watchedDnsStatus(targets, listings),
  };
}

/** One A-record listing per zone status shows; a failure is one of the document's read errors. */
export function readStatusDns(
  deps: Pick<DomainDeps, 'dnsRecords'>,
  config: AppsConfig,
  states: ReadonlyMap<string, AppState>,
  groups: GroupListings,
  errors: string[],
): Promise<DnsListings> {
  return readDnsListings(
    statusDnsZones(config, resolveDnsTargets(config, states, groups).targets),
    (zone) => deps.dnsRecords.listARecordSets(zone),
    (zone, e) => errors.push(`DNS zone ${zone.id}: ${errorMessage(e)}`),
  );
}
