/**
 * Reads a container group's instance view and says, in words a person understands, whether it is running,
 * still coming up, or has failed (image pull failed, crashed, exited, provisioning failed).
 *
 * Pull failures: ACI retries a pull that fails and fails the deployment only if pulling keeps failing
 * (container-instances-troubleshooting, "Unable to pull image"), and a group's events persist: a `Failed` pull
 * event can be followed by `Pulled` and `Started`. Events are aggregated per name with `count`,
 * `firstTimestamp` and `lastTimestamp` (azure-rest-api-specs, Microsoft.ContainerInstance/stable/2023-05-01/
 * containerInstance.json, definition `Event`: count, firstTimestamp, lastTimestamp, name, message, type). So a
 * pull failure is final only when the group's provisioningState is Failed, or when a container's latest pull
 * event is a failure newer than its last Pulled/Started, the container does not run, and that has lasted the
 * app's `pullFailureGraceSeconds`. A typical transient case: the AcrPull assignment of a brand-new pull identity
 * is still propagating.
 */
import type { FailureReason } from './model.js';
import type { ContainerEvent, ContainerGroupView, ContainerView } from './ports.js';

export type GroupDiagnosis =
  | { phase: 'running'; ip: string }
  | { phase: 'pending'; detail: string }
  | { phase: 'failed'; reason: FailureReason; message: string };

/** How long a pull may keep failing before it is final, measured at `now` (epoch ms). */
export interface PullRetryPolicy {
  now: number;
  graceMs: number;
}

/** Without a policy a pull failure newer than the last successful pull is final at once. */
const IMMEDIATE: PullRetryPolicy = { now: Number.POSITIVE_INFINITY, graceMs: 0 };

const PULL_FAILURE =
  /failed to pull|pull access denied|ErrImagePull|ImagePullBackOff|manifest unknown|InaccessibleImage|unauthorized|not found: manifest|back-off pulling image|failed to resolve reference/i;

function time(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

function eventTime(e: ContainerEvent): number {
  return time(e.lastTimestamp) ?? time(e.firstTimestamp) ?? 0;
}

function latest(events: ContainerEvent[]): ContainerEvent | undefined {
  return [...events].sort((a, b) => eventTime(b) - eventTime(a))[0];
}

function describe(e: ContainerEvent | undefined): string {
  if (!e) return '';
  return [e.name, e.message].filter(Boolean).join(': ');
}

/** `Pulled` and `Started` prove the image was pulled. */
function isPullSuccess(e: ContainerEvent): boolean {
  return /^(pulled|started)$/i.test(e.name ?? '');
}

/** A failed pull attempt (`Failed` with a pull error, or the `BackOff` that waits for the next attempt). */
function isPullFailure(e: ContainerEvent): boolean {
  if (/^pulling$/i.test(e.name ?? '')) return false;
  if (/^backoff$/i.test(e.name ?? '') && !/pulling image/i.test(e.message ?? '')) return false;
  return PULL_FAILURE.test(`${e.name ?? ''} ${e.message ?? ''}`);
}

interface FailingPull {
  container: string;
  message: string;
  /** When the failing streak began (epoch ms): the first failure after the last success, as far as known. */
  since: number;
}

/** A container whose latest pull event is a failure newer than its last successful pull, and that is not running. */
function failingPull(c: ContainerView): FailingPull | undefined {
  if (c.currentState?.state === 'Running') return undefined;
  const lastSuccess = Math.max(0, ...c.events.filter(isPullSuccess).map(eventTime));
  const failures = c.events.filter(isPullFailure).filter((e) => eventTime(e) > lastSuccess);
  // Prefer the Failed event's text (it names the cause) over BackOff's "Back-off pulling image".
  const failed = failures.filter((e) => !/^backoff$/i.test(e.name ?? ''));
  const shown = latest(failed.length > 0 ? failed : failures);
  if (!shown) return undefined;
  // An aggregated event may have begun before the last success: the streak then began after it.
  const first = Math.min(...failures.map((e) => time(e.firstTimestamp) ?? eventTime(e)));
  return {
    container: c.name,
    message: shown.message ?? shown.name ?? 'unknown error',
    since: Math.max(first, lastSuccess),
  };
}

/** A container waiting with a pull error in its state but no events to date it (seen in some API versions). */
function pullErrorState(group: ContainerGroupView): string | undefined {
  for (const c of group.containers) {
    const d = c.currentState?.detailStatus;
    if (c.currentState?.state === 'Waiting' && d && PULL_FAILURE.test(d)) return d;
  }
  return undefined;
}

function exitCodeOf(c: ContainerView): number | undefined {
  return c.currentState?.state === 'Terminated'
    ? c.currentState.exitCode
    : (c.previousState?.exitCode ?? c.currentState?.exitCode);
}

function seconds(msValue: number): string {
  return `${Math.max(0, Math.round(msValue / 1000))} s`;
}

/**
 * @param maxRestarts a container restarted this many times is "crashed".
 * @param pullRetry when a failing pull becomes final (see the file comment).
 */
export function diagnoseGroup(
  group: ContainerGroupView,
  maxRestarts: number,
  pullRetry: PullRetryPolicy = IMMEDIATE,
): GroupDiagnosis {
  const prov = group.provisioningState;
  const pulls = group.containers.map(failingPull).filter((p): p is FailingPull => p !== undefined);
  const pull = pulls.sort((a, b) => a.since - b.since)[0];
  const names = (p: FailingPull) => (group.containers.length > 1 ? ` (container ${p.container})` : '');

  if (prov === 'Failed' || prov === 'Canceled') {
    const stateError = pull ? undefined : pullErrorState(group);
    if (pull || stateError)
      return {
        phase: 'failed',
        reason: 'ImagePullFailed',
        message: `image pull failed: ${pull ? `${pull.message}${names(pull)}` : stateError}`,
      };
  }
  if (pull && pullRetry.now - pull.since >= pullRetry.graceMs)
    return {
      phase: 'failed',
      reason: 'ImagePullFailed',
      message: `image pull failed: ${pull.message}${names(pull)}`,
    };

  for (const c of group.containers) {
    const restarts = c.restartCount ?? 0;
    if (restarts >= maxRestarts) {
      const code = exitCodeOf(c);
      const exit = code === undefined ? 'exited' : `exit code ${code}`;
      const container = group.containers.length > 1 ? ` (container ${c.name})` : '';
      return {
        phase: 'failed',
        reason: 'ContainerCrashed',
        message: `container crashed: ${exit}, restarted ${restarts} time${restarts === 1 ? '' : 's'}${container}`,
      };
    }
  }

  if (prov === 'Failed' || prov === 'Canceled') {
    const last = describe(latest([...group.events, ...group.containers.flatMap((c) => c.events)]));
    return {
      phase: 'failed',
      reason: 'ProvisioningFailed',
      message: `provisioning ${prov.toLowerCase()}${last ? `: ${last}` : ''}`,
    };
  }

  const state = group.state;
  if (state === 'Stopped' || state === 'Failed' || state === 'Succeeded') {
    const c = group.containers.find((x) => x.currentState?.state === 'Terminated') ?? group.containers[0];
    const code = c ? exitCodeOf(c) : undefined;
    return {
      phase: 'failed',
      reason: 'ContainerExited',
      message: `group ${state.toLowerCase()}: container ${c?.name ?? '?'} ${code === undefined ? 'is not running' : `exited with code ${code}`}`,
    };
  }

  const allRunning =
    group.containers.length > 0 && group.containers.every((c) => c.currentState?.state === 'Running');
  if (prov === 'Succeeded' && state === 'Running' && allRunning && group.ip)
    return { phase: 'running', ip: group.ip };

  const parts = [`provisioningState ${prov ?? 'unknown'}`, `state ${state ?? 'unknown'}`];
  if (!group.ip && prov === 'Succeeded') parts.push('no IP yet');
  const notRunning = group.containers.filter((c) => c.currentState?.state !== 'Running');
  for (const c of notRunning.slice(0, 2))
    parts.push(
      `container ${c.name} ${c.currentState?.state ?? 'not started'}${c.currentState?.detailStatus ? ` (${c.currentState.detailStatus})` : ''}`,
    );
  if (pull)
    parts.push(
      `image pull failing for ${seconds(pullRetry.now - pull.since)}, ACI retries it (final after ${seconds(pullRetry.graceMs)}): ${pull.message}`,
    );
  else {
    const last = describe(latest([...group.events, ...group.containers.flatMap((c) => c.events)]));
    if (last) parts.push(`last event: ${last}`);
  }
  return { phase: 'pending', detail: parts.join(', ') };
}

/** Images of a group's containers that run the app image (for drift checks). */
export function imagesOf(group: ContainerGroupView): string[] {
  return group.containers.map((c) => c.image);
}
