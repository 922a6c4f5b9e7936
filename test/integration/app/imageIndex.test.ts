/**
 * Issue 10 part 3 end to end: a push of an OCI image index (what `docker buildx build --platform … --push` writes,
 * attestations included) is deployed as the index's manifest for the app's platform. The app reads the index
 * through the registry's data plane with its managed identity (DefaultAzureCredential → ACR token exchange →
 * manifest), creates the group with the platform digest, keeps the pushed digest as the rollout's identity, and
 * shows both in status. On the local stack: emulator, Azurite, the host running the built app.
 */
import { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { DefaultAzureCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useManagedIdentity } from '../support/emulator.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { PORT, RG, SUB, fastApp, testSubnetId } from '../support/fastApp.js';
import { sleep } from '../../support/waiting.js';

// A subnet of this file's own (each subnet is its own 127.x range): parallel test files use the sample's.
const SUBNET_ID = testSubnetId('index-it');

const INDEX = 'application/vnd.oci.image.index.v1+json';

interface IndexPush {
  digest: string;
  mediaType: string;
  manifests: { platform: string; digest: string }[];
  attestations: string[];
}
interface AppStatusView {
  digest: string | null;
  platformDigest?: string;
  activeGroup: string | null;
  ip: string | null;
  rollout: {
    state: string;
    step: string;
    digest: string;
    platformDigest?: string;
    platform?: string;
    error: string | null;
    reason: string | null;
    timeline: { step: string; message: string }[];
  } | null;
  history: { digest: string; outcome: string }[];
  ignored: { digest: string; reason: string }[];
}
interface DeliveryView {
  subject: string;
  state: string;
  faults: string[];
  event: Record<string, unknown>;
}

describe('image index pushes (issue 10 part 3)', () => {
  let stack: TestStack;
  let restoreIdentity: () => void;
  let aci: ContainerInstanceManagementClient;

  beforeAll(async () => {
    stack = await startTestStack({
      appsConfig: ({ vaultUrl }) => ({
        apps: [
          fastApp('multi', { subnetId: SUBNET_ID, vaultUrl: vaultUrl('kv-apps') }),
          fastApp('armonly', { subnetId: SUBNET_ID, vaultUrl: vaultUrl('kv-apps') }),
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

  const pushIndex = async (repository: string, tag: string, platforms: string[]): Promise<IndexPush> => {
    const res = await stack.emulator.control<IndexPush>('POST', '/_emulator/registries/contoso/push', {
      repository,
      tag,
      platforms,
    });
    expect(res.status).toBe(200);
    return res.body;
  };

  const status = async (name: string): Promise<AppStatusView> => {
    const res = await stack.call(`/api/status/${name}`);
    expect(res.status).toBe(200);
    return (await res.json()) as AppStatusView;
  };

  /** The app's status once the rollout of `digest` has an outcome. */
  const outcome = async (name: string, digest: string, timeoutMs = 60_000): Promise<AppStatusView> => {
    const deadline = Date.now() + timeoutMs;
    let last = 'no status yet';
    while (Date.now() < deadline) {
      const s = await status(name);
      last = JSON.stringify(s.rollout);
      if (s.rollout?.digest === digest && s.rollout.state !== 'inProgress') return s;
      await sleep(250);
    }
    throw new Error(`the rollout of ${name} ${digest.slice(7, 19)} did not finish (last: ${last})`);
  };

  const operations = async (since: number) => (await stack.emulator.requestCounts(since)).counts;

  it('deploys the linux/amd64 manifest of a pushed index; status shows the pushed and the platform digest', async () => {
    const since = (await stack.emulator.requestCounts()).lastSeq;
    const pushed = await pushIndex('multi', '1.0.0', ['linux/amd64', 'linux/arm64']);
    expect(pushed.mediaType).toBe(INDEX);
    const amd64 = pushed.manifests.find((m) => m.platform === 'linux/amd64')!.digest;

    const s = await outcome('multi', pushed.digest);
    expect(s.rollout, String(s.rollout?.error)).toMatchObject({
      state: 'succeeded',
      digest: pushed.digest,
      platformDigest: amd64,
      platform: 'linux/amd64',
    });
    expect(s).toMatchObject({ digest: pushed.digest, platformDigest: amd64, activeGroup: 'multi-blue' });
    expect(s.rollout!.timeline.map((c) => c.message)).toContainEqual(
      `image index ${pushed.digest.slice(7, 19)}: deploying its linux/amd64 manifest ${amd64.slice(7, 19)}`,
    );

    // The group was created with the platform digest; the pushed (index) digest is its identity tag.
    const group = await aci.containerGroups.get(RG, 'multi-blue');
    expect(group.containers[0]!.image).toBe(`contoso.azurecr.io/multi@${amd64}`);
    expect(group.tags?.['digest']).toBe(pushed.digest);
    // The running container is that image.
    const answer = (await (await fetch(`http://${s.ip}:${PORT}/`)).json()) as { digest: string };
    expect(answer.digest).toBe(amd64);

    // The app read the index once through the data plane, with ACR's token exchange.
    const counts = await operations(since);
    expect(counts['Authentication_ExchangeAadAccessTokenForAcrRefreshToken']).toBe(1);
    expect(counts['Authentication_ExchangeAcrRefreshTokenForAcrAccessToken']).toBe(1);
    expect(counts['Manifests_Get']).toBe(1);
  });

  it('a duplicate delivery of the index push is still one rollout', async () => {
    const fault = await stack.emulator.control<{ id: string }>('POST', '/_emulator/eventgrid/faults', {
      kind: 'duplicate',
      times: 2,
      count: 1,
      match: { subjectBeginsWith: 'multi:1.1.0' },
    });
    expect(fault.status).toBe(201);
    const since = (await stack.emulator.requestCounts()).lastSeq;
    let pushed: IndexPush;
    try {
      pushed = await pushIndex('multi', '1.1.0', ['linux/amd64', 'linux/arm64']);
    } finally {
      await stack.emulator.control('DELETE', `/_emulator/eventgrid/faults/${fault.body.id}`);
    }
    const s = await outcome('multi', pushed.digest);
    expect(s.rollout).toMatchObject({ state: 'succeeded', digest: pushed.digest });

    // Both copies delivered and answered; one of them was ignored as a duplicate of the index digest.
    let deliveries: DeliveryView[] = [];
    let ignored: AppStatusView['ignored'] = [];
    for (let i = 0; i < 80; i++) {
      const res = await stack.emulator.control<{ value: DeliveryView[] }>(
        'GET',
        '/_emulator/eventgrid/deliveries',
      );
      deliveries = res.body.value.filter((d) => d.subject === 'multi:1.1.0');
      ignored = (await status('multi')).ignored.filter((x) => x.digest === pushed.digest);
      if (deliveries.length === 2 && deliveries.every((d) => d.state === 'delivered') && ignored.length > 0)
        break;
      await sleep(250);
    }
    expect(deliveries.map((d) => d.faults)).toEqual([['duplicate'], ['duplicate']]);
    expect(ignored[0]!.reason).toMatch(/^duplicate: digest/);

    // Event Grid may also redeliver long after (a timed-out delivery): the finished rollout's pushed digest
    // still identifies it, although the group runs the platform digest.
    const late = await fetch(
      `${stack.host.baseUrl}/runtime/webhooks/eventgrid?functionName=onImagePushed&code=${stack.host.systemKey}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
        body: JSON.stringify([deliveries[0]!.event]),
      },
    );
    expect(late.status).toBe(202);
    const after = await status('multi');
    expect(after.rollout).toMatchObject({ digest: pushed.digest, state: 'succeeded' });
    const counts = await operations(since);
    expect(counts['ContainerGroups_CreateOrUpdate']).toBe(1);
    expect((await status('multi')).history.filter((h) => h.digest === pushed.digest)).toHaveLength(1);
  });

  it('an index without the app platform fails at once, naming the platforms it has; nothing is created', async () => {
    const since = (await stack.emulator.requestCounts()).lastSeq;
    const pushed = await pushIndex('armonly', '1.0.0', ['linux/arm64', 'linux/arm/v7']);
    const s = await outcome('armonly', pushed.digest);
    expect(s.rollout).toMatchObject({ state: 'failed', reason: 'PlatformNotFound', step: 'creating' });
    expect(s.rollout?.error).toContain(
      'the image index has no manifest for linux/amd64; it has linux/arm64, linux/arm/v7',
    );
    expect(s.rollout?.error).toContain('set template.platform');
    expect((await operations(since))['ContainerGroups_CreateOrUpdate']).toBeUndefined();
  });
});
