import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  ERROR_CODE_TABLE,
  NotFoundError,
  TerminalError,
  TransientError,
  classifyAzureError,
  toDomainError,
} from '../../../src/domain/errors.js';
import { diagnoseGroup } from '../../../src/domain/groupDiagnosis.js';
import type { ContainerGroupView } from '../../../src/domain/ports.js';
import {
  checkNotDowngrade,
  checkTagAllowed,
  digestOfImage,
  tagOfImage,
} from '../../../src/domain/tagPolicy.js';

describe('error classification', () => {
  it.each([
    [{ statusCode: 429 }, TransientError, true],
    [{ statusCode: 429, code: 'Throttled' }, TransientError, true],
    [{ statusCode: 503, code: 'ServiceUnavailable' }, TransientError, false],
    [{ statusCode: 500 }, TransientError, false],
    [{ statusCode: 408 }, TransientError, false],
    [{ code: 'ECONNRESET' }, TransientError, false],
    [{}, TransientError, false],
    [{ statusCode: 409, code: 'ContainerGroupTransitioning' }, TransientError, false],
    [{ statusCode: 403, code: 'AuthorizationFailed' }, TransientError, false],
    [{ statusCode: 400, code: 'InvalidParameter' }, TerminalError, false],
    [{ statusCode: 400, code: 'SomethingNew' }, TerminalError, false],
    [{ statusCode: 403, code: 'Forbidden' }, TerminalError, false],
    [{ statusCode: 409, code: 'Conflict' }, TerminalError, false],
    [{ statusCode: 404, code: 'ResourceNotFound' }, NotFoundError, false],
    [{ statusCode: 404, code: 'SecretNotFound' }, NotFoundError, false],
    [{ statusCode: 412, code: 'UpdateConditionNotSatisfied' }, ConflictError, false],
    [{ statusCode: 409, code: 'EntityAlreadyExists' }, ConflictError, false],
  ])('%j → %s', (info, type, throttled) => {
    const e = toDomainError('op', { ...info, message: 'm' });
    expect(e).toBeInstanceOf(type);
    if (e instanceof TransientError) expect(e.throttled).toBe(throttled);
    expect(e.message).toContain('op: ');
  });

  it('keeps Retry-After and names status and code', () => {
    const e = toDomainError('PUT secret', {
      statusCode: 429,
      code: 'Throttled',
      message: 'slow down',
      retryAfterMs: 2000,
    }) as TransientError;
    expect(e.retryAfterMs).toBe(2000);
    expect(e.message).toBe('PUT secret: 429 Throttled: slow down');
    expect(e.statusCode).toBe(429);
  });

  it('unknown codes follow the status: 400 terminal, others retryable', () => {
    expect(classifyAzureError({ statusCode: 400, code: 'Whatever' }).class).toBe('terminal');
    expect(classifyAzureError({ statusCode: 502, code: 'Whatever' }).class).toBe('retryable');
    expect(Object.values(ERROR_CODE_TABLE).every((r) => r.note.length > 0)).toBe(true);
  });
});

describe('tag policy', () => {
  const semverPolicy = {
    type: 'semver' as const,
    range: '>=1.0.0 <3',
    allowDowngrade: false,
    includePrerelease: false,
  };
  const regexPolicy = {
    type: 'regex' as const,
    pattern: '',
    order: 'pushTime' as const,
    allowDowngrade: false,
  };
  const anyPolicy = { type: 'any' as const, order: 'pushTime' as const, allowDowngrade: false };
  it('semver range, regex (whole tag), any', () => {
    expect(checkTagAllowed(semverPolicy, '1.2.3')).toEqual({ allowed: true });
    expect(checkTagAllowed(semverPolicy, 'v1.2.3')).toEqual({ allowed: true });
    expect(checkTagAllowed(semverPolicy, '3.0.0')).toEqual({
      allowed: false,
      reason: 'tag "3.0.0" is outside the semver range >=1.0.0 <3',
    });
    expect(checkTagAllowed(semverPolicy, '2.0.0-rc.1').allowed).toBe(false);
    expect(checkTagAllowed({ ...semverPolicy, includePrerelease: true }, '2.0.0-rc.1').allowed).toBe(true);
    expect(checkTagAllowed({ ...regexPolicy, pattern: 'main-[0-9a-f]{7}' }, 'main-abc1234').allowed).toBe(
      true,
    );
    expect(checkTagAllowed({ ...regexPolicy, pattern: 'main-[0-9a-f]{7}' }, 'xmain-abc1234').allowed).toBe(
      false,
    );
    expect(checkTagAllowed(anyPolicy, 'anything').allowed).toBe(true);
  });

  it('downgrade protection against active / in-flight / queued, unless forced or allowed', () => {
    const against = [
      { label: 'active', tag: '1.2.0' },
      { label: 'in-flight', tag: '1.3.0' },
    ];
    expect(checkNotDowngrade(semverPolicy, false, '1.2.5', against)).toEqual({
      allowed: false,
      reason: 'stale: 1.2.5 is lower than the in-flight version 1.3.0',
    });
    expect(checkNotDowngrade(semverPolicy, false, '1.3.0', against).allowed).toBe(true);
    expect(checkNotDowngrade(semverPolicy, true, '1.0.0', against).allowed).toBe(true);
    expect(
      checkNotDowngrade({ ...semverPolicy, allowDowngrade: true }, false, '1.0.0', against).allowed,
    ).toBe(true);
    expect(checkNotDowngrade(anyPolicy, false, '0.1', against).allowed).toBe(true);
    expect(
      checkNotDowngrade(semverPolicy, false, '1.0.0', [{ label: 'active', tag: 'latest' }]).allowed,
    ).toBe(true);
  });

  it('reads tags and digests from image references', () => {
    expect(tagOfImage('contoso.azurecr.io:443/team/web:1.2.0')).toBe('1.2.0');
    expect(tagOfImage('contoso.azurecr.io:443/team/web')).toBeUndefined();
    expect(tagOfImage(`contoso.azurecr.io/web@sha256:${'a'.repeat(64)}`)).toBeUndefined();
    expect(digestOfImage(`contoso.azurecr.io/web@sha256:${'a'.repeat(64)}`)).toBe(`sha256:${'a'.repeat(64)}`);
  });
});

describe('group diagnosis', () => {
  const base = (over: Partial<ContainerGroupView>): ContainerGroupView => ({
    name: 'web-green',
    resourceGroup: 'rg',
    tags: {},
    provisioningState: 'Succeeded',
    state: 'Running',
    ip: '10.0.0.9',
    events: [],
    containers: [
      { name: 'web', image: 'i', restartCount: 0, currentState: { state: 'Running' }, events: [] },
    ],
    ...over,
  });

  it('running needs provisioning Succeeded, state Running, every container Running and an IP', () => {
    expect(diagnoseGroup(base({}), 3)).toEqual({ phase: 'running', ip: '10.0.0.9' });
    expect(diagnoseGroup(base({ ip: undefined }), 3).phase).toBe('pending');
    expect(diagnoseGroup(base({ provisioningState: 'Creating', state: 'Pending' }), 3)).toEqual({
      phase: 'pending',
      detail: 'provisioningState Creating, state Pending',
    });
  });

  it('names pull failures, crashes, exits and provisioning failures in words', () => {
    // A pull error in the container state alone is final only once provisioning failed: ACI retries pulls
    // (issue 10; this expectation changed from "failed at once").
    const waiting = {
      name: 'web',
      image: 'i',
      currentState: { state: 'Waiting', detailStatus: 'ImagePullBackOff' },
      events: [],
    };
    expect(diagnoseGroup(base({ containers: [waiting] }), 3)).toMatchObject({ phase: 'pending' });
    expect(diagnoseGroup(base({ provisioningState: 'Failed', containers: [waiting] }), 3)).toEqual({
      phase: 'failed',
      reason: 'ImagePullFailed',
      message: 'image pull failed: ImagePullBackOff',
    });
    expect(
      diagnoseGroup(
        base({
          containers: [
            {
              name: 'web',
              image: 'i',
              restartCount: 4,
              currentState: { state: 'Waiting', detailStatus: 'CrashLoopBackOff' },
              previousState: { state: 'Terminated', exitCode: 137 },
              events: [],
            },
          ],
        }),
        3,
      ),
    ).toEqual({
      phase: 'failed',
      reason: 'ContainerCrashed',
      message: 'container crashed: exit code 137, restarted 4 times',
    });
    expect(
      diagnoseGroup(
        base({
          provisioningState: 'Failed',
          events: [{ name: 'Failed', message: 'subnet full', lastTimestamp: '2026-01-01T00:00:00Z' }],
        }),
        3,
      ),
    ).toEqual({
      phase: 'failed',
      reason: 'ProvisioningFailed',
      message: 'provisioning failed: Failed: subnet full',
    });
    expect(diagnoseGroup(base({ state: 'Stopped' }), 3)).toMatchObject({
      phase: 'failed',
      reason: 'ContainerExited',
    });
  });
});
