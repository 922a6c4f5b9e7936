/**
 * Where an app's callers learn its address: its Key Vault secret and, when the app has `dns`, its Private DNS A
 * record. `pointCallers` is the one way to move them, used by the switch step; anything else that moves callers
 * (rollback, verify-revert, promotion) must go through it too, so the record never lags the secret.
 *
 * Order: the record first, then the secret. The record write is the one that can be refused (an ETag race gives
 * 412, a missing Private DNS Zone Contributor assignment 403): done first, a refusal leaves both pointers on the
 * old group, which keeps serving, and the step retries; the secret (a new Key Vault version per write) is written
 * once the record is. Both groups serve during the switch and the drain, so callers following either pointer are
 * answered whichever they read first.
 */
import type { AppConfig } from '../config/appsConfig.js';
import { appRecordName, fqdnOf } from '../config/dnsConfig.js';
import type { DomainDeps } from './deps.js';
import { appRecordMetadata } from './dnsTargets.js';
import type { ActiveDeployment, AppState } from './model.js';
import type { ARecordSet } from './ports.js';
import { appSecretTags } from './secretTargets.js';

function sameMetadata(record: ARecordSet, metadata: Record<string, string>): boolean {
  const keys = Object.keys(metadata);
  return (
    keys.length === Object.keys(record.metadata).length &&
    keys.every((k) => record.metadata[k] === metadata[k])
  );
}

/** Write the app's A record unless it already says exactly this; returns what was done, in the timeline's words. */
async function pointRecord(
  deps: DomainDeps,
  app: AppConfig,
  active: ActiveDeployment,
  ip: string,
): Promise<string | undefined> {
  if (!app.dns) return undefined;
  const name = appRecordName(app)!;
  const fqdn = fqdnOf(name, app.dns.zone);
  const metadata = appRecordMetadata(app, active);
  const current = await deps.dnsRecords.getARecordSet(app.dns.zone, name);
  if (
    current &&
    current.ips.length === 1 &&
    current.ips[0] === ip &&
    current.ttlSeconds === app.dns.ttlSeconds &&
    sameMetadata(current, metadata)
  )
    return `record ${fqdn} = ${ip}`;
  // Replace exactly what was read (a concurrent write makes this a 412 and the step reads again), or create it.
  await deps.dnsRecords.putARecordSet(
    app.dns.zone,
    name,
    { ip, ttlSeconds: app.dns.ttlSeconds, metadata },
    current ? { ifMatch: current.etag ?? '*' } : { ifNoneMatch: '*' },
  );
  return `record ${fqdn} = ${ip}`;
}

/**
 * Point every caller of `app` at `ip`, the address of `active`: the DNS record (if any), then the secret. Idempotent:
 * a retry after a failure in between rewrites nothing that already holds the IP (the secret gets a new version, as
 * before DNS names existed). Returns what it set, e.g. `["record web.apps.internal = 10.0.1.5", "secret web-ip =
 * 10.0.1.5"]`.
 */
export async function pointCallers(
  deps: DomainDeps,
  app: AppConfig,
  active: ActiveDeployment,
  ip: string,
): Promise<string[]> {
  const record = await pointRecord(deps, app, active, ip);
  await deps.secrets.set(app.secret.vaultUrl, app.secret.name, ip, appSecretTags(app, active, ip));
  return [...(record ? [record] : []), `secret ${app.secret.name} = ${ip}`];
}

/**
 * How long the old group must keep serving after callers were pointed away from it: the app's `drainSeconds`,
 * and never less than what a DNS caller may still hold, the record's TTL plus the callers' own cache.
 */
export function drainSecondsOf(app: AppConfig): number {
  const dns = app.dns ? app.dns.ttlSeconds + app.dns.callerCacheSeconds : 0;
  return Math.max(app.drainSeconds, dns);
}

/**
 * While a rollout is moving the app's callers, it owns the pointers: reconcile leaves the secret and the record to
 * it (it re-reads the stored state before writing either, so a stale view cannot undo a switch).
 */
export function rolloutOwnsCallers(state: AppState | undefined): boolean {
  const r = state?.rollout;
  return r?.state === 'inProgress' && r.step === 'switching';
}
