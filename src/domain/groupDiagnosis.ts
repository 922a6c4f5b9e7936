/**
 * Reads a container group's instance view and says, in words a person understands, whether it is running,
 * still coming up, or has failed (image pull failed, crashed, exited, provisioning failed).
 */
import type { FailureReason } from './model.js';
import type { ContainerEvent, ContainerGroupView, ContainerView } from './ports.js';

export type GroupDiagnosis =
  | { phase: 'running'; ip: string }
  | { phase: 'pending'; detail: string }
  | { phase: 'failed'; reason: FailureReason; message: string };

const PULL_FAILURE =
  /failed to pull|pull access denied|ErrImagePull|ImagePullBackOff|manifest unknown|InaccessibleImage|unauthorized|not found: manifest|back-off pulling image|failed to resolve reference/i;

function eventTime(e: ContainerEvent): number {
  const t = Date.parse(e.lastTimestamp ?? e.firstTimestamp ?? '');
  return Number.isNaN(t) ? 0 : t;
}

function latest(events: ContainerEvent[]): ContainerEvent | undefined {
  return [...events].sort((a, b) => eventTime(b) - eventTime(a))[0];
}

function describe(e: ContainerEvent | undefined): string {
  if (!e) return '';
  return [e.name, e.message].filter(Boolean).join(': ');
}

function pullFailure(group: ContainerGroupView): string | undefined {
  const candidates: Array<{ e: ContainerEvent; c?: ContainerView }> = [
    ...group.events.map((e) => ({ e })),
    ...group.containers.flatMap((c) => c.events.map((e) => ({ e, c }))),
  ].filter(
    ({ e }) => PULL_FAILURE.test(`${e.name ?? ''} ${e.message ?? ''}`) && !/^pulling$/i.test(e.name ?? ''),
  );
  const newest = candidates.sort((a, b) => eventTime(b.e) - eventTime(a.e))[0];
  if (newest) return newest.e.message ?? newest.e.name ?? 'unknown error';
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

/**
 * @param maxRestarts a container restarted this many times is "crashed".
 */
export function diagnoseGroup(group: ContainerGroupView, maxRestarts: number): GroupDiagnosis {
  const pull = pullFailure(group);
  if (pull) return { phase: 'failed', reason: 'ImagePullFailed', message: `image pull failed: ${pull}` };

  for (const c of group.containers) {
    const restarts = c.restartCount ?? 0;
    if (restarts >= maxRestarts) {
      const code = exitCodeOf(c);
      const exit = code === undefined ? 'exited' : `exit code ${code}`;
      const names = group.containers.length > 1 ? ` (container ${c.name})` : '';
      return {
        phase: 'failed',
        reason: 'ContainerCrashed',
        message: `container crashed: ${exit}, restarted ${restarts} time${restarts === 1 ? '' : 's'}${names}`,
      };
    }
  }

  const prov = group.provisioningState;
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
  const last = describe(latest([...group.events, ...group.containers.flatMap((c) => c.events)]));
  if (last) parts.push(`last event: ${last}`);
  return { phase: 'pending', detail: parts.join(', ') };
}

/** Images of a group's containers that run the app image (for drift checks). */
export function imagesOf(group: ContainerGroupView): string[] {
  return group.containers.map((c) => c.image);
}
