/**
 * Resource Manager's own resources through Azure's SDK clients: subscriptions (@azure/arm-resources-subscriptions,
 * api-version 2022-12-01), resource groups and generic resources (@azure/arm-resources, 2025-04-01), and the
 * anonymous cloud metadata endpoint.
 */
import { ResourceManagementClient } from '@azure/arm-resources';
import { SubscriptionClient } from '@azure/arm-resources-subscriptions';
import { DefaultAzureCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, useManagedIdentity, type TestEmulator } from '../support/emulator.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const OTHER_SUB = '00000000-0000-0000-0000-0000000000ff';
const SUBNET = `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-rm-it/subnets/aci`;
const POLL = { updateIntervalInMs: 100 };

interface RestError {
  statusCode?: number;
  code?: string;
  message: string;
}

async function failure(promise: Promise<unknown>): Promise<RestError> {
  const result = await promise.then(
    () => undefined,
    (e: unknown) => e as RestError,
  );
  if (!result) throw new Error('expected the call to fail');
  return result;
}

const containerGroup = (port: number) => ({
  location: 'westeurope',
  properties: {
    osType: 'Linux',
    restartPolicy: 'Always',
    containers: [
      {
        name: 'app',
        properties: {
          image: 'mcr.microsoft.com/azuredocs/aci-helloworld:latest',
          ports: [{ port }],
          resources: { requests: { cpu: 0.5, memoryInGB: 1 } },
        },
      },
    ],
    ipAddress: { type: 'Private', ports: [{ port, protocol: 'TCP' }] },
    subnetIds: [{ id: SUBNET }],
  },
});

describe('emulator: Resource Manager subscriptions and resource groups through the Azure SDK', () => {
  let emulator: TestEmulator;
  let restoreEnv: () => void;
  let resources: ResourceManagementClient;
  let subscriptions: SubscriptionClient;
  let armToken: string;

  const armFetch = (path: string, init: RequestInit = {}) =>
    fetch(`${emulator.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${armToken}`, 'content-type': 'application/json', ...init.headers },
    });

  beforeAll(async () => {
    emulator = await startTestEmulator({ timings: { provisioningStepMs: 100, lroRetryAfterSeconds: 0 } });
    restoreEnv = useManagedIdentity(emulator);
    const credential = new DefaultAzureCredential();
    resources = new ResourceManagementClient(credential, SUB, { endpoint: emulator.url });
    subscriptions = new SubscriptionClient(credential, { endpoint: emulator.url });
    armToken = (await credential.getToken('https://management.azure.com/.default')).token;
  });

  afterAll(async () => {
    restoreEnv();
    await emulator.close();
  });

  it('lists and gets the one subscription, with its tenant; another subscription is SubscriptionNotFound', async () => {
    const listed = [];
    for await (const s of subscriptions.subscriptions.list()) listed.push(s);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      id: `/subscriptions/${SUB}`,
      subscriptionId: SUB,
      tenantId: String(emulator.stack['tenantId']),
      displayName: 'Emulated subscription',
      state: 'Enabled',
    });
    expect(await subscriptions.subscriptions.get(SUB)).toMatchObject({
      subscriptionId: SUB,
      state: 'Enabled',
    });
    const missing = await failure(subscriptions.subscriptions.get(OTHER_SUB));
    expect(missing).toMatchObject({ statusCode: 404, code: 'SubscriptionNotFound' });
  });

  it('gets the seeded resource groups; an unknown one is ResourceGroupNotFound, and HEAD says 204 or 404', async () => {
    const apps = await resources.resourceGroups.get('rg-apps');
    expect(apps).toMatchObject({
      id: `/subscriptions/${SUB}/resourceGroups/rg-apps`,
      name: 'rg-apps',
      type: 'Microsoft.Resources/resourceGroups',
      location: 'westeurope',
      properties: { provisioningState: 'Succeeded' },
    });
    // Resource group names are case-insensitive; ARM answers with the stored spelling.
    expect((await resources.resourceGroups.get('RG-Platform')).name).toBe('rg-platform');

    const missing = await failure(resources.resourceGroups.get('rg-nowhere'));
    expect(missing).toMatchObject({ statusCode: 404, code: 'ResourceGroupNotFound' });
    expect(missing.message).toContain("Resource group 'rg-nowhere' could not be found.");

    expect(await resources.resourceGroups.checkExistence('rg-network')).toMatchObject({ body: true });
    expect(await resources.resourceGroups.checkExistence('rg-nowhere')).toMatchObject({ body: false });
    const head = await armFetch(`/subscriptions/${SUB}/resourcegroups/rg-nowhere?api-version=2022-09-01`, {
      method: 'HEAD',
    });
    expect(head.status).toBe(404);
    expect(await head.text()).toBe('');
  });

  it('creates a resource group (201, then 200), keeps its location and refuses to move it', async () => {
    const created = await resources.resourceGroups.createOrUpdate('rg-created', {
      location: 'West Europe',
      tags: { owner: 'it' },
    });
    expect(created).toMatchObject({ name: 'rg-created', location: 'westeurope', tags: { owner: 'it' } });
    const first = await armFetch(`/subscriptions/${SUB}/resourcegroups/rg-second?api-version=2022-09-01`, {
      method: 'PUT',
      body: JSON.stringify({ location: 'westeurope' }),
    });
    const again = await armFetch(`/subscriptions/${SUB}/resourcegroups/rg-second?api-version=2022-09-01`, {
      method: 'PUT',
      body: JSON.stringify({ location: 'westeurope' }),
    });
    expect([first.status, again.status]).toEqual([201, 200]);

    const moved = await failure(
      resources.resourceGroups.createOrUpdate('rg-created', { location: 'eastus' }),
    );
    expect(moved).toMatchObject({ statusCode: 409, code: 'InvalidResourceGroupLocation' });
    const noLocation = await armFetch(
      `/subscriptions/${SUB}/resourcegroups/rg-third?api-version=2022-09-01`,
      {
        method: 'PUT',
        body: JSON.stringify({}),
      },
    );
    expect(noLocation.status).toBe(400);
    expect(((await noLocation.json()) as { error: { code: string } }).error.code).toBe('LocationRequired');
    const badName = await armFetch(`/subscriptions/${SUB}/resourcegroups/rg!bad?api-version=2022-09-01`);
    expect(badName.status).toBe(400);
    expect(((await badName.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'InvalidResourceGroup',
      message: expect.stringContaining("invalid characters: '!'") as unknown,
    });
  });

  it('lists every known resource group across pages of $top', async () => {
    const names: string[] = [];
    for await (const page of resources.resourceGroups.list({ top: 2 }).byPage()) {
      expect(page.length).toBeLessThanOrEqual(2);
      names.push(...page.map((g) => g.name!));
    }
    expect(names).toEqual(
      expect.arrayContaining(['rg-apps', 'rg-legacy', 'rg-network', 'rg-platform', 'rg-created']),
    );
    expect(new Set(names).size).toBe(names.length);
  });

  it('knows a resource group while a container group lives in it: created through the generic path with an empty segment', async () => {
    expect(await resources.resourceGroups.checkExistence('rg-implied')).toMatchObject({ body: false });
    const before = await emulator.requestCounts();

    // The generic-resource call `az container create --file` makes: parentResourcePath '' gives
    // `providers/Microsoft.ContainerInstance//containerGroups/{name}`.
    const created = await resources.resources.createOrUpdate(
      'rg-implied',
      'Microsoft.ContainerInstance',
      '',
      'containerGroups',
      'generic-1',
      '2023-05-01',
      containerGroup(8080),
      POLL,
    );
    expect(created).toMatchObject({
      id: `/subscriptions/${SUB}/resourceGroups/rg-implied/providers/Microsoft.ContainerInstance/containerGroups/generic-1`,
      properties: { provisioningState: 'Succeeded' },
    });
    const viaGeneric = await resources.resources.get(
      'rg-implied',
      'Microsoft.ContainerInstance',
      '',
      'containerGroups',
      'generic-1',
      '2023-05-01',
    );
    expect(viaGeneric.name).toBe('generic-1');
    const log = (
      await emulator.control<{ entries: { operation: string; path: string; status: number }[] }>(
        'GET',
        `/_emulator/requests?since=${before.lastSeq}&entries=true`,
      )
    ).body.entries;
    expect(log.find((e) => e.operation === 'ContainerGroups_CreateOrUpdate')).toMatchObject({
      path: `/subscriptions/${SUB}/resourcegroups/rg-implied/providers/Microsoft.ContainerInstance//containerGroups/generic-1`,
      status: 201,
    });

    expect(await resources.resourceGroups.get('rg-implied')).toMatchObject({
      name: 'rg-implied',
      location: 'westeurope',
    });

    await resources.resources.delete(
      'rg-implied',
      'Microsoft.ContainerInstance',
      '',
      'containerGroups',
      'generic-1',
      '2023-05-01',
      POLL,
    );
    expect(await resources.resourceGroups.checkExistence('rg-implied')).toMatchObject({ body: false });
  });

  it('knows the resource group of a registry added later', async () => {
    expect(await resources.resourceGroups.checkExistence('rg-registries')).toMatchObject({ body: false });
    const added = await emulator.control('POST', '/_emulator/registries', {
      name: 'fabrikam',
      resourceGroup: 'rg-registries',
      location: 'northeurope',
    });
    expect(added.status).toBe(201);
    expect(await resources.resourceGroups.get('rg-registries')).toMatchObject({ location: 'northeurope' });
  });

  it('serves the cloud metadata endpoint anonymously, naming the ARM token audiences it accepts', async () => {
    const res = await fetch(`${emulator.url}/metadata/endpoints?api-version=2015-01-01`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { authentication: { loginEndpoint: string; audiences: string[] } };
    expect(body.authentication.audiences).toEqual([
      'https://management.core.windows.net/',
      'https://management.azure.com/',
    ]);
    expect(body.authentication.loginEndpoint).toMatch(/^https:\/\//);
  });
});
