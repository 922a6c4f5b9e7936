import {
  ContainerInstanceManagementClient,
  type ContainerGroup,
  type ContainerGroupsCreateOrUpdateResponse,
} from '@azure/arm-containerinstance';
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../support/waiting.js';
import { startTestEmulator, useManagedIdentity, type TestEmulator } from '../support/emulator.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const RG = 'rg-aci-it';
const SUBNET = `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-aci-it/subnets/aci`;
const PULL_ID = `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-acr-pull`;
const ARM_SCOPE = 'https://management.azure.com/.default';
const POLL = { updateIntervalInMs: 100 };

function groupBody(image: string, overrides: Partial<ContainerGroup> = {}): ContainerGroup {
  return {
    location: 'westeurope',
    osType: 'Linux',
    restartPolicy: 'Always',
    identity: { type: 'UserAssigned', userAssignedIdentities: { [PULL_ID]: {} } },
    imageRegistryCredentials: [{ server: 'contoso.azurecr.io', identity: PULL_ID }],
    subnetIds: [{ id: SUBNET }],
    ipAddress: { type: 'Private', ports: [{ port: 8080, protocol: 'TCP' }] },
    containers: [
      {
        name: 'web',
        image,
        ports: [{ port: 8080 }],
        resources: { requests: { cpu: 0.5, memoryInGB: 1 } },
        environmentVariables: [
          { name: 'LOG_LEVEL', value: 'info' },
          { name: 'DB_PASSWORD', secureValue: 's3cret-value' },
        ],
      },
    ],
    ...overrides,
  };
}

/** A fetch that must fail because nothing listens there any more. */
async function expectRefused(url: string): Promise<void> {
  const err = await fetch(url, { signal: AbortSignal.timeout(3000) }).then(
    () => undefined,
    (e: unknown) => e as Error & { cause?: { code?: string } },
  );
  expect(err, `${url} should refuse connections`).toBeDefined();
  expect(err?.cause?.code).toBe('ECONNREFUSED');
}

/**
 * A fetch that must get no HTTP answer because the container does not listen (yet): the group holds its address
 * and resets each connection (ECONNRESET, or undici's "other side closed") instead of letting anyone else bind it.
 */
async function expectReset(url: string): Promise<void> {
  const err = await fetch(url, { signal: AbortSignal.timeout(3000) }).then(
    (res) => new Error(`answered ${res.status}`),
    (e: unknown) => e as Error,
  );
  const code = (err.cause as { code?: string } | undefined)?.code;
  expect(err.message, `${url} should not answer`).toBe('fetch failed');
  expect(['ECONNRESET', 'UND_ERR_SOCKET'], `${url}: ${String(code)}`).toContain(code);
}

/** The degrade:N image's healthy seconds: long enough to see it healthy right after the create's LRO ends. */
const DEGRADE_SECONDS = 4;

// The emulator answers fast: poll often, give up after 10 s.
const QUICK = { timeoutMs: 10_000, intervalMs: 50 };

describe('emulator: Azure Container Instances through @azure/arm-containerinstance', () => {
  let emulator: TestEmulator;
  let restoreEnv: () => void;
  let credential: DefaultAzureCredential;
  let client: ContainerInstanceManagementClient;
  let armToken: string;
  const digests: Record<string, string> = {};

  const push = async (repository: string, tag: string, behavior?: unknown) => {
    const res = await emulator.control<{ digest: string }>('POST', '/_emulator/registries/contoso/push', {
      repository,
      tag,
      ...(behavior ? { behavior } : {}),
    });
    expect(res.status).toBe(200);
    digests[`${repository}:${tag}`] = res.body.digest;
    return res.body.digest;
  };

  const armFetch = (path: string, init: RequestInit = {}) =>
    fetch(`${emulator.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${armToken}`, 'content-type': 'application/json', ...init.headers },
    });

  const groupPath = (name: string, rg = RG) =>
    `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.ContainerInstance/containerGroups/${name}`;

  const create = (
    name: string,
    body: ContainerGroup,
    rg = RG,
  ): Promise<ContainerGroupsCreateOrUpdateResponse> =>
    client.containerGroups.beginCreateOrUpdateAndWait(rg, name, body, POLL);

  beforeAll(async () => {
    emulator = await startTestEmulator({
      pageSize: { containerGroups: 2 },
      timings: { provisioningStepMs: 300, lroRetryAfterSeconds: 0 },
    });
    restoreEnv = useManagedIdentity(emulator);
    credential = new DefaultAzureCredential();
    client = new ContainerInstanceManagementClient(credential, SUB, {
      endpoint: emulator.url,
      credentialScopes: [ARM_SCOPE],
    });
    armToken = (await credential.getToken(ARM_SCOPE)).token;
    await push('web', '1.0.0');
    await push('web', '1.1.0');
    await push('worker', 'crash', 'crash');
    await push('web', 'sick', 'unhealthy');
    await push('web', 'slow', { mode: 'healthy', startDelaySeconds: 2 });
    await push('web', 'degrade', `degrade:${DEGRADE_SECONDS}`);
  });

  afterAll(async () => {
    restoreEnv();
    await emulator.close();
  });

  it('creates a group as an LRO through Pending and Creating; the running group answers HTTP on its private IP', async () => {
    const seen = new Set<string>();
    let done = false;
    const watcher = (async () => {
      while (!done) {
        const g = await client.containerGroups.get(RG, 'web-blue').catch(() => undefined);
        if (g?.provisioningState) seen.add(g.provisioningState);
        await sleep(30);
      }
    })();
    const image = `contoso.azurecr.io/web@${digests['web:1.0.0']}`;
    const created = await create('web-blue', groupBody(image, { tags: { app: 'web', color: 'blue' } }));
    done = true;
    await watcher;

    expect([...seen]).toEqual(expect.arrayContaining(['Pending', 'Creating']));
    expect(created.provisioningState).toBe('Succeeded');
    expect(created.instanceView?.state).toBe('Running');
    const ip = created.ipAddress?.ip;
    expect(ip).toMatch(/^127\.(1\d\d)\.\d{1,3}\.([4-9]|\d\d+)$/);
    expect(created.tags).toEqual({ app: 'web', color: 'blue' });
    const uai = created.identity?.userAssignedIdentities?.[PULL_ID];
    expect(uai?.principalId).toMatch(/^[0-9a-f-]{36}$/);
    expect(uai?.clientId).toMatch(/^[0-9a-f-]{36}$/);

    const container = created.containers[0]!;
    expect(container.instanceView?.currentState?.state).toBe('Running');
    expect(container.instanceView?.restartCount).toBe(0);
    expect(container.instanceView?.events?.map((e) => e.name)).toEqual(['Pulling', 'Pulled', 'Started']);

    const res = await fetch(`http://${ip}:8080/anything?x=1`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      group: 'web-blue',
      image,
      digest: digests['web:1.0.0'],
      tag: '1.0.0',
      ip,
      port: 8080,
      path: '/anything?x=1',
    });
  });

  it('never returns secure environment values or registry passwords', async () => {
    await create(
      'with-secrets',
      groupBody('mcr.microsoft.com/azuredocs/aci-helloworld:latest', {
        imageRegistryCredentials: [
          { server: 'other.example.com', username: 'bot', password: 'p4ssw0rd-value' },
        ],
      }),
    );
    const raw = await armFetch(`${groupPath('with-secrets')}?api-version=2023-05-01`);
    const text = await raw.text();
    expect(raw.status).toBe(200);
    expect(text).not.toContain('s3cret-value');
    expect(text).not.toContain('p4ssw0rd-value');
    const g = JSON.parse(text) as {
      properties: { containers: { properties: { environmentVariables: unknown[] } }[] };
    };
    expect(g.properties.containers[0]!.properties.environmentVariables).toEqual([
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'DB_PASSWORD' },
    ]);
  });

  it('gets a group, 404s a missing one with ARM ResourceNotFound, and PATCHes tags synchronously', async () => {
    const g = await client.containerGroups.get(RG, 'web-blue');
    expect(g.name).toBe('web-blue');
    expect(g.id).toBe(groupPath('web-blue'));

    const missing = await client.containerGroups.get(RG, 'nope').catch((e: unknown) => e);
    expect(missing).toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });

    const patched = await client.containerGroups.update(RG, 'web-blue', {
      tags: { app: 'web', color: 'green' },
    });
    expect(patched.tags).toEqual({ app: 'web', color: 'green' });
    expect((await client.containerGroups.get(RG, 'web-blue')).tags).toEqual({ app: 'web', color: 'green' });
  });

  it('lists by resource group and by subscription across at least 3 pages with absolute nextLinks', async () => {
    const seeded = await emulator.control<{ created: { name: string; ip: string }[] }>(
      'POST',
      '/_emulator/containerGroups/seed',
      {
        resourceGroup: 'rg-paging',
        count: 5,
        namePrefix: 'page',
        subnetId: SUBNET,
        listen: false,
        tags: { 'ip-secret': 'x' },
      },
    );
    expect(seeded.status).toBe(201);
    expect(seeded.body.created).toHaveLength(5);
    expect(new Set(seeded.body.created.map((c) => c.ip)).size).toBe(5);
    // Like an Azure /24, an emulated subnet holds at most 251 groups: the seed refuses more up front.
    const tooMany = await emulator.control<{ code: string }>('POST', '/_emulator/containerGroups/seed', {
      resourceGroup: 'rg-paging',
      count: 250,
      namePrefix: 'overflow',
      subnetId: SUBNET,
      listen: false,
    });
    expect(tooMany).toMatchObject({ status: 409, body: { code: 'InsufficientSubnetSize' } });

    const before = await emulator.requestCounts();
    const byRg: ContainerGroup[] = [];
    for await (const g of client.containerGroups.listByResourceGroup('rg-paging')) byRg.push(g);
    expect(byRg.map((g) => g.name).sort()).toEqual(['page-1', 'page-2', 'page-3', 'page-4', 'page-5']);
    expect(byRg.every((g) => g.ipAddress?.ip && g.instanceView === undefined)).toBe(true);
    const all: ContainerGroup[] = [];
    for await (const g of client.containerGroups.list()) all.push(g);
    expect(all.length).toBeGreaterThanOrEqual(7);
    const counts = (await emulator.requestCounts(before.lastSeq)).counts;
    expect(counts['ContainerGroups_ListByResourceGroup']).toBe(3);
    expect(counts['ContainerGroups_List']).toBeGreaterThanOrEqual(4);

    const page = await armFetch(
      `/subscriptions/${SUB}/resourceGroups/rg-paging/providers/Microsoft.ContainerInstance/containerGroups?api-version=2023-05-01`,
    );
    const body = (await page.json()) as { value: unknown[]; nextLink: string };
    expect(body.value).toHaveLength(2);
    expect(body.nextLink).toMatch(
      /^https:\/\/127\.0\.0\.1:\d+\/subscriptions\/.*api-version=2023-05-01&\$skipToken=/,
    );
  });

  it('stop answers 204 and releases the IP; start and restart LROs bring the group back on a new IP', async () => {
    const name = 'cycle';
    const first = (await create(name, groupBody(`contoso.azurecr.io/web:1.0.0`))).ipAddress!.ip!;
    expect((await fetch(`http://${first}:8080/`)).status).toBe(200);

    await client.containerGroups.stop(RG, name);
    const stopped = await client.containerGroups.get(RG, name);
    expect(stopped.instanceView?.state).toBe('Stopped');
    expect(stopped.ipAddress?.ip).toBeUndefined();
    await expectRefused(`http://${first}:8080/`);

    await client.containerGroups.beginStartAndWait(RG, name, POLL);
    const started = await client.containerGroups.get(RG, name);
    expect(started.instanceView?.state).toBe('Running');
    const second = started.ipAddress!.ip!;
    expect(second).not.toBe(first);
    expect((await fetch(`http://${second}:8080/`)).status).toBe(200);

    await client.containerGroups.beginRestartAndWait(RG, name, POLL);
    const restarted = await client.containerGroups.get(RG, name);
    const third = restarted.ipAddress!.ip!;
    expect(third).not.toBe(second);
    expect((await fetch(`http://${third}:8080/`)).status).toBe(200);
    await expectRefused(`http://${second}:8080/`);
  });

  it('maintenance moves a running group to a new IP; the old one refuses connections', async () => {
    const name = 'moved';
    const ip = (await create(name, groupBody('contoso.azurecr.io/web:1.0.0'))).ipAddress!.ip!;
    expect((await fetch(`http://${ip}:8080/healthz`)).status).toBe(200);

    const moved = await emulator.control<{ oldIp: string; newIp: string }>('POST', '/_emulator/maintenance', {
      resourceGroup: RG,
      name,
    });
    expect(moved.status).toBe(200);
    expect(moved.body.oldIp).toBe(ip);
    expect(moved.body.newIp).not.toBe(ip);
    const res = await fetch(`http://${moved.body.newIp}:8080/healthz`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { ip: string }).ip).toBe(moved.body.newIp);
    await expectRefused(`http://${ip}:8080/healthz`);

    const g = await client.containerGroups.get(RG, name);
    expect(g.ipAddress?.ip).toBe(moved.body.newIp);
    expect(g.instanceView?.events?.some((e) => e.name === 'HostMaintenance' && e.message?.includes(ip))).toBe(
      true,
    );

    const restarted = await emulator.control<{ oldIp: string; newIp: string }>('POST', '/_emulator/restart', {
      resourceGroup: RG,
      name,
    });
    expect(restarted.body.oldIp).toBe(moved.body.newIp);
    expect(restarted.body.newIp).not.toBe(moved.body.newIp);
    await expectRefused(`http://${moved.body.newIp}:8080/`);
    expect((await fetch(`http://${restarted.body.newIp}:8080/`)).status).toBe(200);
  });

  it('redeploys on a PUT that changes the image (same IP, new digest) and refuses immutable changes', async () => {
    const name = 'updated';
    const ip = (await create(name, groupBody('contoso.azurecr.io/web:1.0.0'))).ipAddress!.ip!;
    const raw = await armFetch(`${groupPath(name)}?api-version=2023-05-01`, {
      method: 'PUT',
      body: JSON.stringify({
        location: 'westeurope',
        identity: { type: 'UserAssigned', userAssignedIdentities: { [PULL_ID]: {} } },
        properties: {
          osType: 'Linux',
          restartPolicy: 'Always',
          imageRegistryCredentials: [{ server: 'contoso.azurecr.io', identity: PULL_ID }],
          subnetIds: [{ id: SUBNET }],
          ipAddress: { type: 'Private', ports: [{ port: 8080 }] },
          containers: [
            {
              name: 'web',
              properties: {
                image: 'contoso.azurecr.io/web:1.1.0',
                ports: [{ port: 8080 }],
                resources: { requests: { cpu: 0.5, memoryInGB: 1 } },
              },
            },
          ],
        },
      }),
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('azure-asyncoperation')).toMatch(
      /\/subscriptions\/.+\/providers\/Microsoft\.ContainerInstance\/locations\/westeurope\/operations\/[0-9a-f-]+\?api-version=2018-06-01$/,
    );
    const opUrl = raw.headers.get('azure-asyncoperation')!;
    const status = await waitFor(
      'the update operation to leave Pending',
      async () => {
        const op = (await (await armFetch(opUrl.replace(/^https:\/\/[^/]+/, ''))).json()) as {
          status: string;
        };
        return op.status === 'Pending' ? undefined : op;
      },
      QUICK,
    );
    // ACI's operation status as the Azure CLI's recordings show it: the group's id, no name, the containers' events.
    expect(status).toEqual({
      id: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerInstance/containerGroups/${name}`,
      status: 'Succeeded',
      startTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
      properties: {
        events: expect.arrayContaining([
          expect.objectContaining({
            name: 'Pulled',
            message: 'Successfully pulled image "contoso.azurecr.io/web:1.1.0"',
          }),
        ]) as unknown,
      },
    });
    const res = await fetch(`http://${ip}:8080/`);
    expect(((await res.json()) as { digest: string }).digest).toBe(digests['web:1.1.0']);

    const immutable = await client.containerGroups
      .beginCreateOrUpdateAndWait(
        RG,
        name,
        groupBody('contoso.azurecr.io/web:1.1.0', { restartPolicy: 'Never' }),
        POLL,
      )
      .catch((e: unknown) => e);
    expect(immutable).toMatchObject({ statusCode: 400, code: 'InvalidContainerGroupUpdate' });
  });

  it('deletes a group as an LRO; deleting a missing group succeeds (204)', async () => {
    const listedNames = async () => {
      const names: string[] = [];
      for await (const g of client.containerGroups.listByResourceGroup(RG)) names.push(g.name!);
      return names;
    };
    // The emulator keeps its listing between calls: a listing made before the create must not hide it.
    expect(await listedNames()).not.toContain('doomed');
    const ip = (await create('doomed', groupBody('contoso.azurecr.io/web:1.0.0'))).ipAddress!.ip!;
    expect(await listedNames()).toContain('doomed');
    await client.containerGroups.beginDeleteAndWait(RG, 'doomed', POLL);
    expect(await listedNames()).not.toContain('doomed');
    const gone = await client.containerGroups.get(RG, 'doomed').catch((e: unknown) => e);
    expect(gone).toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
    await expectRefused(`http://${ip}:8080/`);
    const again = await armFetch(`${groupPath('doomed')}?api-version=2023-05-01`, { method: 'DELETE' });
    expect(again.status).toBe(204);
  });

  it('fails a create whose image cannot be pulled, naming the cause', async () => {
    const image = 'contoso.azurecr.io/web:does-not-exist';
    const err = (await create('pull-missing', groupBody(image)).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('InaccessibleImage');
    expect(err.message).toContain(`Failed to pull image "${image}"`);
    expect(err.message).toContain('not found');

    const g = await client.containerGroups.get(RG, 'pull-missing');
    expect(g.provisioningState).toBe('Failed');
    expect(g.ipAddress?.ip).toBeUndefined();
    const view = g.containers[0]!.instanceView!;
    expect(view.currentState?.state).toBe('Waiting');
    expect(view.events?.map((e) => e.name)).toEqual(['Pulling', 'Failed']);
    expect(view.events?.[1]?.message).toContain('not found');

    const noCreds = (await create(
      'pull-unauthorized',
      groupBody('contoso.azurecr.io/web:1.0.0', { imageRegistryCredentials: [], identity: undefined }),
    ).catch((e: unknown) => e)) as Error;
    expect(noCreds.message).toContain('401 Unauthorized');

    // A network-restricted registry lets ACI through only with a managed identity (trusted services, issue 10):
    // a username/password credential meets the firewall.
    const locked = (await create(
      'pull-locked',
      groupBody('locked.azurecr.io/web:1.0.0', {
        imageRegistryCredentials: [
          { server: 'locked.azurecr.io', username: 'locked', password: 'not-a-secret' },
        ],
      }),
    ).catch((e: unknown) => e)) as Error;
    expect(locked.message).toContain('is not allowed access');
  });

  it('runs a crashing image as ACI does: restarts counting up, CrashLoopBackOff, never answering HTTP', async () => {
    const created = await create('crasher', groupBody('contoso.azurecr.io/worker:crash'));
    expect(created.provisioningState).toBe('Succeeded');
    const ip = created.ipAddress!.ip!;
    const view = await waitFor(
      'the crashing container to restart and wait in back-off',
      async () => {
        const g = await client.containerGroups.get(RG, 'crasher');
        const v = g.containers[0]!.instanceView!;
        return (v.restartCount ?? 0) >= 1 && v.currentState?.state === 'Waiting' ? { g, v } : undefined;
      },
      QUICK,
    );
    expect(view.g.instanceView?.state).toBe('Running');
    expect(view.v.currentState?.detailStatus).toBe('CrashLoopBackOff');
    expect(view.v.previousState).toMatchObject({ state: 'Terminated', exitCode: 1, detailStatus: 'Error' });
    expect(view.v.events?.map((e) => e.name)).toEqual(
      expect.arrayContaining(['Pulling', 'Pulled', 'Started', 'Killing', 'BackOff']),
    );
    await expectReset(`http://${ip}:8080/`);
    await sleep(1000);
    await expectReset(`http://${ip}:8080/`);
  });

  it('answers 503 for an unhealthy image and gives no answer until a slow image has started', async () => {
    const sick = await create('sick', groupBody('contoso.azurecr.io/web:sick'));
    const res = await fetch(`http://${sick.ipAddress!.ip}:8080/healthz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { status: string }).status).toBe('unhealthy');

    const slow = await create('slow', groupBody('contoso.azurecr.io/web:slow'));
    expect(slow.containers[0]!.instanceView?.currentState?.state).toBe('Running');
    const url = `http://${slow.ipAddress!.ip}:8080/`;
    const createdAt = Date.now();
    await expectReset(url);
    const ok = await waitFor(
      'the slow image to answer 200',
      async () => {
        const r = await fetch(url).catch(() => undefined);
        return r?.status === 200 ? r : undefined;
      },
      { timeoutMs: 6000, intervalMs: 50 },
    );
    expect(ok.status).toBe(200);
    // The image starts 2 s after the pull, which finished before the create's LRO did.
    expect(Date.now() - createdAt).toBeGreaterThan(1000);
  });

  it('serves a degrade:N image healthy for N s after its container starts, then 503 on every request; a restart starts the clock again', async () => {
    const name = 'degrading';
    const group = await create(name, groupBody('contoso.azurecr.io/web:degrade'));
    const startedAt = group.containers[0]!.instanceView!.currentState!.startTime!;
    const url = `http://${group.ipAddress!.ip}:8080`;
    const healthy = await fetch(`${url}/healthz`);
    expect(healthy.status).toBe(200);
    expect(((await healthy.json()) as { status: string }).status).toBe('healthy');

    const failing = await waitFor(
      'the image to degrade',
      async () => {
        const r = await fetch(`${url}/healthz`);
        return r.status === 503 ? r : undefined;
      },
      { timeoutMs: (DEGRADE_SECONDS + 10) * 1000, intervalMs: 100 },
    );
    // Not before N seconds after the container's start (a lower bound: the behaviour itself).
    expect(Date.now() - startedAt.getTime()).toBeGreaterThanOrEqual(DEGRADE_SECONDS * 1000);
    expect(((await failing.json()) as { status: string }).status).toBe('unhealthy');
    // Every request, not only the health path; and it stays so.
    expect((await fetch(`${url}/`, { method: 'POST', body: 'x' })).status).toBe(503);
    expect((await fetch(`${url}/anything?at=later`)).status).toBe(503);

    // A restart starts the container again: healthy again on its new IP, from a later start time.
    await client.containerGroups.beginRestartAndWait(RG, name, POLL);
    const restarted = await client.containerGroups.get(RG, name);
    const restartedAt = restarted.containers[0]!.instanceView!.currentState!.startTime!;
    expect(restartedAt.getTime()).toBeGreaterThan(startedAt.getTime());
    expect((await fetch(`http://${restarted.ipAddress!.ip}:8080/healthz`)).status).toBe(200);
  });

  it('holds the address of a slow-starting or crashing group: another emulator on the machine cannot take it', async () => {
    await push('web', 'sleepy', { mode: 'healthy', startDelaySeconds: 60 });
    const held = { subnetIds: [{ id: `${SUBNET}-held` }] };
    const crash = await create('held-crash', groupBody('contoso.azurecr.io/worker:crash', held));
    const slow = await create('held-slow', groupBody('contoso.azurecr.io/web:sleepy', held));
    const ours = [crash.ipAddress!.ip!, slow.ipAddress!.ip!];
    const debug = await emulator.control<{ value: { name: string; listening: number[]; held: number[] }[] }>(
      'GET',
      '/_emulator/containerGroups',
    );
    for (const name of ['held-crash', 'held-slow']) {
      expect(debug.body.value.find((g) => g.name === name)).toMatchObject({ listening: [], held: [8080] });
    }

    const other = await startTestEmulator();
    try {
      const seeded = await other.control<{ created: { name: string; ip?: string }[] }>(
        'POST',
        '/_emulator/containerGroups/seed',
        { resourceGroup: 'rg-other', count: 3, namePrefix: 'other', subnetId: `${SUBNET}-held` },
      );
      expect(seeded.status).toBe(201);
      const theirs = seeded.body.created.map((g) => g.ip);
      expect(theirs).toHaveLength(3);
      for (const ip of theirs) {
        expect(ip).toMatch(/^127\./);
        expect(ours).not.toContain(ip);
      }
      for (const g of seeded.body.created) {
        const res = await fetch(`http://${g.ip}:8080/`);
        expect(((await res.json()) as { group: string }).group).toBe(g.name);
      }
      for (const ip of ours) await expectReset(`http://${ip}:8080/`);
    } finally {
      await other.close();
    }
  });

  it('answers 401 without a token or with a token for another audience', async () => {
    const noToken = await fetch(`${emulator.url}${groupPath('web-blue')}?api-version=2023-05-01`);
    expect(noToken.status).toBe(401);
    expect(((await noToken.json()) as { error: { code: string } }).error.code).toBe('AuthenticationFailed');

    const vaultToken = await credential.getToken('https://vault.azure.net/.default');
    const wrongAudience: TokenCredential = { getToken: async () => vaultToken };
    const wrongClient = new ContainerInstanceManagementClient(wrongAudience, SUB, {
      endpoint: emulator.url,
      credentialScopes: [ARM_SCOPE],
    });
    const err = await wrongClient.containerGroups.get(RG, 'web-blue').catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 401, code: 'InvalidAuthenticationTokenAudience' });
  });

  it('retries a 429 with Retry-After (two calls logged) and surfaces a 429 without it', async () => {
    const fault = await emulator.control<{ id: string }>('POST', '/_emulator/faults', {
      kind: 'throttle',
      retryAfterSeconds: 1,
      count: 1,
      match: { operation: 'ContainerGroups_Get' },
    });
    const before = await emulator.requestCounts();
    const g = await client.containerGroups.get(RG, 'web-blue');
    expect(g.name).toBe('web-blue');
    expect((await emulator.requestCounts(before.lastSeq)).counts['ContainerGroups_Get']).toBe(2);
    await emulator.control('DELETE', `/_emulator/faults/${fault.body.id}`);

    const bare = await emulator.control<{ id: string }>('POST', '/_emulator/faults', {
      kind: 'throttle',
      count: 1,
      match: { operation: 'ContainerGroups_Get' },
    });
    const err = await client.containerGroups.get(RG, 'web-blue').catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'RestError', statusCode: 429 });
    await emulator.control('DELETE', `/_emulator/faults/${bare.body.id}`);
  });

  it("accepts the Azure CLI's api-versions and rejects unknown ones with ARM's error", async () => {
    const cli = await armFetch(`${groupPath('web-blue')}?api-version=2022-10-01-preview`);
    expect(cli.status).toBe(200);
    const unknown = await armFetch(`${groupPath('web-blue')}?api-version=2099-01-01`);
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe(
      'NoRegisteredProviderFound',
    );
  });

  it('rejects invalid definitions with ARM-style validation errors', async () => {
    const put = async (
      name: string,
      properties: Record<string, unknown>,
      extra: Record<string, unknown> = {},
    ) => {
      const res = await armFetch(`${groupPath(name)}?api-version=2023-05-01`, {
        method: 'PUT',
        body: JSON.stringify({ location: 'westeurope', properties, ...extra }),
      });
      const body = (await res.json()) as { error: { code: string; message: string } };
      return { status: res.status, ...body.error };
    };
    const container = (over: Record<string, unknown> = {}) => ({
      name: 'web',
      properties: {
        image: 'nginx',
        ports: [{ port: 8080 }],
        resources: { requests: { cpu: 1, memoryInGB: 1 } },
        ...over,
      },
    });
    const valid = { osType: 'Linux', containers: [container()] };

    expect(await put('Bad_Name', valid)).toMatchObject({ status: 400, code: 'InvalidContainerGroupName' });
    expect(await put('x'.repeat(64), valid)).toMatchObject({
      status: 400,
      code: 'InvalidContainerGroupName',
    });
    expect(
      await put('private-no-subnet', { ...valid, ipAddress: { type: 'Private', ports: [{ port: 8080 }] } }),
    ).toMatchObject({ status: 400, code: 'PrivateIPAddressNotSupported' });
    const noImage = await put('no-image', {
      osType: 'Linux',
      containers: [{ name: 'web', properties: { resources: { requests: { cpu: 1, memoryInGB: 1 } } } }],
    });
    expect(noImage).toMatchObject({ status: 400, code: 'InvalidRequestContent' });
    expect(noImage.message).toContain("'image'");
    expect(
      await put('no-resources', {
        osType: 'Linux',
        containers: [{ name: 'web', properties: { image: 'nginx' } }],
      }),
    ).toMatchObject({
      status: 400,
      code: 'InvalidRequestContent',
    });
    expect(
      await put('zero-cpu', {
        osType: 'Linux',
        containers: [container({ resources: { requests: { cpu: 0, memoryInGB: 1 } } })],
      }),
    ).toMatchObject({ status: 400, code: 'InvalidContainerResourceRequests' });
    expect(await put('dupes', { osType: 'Linux', containers: [container(), container()] })).toMatchObject({
      status: 400,
      code: 'DuplicateContainerName',
    });
    expect(
      await put('unexposed', { ...valid, ipAddress: { type: 'Public', ports: [{ port: 9090 }] } }),
    ).toMatchObject({ status: 400, code: 'InvalidIpAddressPorts' });
    expect(await put('no-location', valid, { location: undefined })).toMatchObject({
      status: 400,
      code: 'LocationRequired',
    });

    // The same through the SDK: a RestError with ARM's code.
    const sdkErr = await client.containerGroups
      .beginCreateOrUpdateAndWait(RG, 'sdk-invalid', groupBody('nginx', { subnetIds: undefined }), POLL)
      .catch((e: unknown) => e);
    expect(sdkErr).toMatchObject({ statusCode: 400, code: 'PrivateIPAddressNotSupported' });
    const gone = await client.containerGroups.get(RG, 'sdk-invalid').catch((e: unknown) => e);
    expect(gone).toMatchObject({ statusCode: 404 });
  });

  it('can reject inaccessible images synchronously with InaccessibleImage, as ACI often does', async () => {
    expect(
      (await emulator.control('POST', '/_emulator/containerGroups/options', { imageValidation: 'sync' }))
        .status,
    ).toBe(200);
    try {
      const err = await client.containerGroups
        .beginCreateOrUpdateAndWait(RG, 'sync-missing', groupBody('contoso.azurecr.io/web:9.9.9'), POLL)
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ statusCode: 400, code: 'InaccessibleImage' });
    } finally {
      await emulator.control('POST', '/_emulator/containerGroups/options', { imageValidation: 'async' });
    }
  });

  it('lists every group with its IP on the debug route', async () => {
    const res = await emulator.control<{ value: { name: string; ip: string | null; listening: number[] }[] }>(
      'GET',
      '/_emulator/containerGroups',
    );
    const blue = res.body.value.find((g) => g.name === 'web-blue');
    expect(blue?.ip).toMatch(/^127\./);
    expect(blue?.listening).toEqual([8080]);
  });

  // Last: restarts the emulator on the same state dir (the signing key is in that state too, so the credential's
  // cached token stays valid; MSAL's managed-identity token cache is process-wide).
  it('keeps running groups on their IPs across an emulator restart and resumes provisioning in progress', async () => {
    const body = groupBody('mcr.microsoft.com/azuredocs/aci-helloworld:latest', {
      subnetIds: [{ id: `${SUBNET}-restart` }],
      imageRegistryCredentials: undefined,
    });
    const running = await create('survivor', body);
    const ip = running.ipAddress!.ip!;
    expect((await fetch(`http://${ip}:8080/`)).status).toBe(200);
    // Leave a second create in flight when the emulator goes down.
    await client.containerGroups.beginCreateOrUpdate(RG, 'in-flight', body, POLL);
    await emulator.close();
    await expectRefused(`http://${ip}:8080/`);

    emulator = await startTestEmulator({
      stateDir: emulator.stateDir,
      pageSize: { containerGroups: 2 },
      timings: { provisioningStepMs: 300, lroRetryAfterSeconds: 0 },
    });
    restoreEnv();
    restoreEnv = useManagedIdentity(emulator);
    client = new ContainerInstanceManagementClient(credential, SUB, {
      endpoint: emulator.url,
      credentialScopes: [ARM_SCOPE],
    });
    const again = await client.containerGroups.get(RG, 'survivor');
    expect(again.ipAddress?.ip).toBe(ip);
    expect(again.instanceView?.state).toBe('Running');
    expect((await fetch(`http://${ip}:8080/`)).status).toBe(200);
    const blue = await client.containerGroups.get(RG, 'web-blue');
    expect(
      ((await (await fetch(`http://${blue.ipAddress!.ip}:8080/`)).json()) as { digest: string }).digest,
    ).toBe(digests['web:1.0.0']);
    const resumed = await waitFor(
      'the in-flight create to succeed after the restart',
      async () => {
        const g = await client.containerGroups.get(RG, 'in-flight');
        return g.provisioningState === 'Succeeded' ? g : undefined;
      },
      QUICK,
    );
    expect(resumed.ipAddress?.ip).toMatch(/^127\./);
    expect(resumed.ipAddress?.ip).not.toBe(ip);
  });
});
