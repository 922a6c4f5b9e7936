/**
 * The tick's main job: every secret that mirrors a group's IP (managed apps and watched groups) holds that IP.
 * Only stale secrets are written; a missing, stopped or IP-less group is reported and its secret left alone.
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
  type SecretListings,
  type SecretTarget,
} from '../secretTargets.js';
import { retrying, timeLeft, type Tick } from './tick.js';

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

export async function syncSecrets(
  tick: Tick,
  targets: SecretTarget[],
  secretListings: SecretListings,
  states: ReadonlyMap<string, AppState>,
): Promise<void> {
  const { deps } = tick;
  const writes: Array<{ t: SecretTarget; ip: string; oldIp?: string; fetch: boolean }> = [];
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
    const props = secretProps(secretListings, t);
    if (!props.ok) continue; // vault error reported
    if (secretInSync(props.value, t.desiredTags(ip.ip))) continue;
    const oldIp = props.value?.tags[SECRET_TAGS.ip];
    writes.push({ t, ip: ip.ip, ...(oldIp ? { oldIp } : {}), fetch: props.value !== undefined && !oldIp });
  }
  await mapLimit(writes, deps.config.reconcile.writeConcurrency, async (w) => {
    const { t } = w;
    const target = `${t.vaultUrl}/secrets/${t.secretName}`;
    if (!timeLeft(tick)) return;
    try {
      let old = w.oldIp;
      // No mirrored tag yet: read the value once, to report what really changed.
      if (w.fetch) old = await retrying(tick, () => deps.secrets.getValue(t.vaultUrl, t.secretName));
      await retrying(tick, () => deps.secrets.set(t.vaultUrl, t.secretName, w.ip, t.desiredTags(w.ip)));
      tick.writes++;
      tick.changed.push({
        kind: 'secret',
        target,
        message:
          old === w.ip
            ? `${t.secretName}: tags refreshed (${w.ip}, ${t.groupName})`
            : `${t.secretName}: ${old ?? '(new)'} → ${w.ip} (${t.resourceGroup}/${t.groupName})`,
      });
    } catch (e) {
      tick.errors.push({
        scope: 'secret',
        target,
        message: `write failed: ${errorMessage(e)}`,
        retryable: isRetryable(e),
      });
    }
  });
}
