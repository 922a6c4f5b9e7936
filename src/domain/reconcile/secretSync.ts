/**
 * The tick's main job: every secret that mirrors a group's IP (managed apps and watched groups) holds that IP.
 * Only stale secrets are written (a remembered one confirmed by a fresh read first: vaultReads.ts); a missing,
 * stopped or IP-less group is reported and its secret left alone.
 */
import { mapLimit } from '../concurrency.js';
import { errorMessage, isRetryable } from '../errors.js';
import { SECRET_TAGS, type AppState } from '../model.js';
import { inProgress } from '../appState.js';
import {
  READ_CONCURRENCY,
  secretInSync,
  secretProps,
  usableIp,
  type SecretTarget,
} from '../secretTargets.js';
import type { SecretProperties } from '../ports.js';
import { retrying, timeLeft, type Tick } from './tick.js';
import { confirm, type VaultReads } from './vaultReads.js';

export /**
 * ARM list responses carry no instanceView, so a listed group's state is unknown. An active group that lists
 * with an IP and provisioningState Succeeded is taken as serving; only the doubtful ones (no IP, or not
 * Succeeded) are read one by one, to report (and optionally restart) them precisely. Nothing stale → no GETs.
 */
async function inspectDoubtfulActiveGroups(tick: Tick, targets: SecretTarget[]): Promise<void> {
  const doubtful = targets.filter(
    (t) =>
      t.kind === 'app' &&
      t.group !== undefined &&
      t.group.state === undefined &&
      (!t.group.ip || t.group.provisioningState !== 'Succeeded'),
  );
  const got = await mapLimit(doubtful, READ_CONCURRENCY, (t) =>
    retrying(tick, () => tick.deps.containerGroups.get(t.resourceGroup, t.groupName)),
  );
  got.forEach((r, i) => {
    const t = doubtful[i]!;
    // A failure keeps the listed view; retrying() already counted its throttled attempts.
    if (r.ok) {
      if (r.value) t.group = r.value;
      else delete t.group;
    }
  });
}

interface PlannedWrite {
  t: SecretTarget;
  ip: string;
  /** The remembered or listed properties said stale; from a remembered vault they are confirmed first. */
  seen: SecretProperties | undefined;
  confirm: boolean;
}

/** The secrets that look stale, and why the others are left alone (warnings). */
function planWrites(
  tick: Tick,
  targets: SecretTarget[],
  vaults: VaultReads,
  states: ReadonlyMap<string, AppState>,
): PlannedWrite[] {
  const planned: PlannedWrite[] = [];
  for (const t of targets) {
    // During a switch the rollout owns the secret.
    if (t.kind === 'app' && t.app && inProgress(states.get(t.app.name))?.step === 'switching') continue;
    if (!t.listed) continue; // the list error is already reported
    const ip = usableIp(t);
    if ('problem' in ip) {
      tick.warnings.push({
        scope: 'group',
        target: `${t.resourceGroup}/${t.groupName}`,
        message: ip.problem,
      });
      continue;
    }
    const props = secretProps(vaults.listings, t);
    if (!props.ok) continue; // vault error reported
    if (secretInSync(props.value, t.desiredTags(ip.ip))) continue;
    planned.push({ t, ip: ip.ip, seen: props.value, confirm: vaults.remembered.has(t.vaultUrl) });
  }
  return planned;
}

/** Write one stale secret (after confirming a remembered one), and record what changed. */
async function writeSecret(tick: Tick, w: PlannedWrite): Promise<void> {
  const { deps } = tick;
  const { t } = w;
  const desired = t.desiredTags(w.ip);
  let seen = w.seen;
  if (w.confirm) {
    seen = await confirm(tick, t.vaultUrl, t.secretName);
    if (secretInSync(seen, desired)) return; // someone (a rollout's switch) already wrote it
  }
  let old = seen?.tags[SECRET_TAGS.ip];
  // No mirrored tag yet: read the value once, to report what really changed.
  if (seen && !old) old = await retrying(tick, () => deps.secrets.getValue(t.vaultUrl, t.secretName));
  await retrying(tick, () => deps.secrets.set(t.vaultUrl, t.secretName, w.ip, desired));
  tick.writes++;
  const at = new Date(deps.clock.now());
  deps.secretMirror?.learnt(t.vaultUrl, t.secretName, {
    name: t.secretName,
    tags: desired,
    updatedOn: at,
    createdOn: at,
    enabled: true,
  });
  tick.changed.push({
    kind: 'secret',
    target: `${t.vaultUrl}/secrets/${t.secretName}`,
    message:
      old === w.ip
        ? `${t.secretName}: tags refreshed (${w.ip}, ${t.groupName})`
        : `${t.secretName}: ${old ?? '(new)'} → ${w.ip} (${t.resourceGroup}/${t.groupName})`,
  });
}

export async function syncSecrets(
  tick: Tick,
  targets: SecretTarget[],
  vaults: VaultReads,
  states: ReadonlyMap<string, AppState>,
): Promise<void> {
  const planned = planWrites(tick, targets, vaults, states);
  await mapLimit(planned, tick.deps.config.reconcile.writeConcurrency, async (w) => {
    if (!timeLeft(tick)) return;
    try {
      await writeSecret(tick, w);
    } catch (e) {
      tick.errors.push({
        scope: 'secret',
        target: `${w.t.vaultUrl}/secrets/${w.t.secretName}`,
        message: `write failed: ${errorMessage(e)}`,
        retryable: isRetryable(e),
      });
    }
  });
}
