/**
 * Issue 10 part 2 end to end: ACI retries image pulls, so a pull failure is final only when Azure says so. On the
 * local stack (emulator, Azurite, the host running the built app), pushes with the emulator's behaviours:
 * - `pull-failure-then-ok:2`: the first two pull attempts fail (401, as while a new pull identity's AcrPull
 *   assignment propagates), then the image pulls. The group keeps its Failed events (count 2) next to Pulled and
 *   Started, and the rollout succeeds: the old rule (newest pull-failure event = final) failed it for good.
 * - `pull-failure-then-ok:100` with `pullFailureGraceSeconds: 2`: failing for longer than the grace is final
 *   although ACI is still retrying (provisioningState Creating).
 * - `pull-failure`: ACI gives up (provisioningState Failed): still a failure, with the pull error as reason.
 */
import { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { DefaultAzureCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useManagedIdentity } from '../support/emulator.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { RG, SUB, fastApp, testSubnetId } from '../support/fastApp.js';
import { sleep } from '../../support/waiting.js';

// A subnet of this file's own (each subnet is its own 127.x range): parallel test files use the sample's.
const SUBNET_ID = testSubnetId('pullretry-it');

interface RolloutView {
  state: string;
  step: string;
  digest: string;
  error: string | null;
  reason: string | null;
}
interface AppStatusView {
  digest: string | null;
  activeGroup: string | null;
  rollout: RolloutView | null;
}

describe('image pulls ACI retries (issue 10 part 2)', () => {
  let stack: TestStack;
  let restoreIdentity: () => void;
  let aci: ContainerInstanceManagementClient;

  beforeAll(async () => {
    stack = await startTestStack({
      appsConfig: ({ vaultUrl }) => ({
        apps: [
          fastApp('retry', { subnetId: SUBNET_ID, vaultUrl: vaultUrl('kv-apps') }),
          fastApp('stuck', {
            subnetId: SUBNET_ID,
            vaultUrl: vaultUrl('kv-apps'),
            extra: { pullFailureGraceSeconds: 2 },
          }),
          fastApp('gone', { subnetId: SUBNET_ID, vaultUrl: vaultUrl('kv-apps') }),
        ],
      }),
      env: { STATUS_CACHE_SECONDS: '0' },
    });
    restoreIdentity = useManagedIdentity(stack.emulator);
    aci = new ContainerInstanceManagementClient(new DefaultAzureCredential(), SUB, {
      endpoint: stack.emulator.url,
      credentialScopes: ['https://management.azure.com/.default'],
    });
  });
  afterAll(async () => {
    restoreIdentity?.();
    await stack?.stop();
  });

  const push = async (repository: string, tag: string, behavior: string): Promise<string> => {
    const res = await stack.emulator.control<{ digest: string }>(
      'POST',
      '/_emulator/registries/contoso/push',
      {
        repository,
        tag,
        behavior,
      },
    );
    expect(res.status).toBe(200);
    return res.body.digest;
  };

  /** The app's status once the rollout of `digest` has an outcome. */
  const outcome = async (name: string, digest: string, timeoutMs = 60_000): Promise<AppStatusView> => {
    const deadline = Date.now() + timeoutMs;
    let last = 'no status yet';
    while (Date.now() < deadline) {
      const res = await stack.call(`/api/status/${name}`);
      if (res.status === 200) {
        const s = (await res.json()) as AppStatusView;
        last = JSON.stringify(s.rollout);
        if (s.rollout?.digest === digest && s.rollout.state !== 'inProgress') return s;
      } else last = `status ${res.status}`;
      await sleep(250);
    }
    throw new Error(`the rollout of ${name} ${digest.slice(7, 19)} did not finish (last: ${last})`);
  };

  it('pull-failure-then-ok:2 deploys; the failed attempts stay in the events before Pulled and Started', async () => {
    const digest = await push('retry', '1.0.0', 'pull-failure-then-ok:2');
    const s = await outcome('retry', digest);
    expect(s.rollout, String(s.rollout?.error)).toMatchObject({ state: 'succeeded', digest });
    expect(s).toMatchObject({ digest, activeGroup: 'retry-blue' });

    const group = await aci.containerGroups.get(RG, 'retry-blue');
    expect(group.provisioningState).toBe('Succeeded');
    const events = group.containers[0]!.instanceView!.events!;
    const byName = Object.fromEntries(events.map((e) => [e.name!, e]));
    expect(byName['Pulling']).toMatchObject({ count: 3, type: 'Normal' });
    expect(byName['Failed']).toMatchObject({ count: 2, type: 'Warning' });
    expect(byName['Failed']!.message).toMatch(/^Failed to pull image ".*": rpc error: .*401 Unauthorized$/);
    expect(byName['BackOff']).toMatchObject({
      count: 2,
      message: expect.stringMatching(/^Back-off pulling image/),
    });
    expect(byName['Pulled']).toMatchObject({ count: 1 });
    expect(byName['Started']).toMatchObject({ count: 1 });
    // ACI's order: the retries first, then the pull that worked.
    expect(events.map((e) => e.name)).toEqual(['Pulling', 'Failed', 'BackOff', 'Pulled', 'Started']);
    expect(byName['Pulled']!.lastTimestamp!.getTime()).toBeGreaterThanOrEqual(
      byName['Failed']!.lastTimestamp!.getTime(),
    );
  });

  it('a pull still failing after pullFailureGraceSeconds fails the rollout while ACI keeps retrying', async () => {
    const digest = await push('stuck', '1.0.0', 'pull-failure-then-ok:100');
    const s = await outcome('stuck', digest);
    expect(s.rollout).toMatchObject({ state: 'failed', reason: 'ImagePullFailed', step: 'waitingRunning' });
    expect(s.rollout?.error).toMatch(
      /^image pull failed: Failed to pull image ".*stuck@sha256:.*401 Unauthorized$/,
    );
    expect(s.activeGroup).toBeNull();
  });

  it('a pull ACI gives up on (provisioningState Failed) still fails the rollout, with the pull error', async () => {
    const digest = await push('gone', '1.0.0', 'pull-failure');
    const s = await outcome('gone', digest);
    expect(s.rollout).toMatchObject({ state: 'failed', reason: 'ImagePullFailed' });
    expect(s.rollout?.error).toMatch(
      /^image pull failed: Failed to pull image ".*gone@sha256:.*: not found$/,
    );
  });
});
