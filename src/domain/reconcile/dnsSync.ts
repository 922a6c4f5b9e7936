/**
 * The tick's DNS part (issue 17): every Private DNS A record that follows a group (managed apps with `dns`, groups
 * tagged `ip-dns`) holds that group's IP, in the same batched way as secrets: one paged A-record listing per zone,
 * writes only where the IP (or the configured TTL) differs, each conditional on the ETag the listing showed
 * (`If-None-Match: *` for a record that does not exist yet). A record is never deleted, and a missing, stopped or
 * IP-less group leaves its record as it is (the old address may still answer; an empty record never does).
 */
import { mapLimit } from '../concurrency.js';
import { rolloutOwnsCallers } from '../callerPointers.js';
import {
  dnsZonesOf,
  resolveDnsTargets,
  fqdnOfTarget,
  readDnsListings,
  recordInSync,
  recordOf,
  usableRecordIp,
  type DnsListings,
  type DnsTarget,
} from '../dnsTargets.js';
import { TransientError, errorMessage, isRetryable } from '../errors.js';
import type { AppState } from '../model.js';
import { PRECONDITION_FAILED, type ARecordSet } from '../ports.js';
import type { GroupListings } from '../secretTargets.js';
import { retrying, timeLeft, type Tick } from './tick.js';

interface StaleRecord {
  t: DnsTarget;
  ip: string;
  /** The record as listed (its ETag guards the write); undefined when it does not exist yet. */
  listed?: ARecordSet;
}

/** A write refused because the record changed since it was listed: not retried in this tick, re-read next one. */
class RecordChanged extends Error {}

function staleRecords(
  tick: Tick,
  targets: DnsTarget[],
  listings: DnsListings,
  states: ReadonlyMap<string, AppState>,
): StaleRecord[] {
  const stale: StaleRecord[] = [];
  for (const t of targets) {
    if (t.kind === 'app' && t.app && rolloutOwnsCallers(states.get(t.app.name))) continue;
    if (!t.listed) continue; // the resource group's list error is already reported
    const ip = usableRecordIp(t);
    if ('problem' in ip) {
      tick.warnings.push({
        scope: 'group',
        target: `${t.resourceGroup}/${t.groupName}`,
        message: ip.problem,
      });
      continue;
    }
    const record = recordOf(listings, t);
    if (!record.ok) continue; // the zone's list error is already reported
    if (recordInSync(record.value, ip.ip, t.ttlSeconds)) continue;
    stale.push({ t, ip: ip.ip, ...(record.value ? { listed: record.value } : {}) });
  }
  return stale;
}

/**
 * An app's record is written only if the latest stored state still names the group the tick read: a switch may have
 * pointed the record at the new group since, and an older view must not point it back.
 */
async function stillActive(tick: Tick, t: DnsTarget): Promise<boolean> {
  const fresh = await retrying(tick, () => tick.deps.rolloutStore.get(t.app!.name));
  const active = fresh?.state.active;
  return (
    !rolloutOwnsCallers(fresh?.state) &&
    active?.group === t.groupName &&
    active.resourceGroup.toLowerCase() === t.resourceGroup.toLowerCase()
  );
}

function describe(w: StaleRecord): string {
  const { t, ip, listed } = w;
  const where = `(${t.resourceGroup}/${t.groupName})`;
  const old = listed?.ips.join(',') || '(new)';
  if (old === ip) return `${fqdnOfTarget(t)}: TTL ${listed?.ttlSeconds ?? '?'} → ${t.ttlSeconds} s ${where}`;
  return `${fqdnOfTarget(t)}: ${old} → ${ip} ${where}`;
}

async function writeRecord(tick: Tick, w: StaleRecord): Promise<void> {
  const { deps } = tick;
  const { t } = w;
  const target = fqdnOfTarget(t);
  if (!timeLeft(tick)) return;
  try {
    if (t.kind === 'app' && !(await stillActive(tick, t))) return;
    await retrying(tick, async () => {
      try {
        return await deps.dnsRecords.putARecordSet(
          t.zone,
          t.recordName,
          { ip: w.ip, ttlSeconds: t.ttlSeconds, metadata: t.metadata },
          w.listed ? { ifMatch: w.listed.etag ?? '*' } : { ifNoneMatch: '*' },
        );
      } catch (e) {
        // Retrying with the same ETag cannot succeed: leave it to the next tick's listing.
        if (e instanceof TransientError && e.code === PRECONDITION_FAILED) throw new RecordChanged(e.message);
        throw e;
      }
    });
    tick.writes++;
    tick.changed.push({ kind: 'dnsRecord', target, message: describe(w) });
  } catch (e) {
    if (e instanceof RecordChanged)
      tick.warnings.push({
        scope: 'dnsRecord',
        target,
        message: `changed since it was listed (${e.message}); the next tick reads it again`,
      });
    else
      tick.errors.push({
        scope: 'dnsRecord',
        target,
        message: `write failed: ${errorMessage(e)}`,
        retryable: isRetryable(e),
      });
  }
}

/**
 * The active groups the secret phase read one by one (the doubtful ones: instance view) stand for the records'
 * groups too, so a record is judged on the same view as its app's secret, without a second GET.
 */
export function useInspectedGroups(
  dnsTargets: DnsTarget[],
  inspected: ReadonlyArray<{ kind: string; app?: { name: string }; group?: DnsTarget['group'] }>,
): void {
  const byApp = new Map(inspected.filter((s) => s.kind === 'app' && s.app).map((s) => [s.app!.name, s]));
  for (const t of dnsTargets) {
    const s = t.kind === 'app' && t.app ? byApp.get(t.app.name) : undefined;
    if (!s) continue;
    if (s.group) t.group = s.group;
    else delete t.group;
  }
}

/** List each zone once, write the stale records. Returns how many zones were listed. */
export async function syncDnsRecords(
  tick: Tick,
  targets: DnsTarget[],
  states: ReadonlyMap<string, AppState>,
): Promise<number> {
  const { deps } = tick;
  const zones = dnsZonesOf(targets);
  if (zones.length === 0) return 0;
  const listings = await readDnsListings(
    zones,
    (zone) =>
      retrying(tick, () => deps.dnsRecords.listARecordSets(zone, { onThrottled: () => tick.throttled++ })),
    (zone, e) =>
      tick.errors.push({
        scope: 'dnsZone',
        target: zone.id,
        message: `listing A records failed: ${errorMessage(e)}`,
        retryable: isRetryable(e),
      }),
  );
  const stale = staleRecords(tick, targets, listings, states);
  await mapLimit(stale, deps.config.reconcile.writeConcurrency, (w) => writeRecord(tick, w));
  return zones.length;
}

/**
 * The tick's DNS phase: resolve the records to keep from the group listings, report tag problems, judge app records
 * on the groups the secret phase inspected, sync. Returns the counts the tick records.
 */
export async function reconcileDns(
  tick: Tick,
  states: ReadonlyMap<string, AppState>,
  listings: GroupListings,
  inspected: Parameters<typeof useInspectedGroups>[1],
): Promise<{ dnsZones: number; dnsRecordsChecked: number }> {
  const { targets, problems } = resolveDnsTargets(tick.deps.config, states, listings);
  tick.warnings.push(...problems);
  useInspectedGroups(targets, inspected);
  const dnsZones = await syncDnsRecords(tick, targets, states);
  return { dnsZones, dnsRecordsChecked: targets.length };
}
