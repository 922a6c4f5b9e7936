/**
 * How a tick learns what the vaults hold, at the fewest Key Vault calls. Key Vault lists 25 secrets a page and
 * each page needs the previous one's nextLink, so listing a 5,000-secret vault is 200 calls in a row, every tick.
 * Instead (issue 15):
 *  - an IP vault is listed in full when the process has never listed it or its audit is due
 *    (`reconcile.secretAuditSeconds`); otherwise the tick uses what the mirror remembers (domain/secretMirror.ts);
 *  - a vault whose secrets roll out on change (`rolloutOnSecretChange`) is listed every tick, as new versions made
 *    by people are exactly what it watches for;
 *  - where a remembered secret disagrees with its group, that one secret is read afresh (`confirm`) before the
 *    tick writes it: the remembered view only ever saves calls, it never causes a write.
 */
import { errorMessage, isRetryable } from '../errors.js';
import type { SecretProperties } from '../ports.js';
import { readSecretListings, type SecretListings } from '../secretTargets.js';
import { retrying, type Tick } from './tick.js';

export interface VaultReads {
  listings: SecretListings;
  /** Vaults answered from the mirror this tick (their stale-looking secrets must be confirmed). */
  remembered: ReadonlySet<string>;
  /** Vaults listed in full this tick. */
  listed: number;
}

export async function readVaults(
  tick: Tick,
  ipVaults: readonly string[],
  alwaysListed: readonly string[],
): Promise<VaultReads> {
  const { deps } = tick;
  const mirror = deps.secretMirror;
  const now = deps.clock.now();
  const auditMs = deps.config.reconcile.secretAuditSeconds * 1000;
  const listings: SecretListings = new Map();
  const remembered = new Set<string>();
  const toList: string[] = [];
  for (const v of new Set([...ipVaults, ...alwaysListed])) {
    const known = alwaysListed.includes(v) ? undefined : mirror?.remembered(v, now, auditMs);
    if (known) {
      listings.set(v, { ok: true, value: known });
      remembered.add(v);
    } else toList.push(v);
  }
  const listed = await readSecretListings(
    toList,
    (v) => retrying(tick, () => deps.secrets.listIpSecrets(v, { onThrottled: () => tick.throttled++ })),
    (v, e) =>
      tick.errors.push({
        scope: 'vault',
        target: v,
        message: `listing secrets failed: ${errorMessage(e)}`,
        retryable: isRetryable(e),
      }),
  );
  for (const [v, l] of listed) {
    listings.set(v, l);
    // The time the listing started: a change made while it ran is seen by the next audit, not hidden by this one.
    if (l.ok && mirror && ipVaults.includes(v)) mirror.audited(v, l.value, now);
  }
  return { listings, remembered, listed: toList.length };
}

/** One secret read afresh (a remembered copy disagreed with its group); the mirror learns the answer. */
export async function confirm(
  tick: Tick,
  vaultUrl: string,
  name: string,
): Promise<SecretProperties | undefined> {
  const props = await retrying(tick, () => tick.deps.secrets.getProperties(vaultUrl, name));
  tick.secretReads++;
  tick.deps.secretMirror?.learnt(vaultUrl, name, props);
  return props;
}
