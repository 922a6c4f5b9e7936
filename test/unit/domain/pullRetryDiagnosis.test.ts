/**
 * Issue 10 part 2: a pull failure is final only when Azure says so. ACI retries pulls and keeps every event (with
 * count, firstTimestamp, lastTimestamp), so a Failed pull followed by Pulled/Started is not a failure; a failure
 * newer than the last success is final once the container has not run for `pullFailureGraceSeconds`, or at once
 * when provisioning failed.
 */
import { describe, expect, it } from 'vitest';
import { diagnoseGroup } from '../../../src/domain/groupDiagnosis.js';
import type { ContainerEvent, ContainerGroupView, ContainerView } from '../../../src/domain/ports.js';

const T = Date.parse('2026-12-01T10:00:00Z');
const at = (s: number) => new Date(T + s * 1000).toISOString();
const IMAGE = 'contoso.azurecr.io/web@sha256:' + 'a'.repeat(64);
const UNAUTHORIZED = `Failed to pull image "${IMAGE}": rpc error: code = Unknown desc = failed to pull and unpack image: failed to authorize: 401 Unauthorized`;

function ev(name: string, message: string, first: number, last = first, count = 1): ContainerEvent {
  return {
    name,
    message,
    type: name === 'Failed' ? 'Warning' : 'Normal',
    count,
    firstTimestamp: at(first),
    lastTimestamp: at(last),
  };
}

/** Two failed attempts (10 s and 30 s) with their back-offs. */
const failedTwice = [
  ev('Pulling', `pulling image "${IMAGE}"`, 0, 30, 2),
  ev('Failed', UNAUTHORIZED, 10, 30, 2),
  ev('BackOff', `Back-off pulling image "${IMAGE}"`, 10, 30, 2),
];

function container(state: string, events: ContainerEvent[], name = 'web'): ContainerView {
  return {
    name,
    image: IMAGE,
    restartCount: 0,
    currentState: { state, ...(state === 'Waiting' ? { detailStatus: 'ImagePullBackOff' } : {}) },
    events,
  };
}

function group(containers: ContainerView[], over: Partial<ContainerGroupView> = {}): ContainerGroupView {
  const running = containers.every((c) => c.currentState?.state === 'Running');
  return {
    name: 'web-green',
    resourceGroup: 'rg-apps',
    tags: {},
    provisioningState: running ? 'Succeeded' : 'Creating',
    state: running ? 'Running' : 'Pending',
    ...(running ? { ip: '10.0.0.9' } : {}),
    events: [],
    containers,
    ...over,
  };
}

const grace = (nowSeconds: number, graceSeconds = 300) => ({
  now: T + nowSeconds * 1000,
  graceMs: graceSeconds * 1000,
});

describe('pull failures ACI retried', () => {
  it('a transient failure followed by a successful pull is not final, even with no grace at all', () => {
    const events = [
      ...failedTwice,
      ev('Pulled', `Successfully pulled image "${IMAGE}"`, 45),
      ev('Started', 'Started container', 46),
    ];
    expect(diagnoseGroup(group([container('Running', events)]), 3, grace(600, 0))).toEqual({
      phase: 'running',
      ip: '10.0.0.9',
    });
    // Pulled but not started yet: still coming up, not failed.
    const d = diagnoseGroup(group([container('Waiting', events.slice(0, 4))]), 3, grace(600, 0));
    expect(d.phase).toBe('pending');
  });

  it('a failure newer than the last success is pending within the grace, with how long it has failed', () => {
    const d = diagnoseGroup(group([container('Waiting', failedTwice)]), 3, grace(70));
    expect(d).toEqual({
      phase: 'pending',
      detail: `provisioningState Creating, state Pending, container web Waiting (ImagePullBackOff), image pull failing for 60 s, ACI retries it (final after 300 s): ${UNAUTHORIZED}`,
    });
  });

  it('the same failure lasting past the grace is final, with the Failed event text (not the back-off)', () => {
    expect(diagnoseGroup(group([container('Waiting', failedTwice)]), 3, grace(310))).toEqual({
      phase: 'failed',
      reason: 'ImagePullFailed',
      message: `image pull failed: ${UNAUTHORIZED}`,
    });
    // The grace runs from the first failure: one second short of it is still pending.
    expect(diagnoseGroup(group([container('Waiting', failedTwice)]), 3, grace(309)).phase).toBe('pending');
  });

  it('after a success the grace runs from that success, even when the aggregated Failed event began before it', () => {
    // Failed at 10 s, pulled at 100 s, the container restarted and pulling failed again until 400 s: the Failed
    // event (count 3) says first 10 s, but the current failing streak cannot have begun before 100 s.
    const events = [
      ev('Pulling', `pulling image "${IMAGE}"`, 0, 400, 4),
      ev('Failed', UNAUTHORIZED, 10, 400, 3),
      ev('Pulled', `Successfully pulled image "${IMAGE}"`, 100),
    ];
    expect(diagnoseGroup(group([container('Waiting', events)]), 3, grace(399)).phase).toBe('pending');
    expect(diagnoseGroup(group([container('Waiting', events)]), 3, grace(400))).toMatchObject({
      phase: 'failed',
      reason: 'ImagePullFailed',
    });
  });

  it('provisioningState Failed makes a failing pull final at once', () => {
    const g = group([container('Waiting', failedTwice)], { provisioningState: 'Failed' });
    expect(diagnoseGroup(g, 3, grace(31))).toEqual({
      phase: 'failed',
      reason: 'ImagePullFailed',
      message: `image pull failed: ${UNAUTHORIZED}`,
    });
  });

  it("a crash loop's back-off is not a pull failure", () => {
    const events = [
      ev('Pulled', `Successfully pulled image "${IMAGE}"`, 1),
      ev('Started', 'Started container', 2, 40, 3),
      ev('BackOff', 'Back-off restarting failed container', 10, 45, 2),
    ];
    const d = diagnoseGroup(group([container('Waiting', events)]), 3, grace(1_000, 0));
    expect(d.phase).toBe('pending');
  });

  it('names the container whose pull fails while a sidecar runs', () => {
    const sidecar = container('Running', [ev('Started', 'Started container', 5)], 'proxy');
    const g = group([sidecar, container('Waiting', failedTwice)]);
    expect(diagnoseGroup(g, 3, grace(400))).toEqual({
      phase: 'failed',
      reason: 'ImagePullFailed',
      message: `image pull failed: ${UNAUTHORIZED} (container web)`,
    });
  });
});
