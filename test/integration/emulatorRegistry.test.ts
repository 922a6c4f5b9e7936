import fs from 'node:fs';
import { ContainerRegistryManagementClient } from '@azure/arm-containerregistry';
import { DefaultAzureCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, useManagedIdentity, type TestEmulator } from './support/emulator.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const PE_LOCKED_ID = `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.Network/privateEndpoints/pe-locked`;
const PE_SUBNET_ID = `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-apps/subnets/snet-pe`;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

interface PushResult {
  repository: string;
  tag: string;
  digest: string;
}
interface Resolution {
  kind: string;
  message?: string;
  digest?: string;
  tags?: string[];
  loginServer?: string;
  repository?: string;
  behavior?: Record<string, unknown>;
}
interface RepositoryListing {
  repositories: {
    name: string;
    tags: Record<string, string>;
    manifests: { digest: string; tags: string[]; behavior: Record<string, unknown> }[];
  }[];
}
interface EmittedEvent {
  eventType: string;
  subject: string;
  registryResourceId: string;
  loginServer: string;
  data: Record<string, unknown>;
}

interface RestError {
  name: string;
  statusCode?: number;
  code?: string;
}

/** The key structure of a JSON value (values ignored), to compare an event with the fixture's shape. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, shape(v)]),
    );
  }
  return typeof value;
}

function fixtureData(file: string): Record<string, unknown> {
  const events = JSON.parse(fs.readFileSync(`test/fixtures/${file}`, 'utf8')) as {
    data: Record<string, unknown>;
  }[];
  return events[0]!.data;
}

describe('emulated Azure Container Registry', () => {
  let emulator: TestEmulator;
  let restoreEnv: () => void;
  let client: ContainerRegistryManagementClient;

  const push = async (registry: string, body: Record<string, unknown>) => {
    const res = await emulator.control<PushResult>('POST', `/_emulator/registries/${registry}/push`, body);
    expect(res.status).toBe(200);
    return res.body;
  };
  const resolve = async (
    image: string,
    pull: { identity?: string; username?: string } = { identity: 'id-acr-pull' },
  ) => (await emulator.control<Resolution>('POST', '/_emulator/registries/resolve', { image, ...pull })).body;
  const events = async (registry: string) =>
    (await emulator.control<{ value: EmittedEvent[] }>('GET', `/_emulator/registries/${registry}/events`))
      .body.value;

  beforeAll(async () => {
    emulator = await startTestEmulator({ pageSize: { registries: 2 } });
    restoreEnv = useManagedIdentity(emulator);
    // The 12.x (TypeSpec) client takes `credentials.scopes`; without it, it asks for a token for the endpoint URL.
    client = new ContainerRegistryManagementClient(new DefaultAzureCredential(), SUB, {
      endpoint: emulator.url,
      credentials: { scopes: ['https://management.azure.com/.default'] },
    });
  });
  afterAll(async () => {
    restoreEnv();
    await emulator.close();
  });

  it('gets the seeded public registry with its login server and network settings', async () => {
    const registry = await client.registries.get('rg-platform', 'contoso');
    expect(registry.id).toBe(
      `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/contoso`,
    );
    expect(registry.loginServer).toBe('contoso.azurecr.io');
    expect(registry.publicNetworkAccess).toBe('Enabled');
    expect(registry.networkRuleSet?.defaultAction).toBe('Allow');
    expect(registry.networkRuleSet?.ipRules).toEqual([]);
    expect(registry.provisioningState).toBe('Succeeded');
    expect(registry.sku.name).toBe('Premium');
    expect(registry.adminUserEnabled).toBe(false);
    expect(registry.networkRuleBypassOptions).toBe('AzureServices');
    expect(registry.roleAssignmentMode).toBe('LegacyRegistryPermissions');
    expect(registry.privateEndpointConnections).toEqual([]);
    expect(registry.creationDate).toBeInstanceOf(Date);
  });

  it('shows the locked registry as network-restricted, trusted services allowed, with a private endpoint', async () => {
    const registry = await client.registries.get('rg-platform', 'locked');
    expect(registry.loginServer).toBe('locked.azurecr.io');
    expect(registry.publicNetworkAccess).toBe('Disabled');
    expect(registry.networkRuleSet?.defaultAction).toBe('Deny');
    expect(registry.networkRuleBypassOptions).toBe('AzureServices');
    expect(registry.privateEndpointConnections).toHaveLength(1);
    const connection = registry.privateEndpointConnections![0]!;
    expect(connection.privateLinkServiceConnectionState?.status).toBe('Approved');
    expect(connection.privateEndpoint?.id).toBe(PE_LOCKED_ID);
  });

  it('serves the private endpoint through ARM (Microsoft.Network/privateEndpoints GET) with its subnet', async () => {
    const token = (await new DefaultAzureCredential().getToken('https://management.azure.com/.default'))!;
    const headers = { authorization: `Bearer ${token.token}` };
    const get = (id: string, v = '2024-05-01') => fetch(`${emulator.url}${id}?api-version=${v}`, { headers });

    const ok = await get(PE_LOCKED_ID);
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as {
      id: string;
      type: string;
      properties: {
        subnet: { id: string };
        privateLinkServiceConnections: { properties: { privateLinkServiceId: string; groupIds: string[] } }[];
      };
    };
    expect(body.id).toBe(PE_LOCKED_ID);
    expect(body.type).toBe('Microsoft.Network/privateEndpoints');
    expect(body.properties.subnet.id).toBe(PE_SUBNET_ID);
    expect(body.properties.privateLinkServiceConnections[0]!.properties).toMatchObject({
      privateLinkServiceId: `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/locked`,
      groupIds: ['registry'],
    });

    const missing = await get(PE_LOCKED_ID.replace('pe-locked', 'pe-nosuch'));
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('ResourceNotFound');
    expect((await get(PE_LOCKED_ID, '2099-01-01')).status).toBe(400);
    expect((await fetch(`${emulator.url}${PE_LOCKED_ID}?api-version=2024-05-01`)).status).toBe(401);
  });

  it('answers 404 ResourceNotFound for an unknown registry or the wrong resource group', async () => {
    const missing = await client.registries.get('rg-platform', 'nosuchregistry').catch((e: unknown) => e);
    expect((missing as RestError).name).toBe('RestError');
    expect((missing as RestError).statusCode).toBe(404);
    expect((missing as RestError).code).toBe('ResourceNotFound');
    const wrongGroup = await client.registries.get('rg-apps', 'contoso').catch((e: unknown) => e);
    expect((wrongGroup as RestError).statusCode).toBe(404);
  });

  it('pages registry lists with nextLink (subscription and resource group)', async () => {
    for (const name of ['pagereg1', 'pagereg2', 'pagereg3', 'pagereg4']) {
      const res = await emulator.control('POST', '/_emulator/registries', {
        name,
        resourceGroup: 'rg-platform',
      });
      expect(res.status).toBe(201);
    }
    expect(
      (
        await emulator.control('POST', '/_emulator/registries', {
          name: 'otherreg1',
          resourceGroup: 'rg-other',
        })
      ).status,
    ).toBe(201);
    const duplicate = await emulator.control('POST', '/_emulator/registries', {
      name: 'pagereg1',
      resourceGroup: 'rg-x',
    });
    expect(duplicate.status).toBe(409);

    const before = await emulator.requestCounts();
    const all: string[] = [];
    for await (const r of client.registries.list()) all.push(r.name!);
    const inGroup: string[] = [];
    for await (const r of client.registries.listByResourceGroup('rg-platform')) inGroup.push(r.name!);
    const counts = (await emulator.requestCounts(before.lastSeq)).counts;

    expect(all.sort()).toEqual([
      'contoso',
      'locked',
      'otherreg1',
      'pagereg1',
      'pagereg2',
      'pagereg3',
      'pagereg4',
    ]);
    expect(inGroup.sort()).toEqual(['contoso', 'locked', 'pagereg1', 'pagereg2', 'pagereg3', 'pagereg4']);
    // Page size 2: 7 registries → 4 pages; 6 in rg-platform → 3 pages.
    expect(counts['Registries_List']).toBe(4);
    expect(counts['Registries_ListByResourceGroup']).toBe(3);
  });

  it('accepts the older api-versions the Azure CLI sends and rejects unknown ones as ARM does', async () => {
    const token = await new DefaultAzureCredential().getToken('https://management.azure.com/.default');
    const url = (v: string) =>
      `${emulator.url}/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/contoso?api-version=${v}`;
    const headers = { authorization: `Bearer ${token.token}` };
    const old = await fetch(url('2019-05-01'), { headers });
    expect(old.status).toBe(200);
    expect(((await old.json()) as { properties: { loginServer: string } }).properties.loginServer).toBe(
      'contoso.azurecr.io',
    );
    const bad = await fetch(url('2099-01-01'), { headers });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('NoRegisteredProviderFound');
    const anonymous = await fetch(url('2025-11-01'));
    expect(anonymous.status).toBe(401);
  });

  it('updates publicNetworkAccess through the SDK (PATCH) and through the control route', async () => {
    const updated = await client.registries.update('rg-platform', 'pagereg1', {
      publicNetworkAccess: 'Disabled',
      tags: { team: 'platform' },
    });
    expect(updated.publicNetworkAccess).toBe('Disabled');
    expect((await client.registries.get('rg-platform', 'pagereg1')).tags).toEqual({ team: 'platform' });
    await push('pagereg1', { repository: 'web', tag: '1.0.0' });
    // Closed to outside clients; ACI with a managed identity passes as a trusted service (the default bypass).
    expect((await resolve('pagereg1.azurecr.io/web:1.0.0', { username: 'pagereg1' })).kind).toBe(
      'networkRestricted',
    );
    expect((await resolve('pagereg1.azurecr.io/web:1.0.0')).kind).toBe('found');

    const reopened = await emulator.control<{ properties: { publicNetworkAccess: string } }>(
      'POST',
      '/_emulator/registries/pagereg1/network',
      { publicNetworkAccess: 'Enabled', defaultAction: 'Allow' },
    );
    expect(reopened.status).toBe(200);
    expect(reopened.body.properties.publicNetworkAccess).toBe('Enabled');
    expect((await resolve('pagereg1.azurecr.io/web:1.0.0', { username: 'pagereg1' })).kind).toBe('found');

    const invalid = await client.registries
      .update('rg-platform', 'pagereg1', { publicNetworkAccess: 'Sometimes' })
      .catch((e: unknown) => e);
    expect((invalid as RestError).statusCode).toBe(400);
  });

  it('models the network rules ACI meets: trusted-services bypass, role mode, private endpoints, SKU', async () => {
    expect(
      (
        await emulator.control('POST', '/_emulator/registries', {
          name: 'netreg1',
          resourceGroup: 'rg-platform',
        })
      ).status,
    ).toBe(201);
    await push('netreg1', { repository: 'web', tag: '1.0.0' });
    const image = 'netreg1.azurecr.io/web:1.0.0';

    const closed = await emulator.control<{ properties: Record<string, unknown> }>(
      'POST',
      '/_emulator/registries/netreg1/network',
      {
        publicNetworkAccess: 'Disabled',
        networkRuleBypassOptions: 'None',
        roleAssignmentMode: 'AbacRepositoryPermissions',
        privateEndpoints: [{ name: 'pe-netreg1', subnetId: PE_SUBNET_ID, resourceGroup: 'rg-network' }],
      },
    );
    expect(closed.status).toBe(200);
    const arm = await client.registries.get('rg-platform', 'netreg1');
    expect(arm).toMatchObject({
      publicNetworkAccess: 'Disabled',
      networkRuleBypassOptions: 'None',
      roleAssignmentMode: 'AbacRepositoryPermissions',
    });
    expect(arm.privateEndpointConnections?.map((c) => c.privateEndpoint?.id)).toEqual([
      `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/privateEndpoints/pe-netreg1`,
    ]);
    // Trusted services denied: not even a managed identity passes.
    expect((await resolve(image)).kind).toBe('networkRestricted');

    // Allowing trusted services (the SDK's PATCH) lets the identity through, and only the identity.
    await client.registries.update('rg-platform', 'netreg1', { networkRuleBypassOptions: 'AzureServices' });
    expect((await resolve(image)).kind).toBe('found');
    expect((await resolve(image, { username: 'netreg1' })).kind).toBe('networkRestricted');

    // A firewall default of Deny restricts like public access Disabled.
    await emulator.control('POST', '/_emulator/registries/netreg1/network', {
      publicNetworkAccess: 'Enabled',
      defaultAction: 'Deny',
      networkRuleBypassOptions: 'None',
    });
    expect((await resolve(image)).kind).toBe('networkRestricted');
    await emulator.control('POST', '/_emulator/registries/netreg1/network', { defaultAction: 'Allow' });
    expect((await resolve(image, { username: 'netreg1' })).kind).toBe('found');

    // Network features need Premium: ACR refuses to disable public access below it; private endpoints likewise.
    const basic = await client.registries
      .update('rg-platform', 'netreg1', { sku: { name: 'Basic' }, publicNetworkAccess: 'Disabled' })
      .catch((e: unknown) => e);
    expect(basic).toMatchObject({ statusCode: 400, code: 'DisablingPublicNetworkAccessNotSupported' });
    expect((basic as Error).message).toContain(
      'Disabling public network access is not supported for the SKU Basic',
    );
    const endpointOnBasic = await emulator.control('POST', '/_emulator/registries/netreg1/network', {
      sku: 'Basic',
    });
    expect(endpointOnBasic.status).toBe(400);
    expect(JSON.stringify(endpointOnBasic.body)).toContain('Private endpoints need the Premium SKU');
    await emulator.control('POST', '/_emulator/registries/netreg1/network', {
      privateEndpoints: [],
      defaultAction: 'Deny',
    });
    expect((await resolve(image, { username: 'netreg1' })).kind).toBe('networkRestricted');
    const downgraded = await emulator.control('POST', '/_emulator/registries/netreg1/network', {
      sku: 'Basic',
    });
    expect(downgraded.status).toBe(200);
    // On Basic the rule set does not apply (and ARM does not show one): a left-over Deny restricts nothing.
    expect((await client.registries.get('rg-platform', 'netreg1')).networkRuleSet).toBeUndefined();
    expect((await resolve(image, { username: 'netreg1' })).kind).toBe('found');

    const bad = await emulator.control('POST', '/_emulator/registries/netreg1/network', {
      privateEndpoints: [{ name: 'pe-x', subnetId: 'snet-pe' }],
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('privateEndpoints[0].subnetId must be a subnet resource id');
    const badMode = await client.registries
      .update('rg-platform', 'netreg1', { roleAssignmentMode: 'Sometimes' })
      .catch((e: unknown) => e);
    expect(badMode).toMatchObject({ statusCode: 400 });
  });

  it('pushes a new digest per push; re-pushing a tag moves it; naming a digest tags it again', async () => {
    const first = await push('contoso', { repository: 'web', tag: '1.4.0' });
    const second = await push('contoso', { repository: 'web', tag: '1.4.0' });
    expect(first.digest).toMatch(DIGEST);
    expect(second.digest).toMatch(DIGEST);
    expect(second.digest).not.toBe(first.digest);
    const retag = await push('contoso', { repository: 'web', tag: 'stable', digest: second.digest });
    expect(retag.digest).toBe(second.digest);

    const listing = (
      await emulator.control<RepositoryListing>('GET', '/_emulator/registries/contoso/repositories')
    ).body;
    const web = listing.repositories.find((r) => r.name === 'web')!;
    expect(web.tags).toEqual({ '1.4.0': second.digest, stable: second.digest });
    expect(web.manifests.map((m) => m.digest)).toEqual([first.digest, second.digest]);
    expect(web.manifests[0]!.tags).toEqual([]);
    expect(web.manifests[1]!.tags).toEqual(['1.4.0', 'stable']);

    const found = await resolve('contoso.azurecr.io/web:1.4.0');
    expect(found).toMatchObject({ kind: 'found', digest: second.digest, tags: ['1.4.0', 'stable'] });
    const byDigest = await resolve(`contoso.azurecr.io/web@${first.digest}`);
    expect(byDigest).toMatchObject({ kind: 'found', digest: first.digest, tags: [], repository: 'web' });
  });

  it('emits ImagePushed with the exact data shape ACR sends', async () => {
    const pushed = await push('contoso', { repository: 'api', tag: '2.0.0' });
    const event = (await events('contoso')).find((e) => e.subject === 'api:2.0.0')!;
    expect(event.eventType).toBe('Microsoft.ContainerRegistry.ImagePushed');
    expect(event.registryResourceId).toBe(
      `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/contoso`,
    );
    expect(shape(event.data)).toEqual(shape(fixtureData('acr-image-pushed.eventgrid.json')));
    expect(event.data).toMatchObject({
      action: 'push',
      location: 'westeurope',
      target: {
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        digest: pushed.digest,
        repository: 'api',
        tag: '2.0.0',
      },
      request: { host: 'contoso.azurecr.io', method: 'PUT' },
    });
    const target = event.data['target'] as { size: number; length: number };
    expect(target.size).toBe(target.length);
    expect(String(event.data['timestamp'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
  });

  it('deletes a manifest: its tags go, the image no longer resolves, ImageDeleted is emitted', async () => {
    const pushed = await push('contoso', { repository: 'team/worker', tag: '0.1.0' });
    const res = await emulator.control<{ untagged: string[] }>(
      'DELETE',
      `/_emulator/registries/contoso/repositories/${encodeURIComponent('team/worker')}/manifests/${pushed.digest}`,
    );
    expect(res.status).toBe(200);
    expect(res.body.untagged).toEqual(['0.1.0']);
    expect((await resolve('contoso.azurecr.io/team/worker:0.1.0')).kind).toBe('notFound');
    const event = (await events('contoso')).find(
      (e) => e.eventType === 'Microsoft.ContainerRegistry.ImageDeleted' && e.subject === 'team/worker',
    )!;
    expect(shape(event.data)).toEqual(shape(fixtureData('acr-image-deleted.eventgrid.json')));
    expect(event.data).toMatchObject({
      action: 'delete',
      target: { digest: pushed.digest, repository: 'team/worker' },
    });
    const again = await emulator.control(
      'DELETE',
      `/_emulator/registries/contoso/repositories/${encodeURIComponent('team/worker')}/manifests/${pushed.digest}`,
    );
    expect(again.status).toBe(404);
  });

  it('resolves pulls: credentials, unknown tags, network restrictions and public images', async () => {
    await push('contoso', { repository: 'svc', tag: '1.0.0' });
    await push('locked', { repository: 'svc', tag: '1.0.0' });

    const anonymous = await resolve('contoso.azurecr.io/svc:1.0.0', {});
    expect(anonymous.kind).toBe('unauthorized');
    expect(anonymous.message).toContain('401 Unauthorized');
    expect((await resolve('contoso.azurecr.io/svc:1.0.0', { username: 'contoso' })).kind).toBe('found');

    const unknownTag = await resolve('contoso.azurecr.io/svc:9.9.9');
    expect(unknownTag.kind).toBe('notFound');
    expect(unknownTag.message).toContain('contoso.azurecr.io/svc:9.9.9: not found');
    expect((await resolve('contoso.azurecr.io/nosuchrepo:1.0.0')).kind).toBe('notFound');
    expect((await resolve(`contoso.azurecr.io/svc@sha256:${'0'.repeat(64)}`)).kind).toBe('notFound');

    // The locked registry (public access disabled, trusted services allowed): a managed identity passes, a
    // username/password or an anonymous pull meets the firewall.
    expect((await resolve('locked.azurecr.io/svc:1.0.0')).kind).toBe('found');
    for (const pull of [{ username: 'locked' }, {}]) {
      const locked = await resolve('locked.azurecr.io/svc:1.0.0', pull);
      expect(locked.kind).toBe('networkRestricted');
      expect(locked.message).toContain(
        "403 Forbidden: denied: client with IP '20.61.103.18' is not allowed access. Refer https://aka.ms/acr/firewall to grant access.",
      );
    }

    const publicImage = await resolve('mcr.microsoft.com/azuredocs/aci-helloworld:latest', {});
    expect(publicImage).toMatchObject({
      kind: 'found',
      loginServer: 'mcr.microsoft.com',
      behavior: { mode: 'healthy' },
    });
    expect(publicImage.digest).toMatch(DIGEST);
    expect((await resolve('mcr.microsoft.com/azuredocs/aci-helloworld:latest', {})).digest).toBe(
      publicImage.digest,
    );
    expect(await resolve('nginx', {})).toMatchObject({
      kind: 'found',
      loginServer: 'docker.io',
      repository: 'library/nginx',
    });
  });

  it('records the behaviour chosen at push time, from shorthands or objects', async () => {
    const cases: [unknown, Record<string, unknown>][] = [
      [undefined, { mode: 'healthy' }],
      ['slow:5', { mode: 'healthy', startDelaySeconds: 5 }],
      ['unhealthy', { mode: 'unhealthy', status: 503 }],
      ['crash', { mode: 'crash', exitCode: 1 }],
      [
        { mode: 'unhealthy', status: 500, startDelaySeconds: 2 },
        { mode: 'unhealthy', status: 500, startDelaySeconds: 2 },
      ],
    ];
    for (const [i, [behavior, expected]] of cases.entries()) {
      await push('contoso', { repository: 'behaviours', tag: `case${i}`, ...(behavior ? { behavior } : {}) });
      expect((await resolve(`contoso.azurecr.io/behaviours:case${i}`)).behavior).toEqual(expected);
    }
    await push('contoso', { repository: 'behaviours', tag: 'gone', behavior: 'pull-failure' });
    expect((await resolve('contoso.azurecr.io/behaviours:gone')).kind).toBe('notFound');
    await push('contoso', { repository: 'behaviours', tag: 'denied', behavior: 'pull-failure:unauthorized' });
    expect((await resolve('contoso.azurecr.io/behaviours:denied')).kind).toBe('unauthorized');

    const bad = await emulator.control('POST', '/_emulator/registries/contoso/push', {
      repository: 'behaviours',
      tag: 'x',
      behavior: 'explode',
    });
    expect(bad.status).toBe(400);
    const badRepo = await emulator.control('POST', '/_emulator/registries/contoso/push', {
      repository: 'Web',
      tag: 'x',
    });
    expect(badRepo.status).toBe(400);
    const noRegistry = await emulator.control('POST', '/_emulator/registries/nosuch/push', {
      repository: 'web',
      tag: 'x',
    });
    expect(noRegistry.status).toBe(404);
  });

  it('keeps registries and their content across a restart with the same state directory', async () => {
    const pushed = await push('contoso', { repository: 'durable', tag: '1.0.0', behavior: 'crash:3' });
    const stateDir = emulator.stateDir;
    await emulator.close();
    // State saved by an emulator from before private endpoints had subnets and registries a role mode.
    const file = `${stateDir}/state.json`;
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      containerRegistry: { registries: Record<string, Record<string, unknown>> };
    };
    const savedLocked = doc.containerRegistry.registries['locked']!;
    savedLocked['privateEndpoints'] = ['pe-locked'];
    delete savedLocked['roleAssignmentMode'];
    fs.writeFileSync(file, JSON.stringify(doc));
    emulator = await startTestEmulator({ stateDir, pageSize: { registries: 2 } });
    restoreEnv();
    restoreEnv = useManagedIdentity(emulator);
    client = new ContainerRegistryManagementClient(new DefaultAzureCredential(), SUB, {
      endpoint: emulator.url,
      credentials: { scopes: ['https://management.azure.com/.default'] },
    });
    expect(await resolve('contoso.azurecr.io/durable:1.0.0')).toMatchObject({
      kind: 'found',
      digest: pushed.digest,
      behavior: { mode: 'crash', exitCode: 3 },
    });
    expect((await client.registries.get('rg-other', 'otherreg1')).loginServer).toBe('otherreg1.azurecr.io');
    const locked = await client.registries.get('rg-platform', 'locked');
    expect(locked.roleAssignmentMode).toBe('LegacyRegistryPermissions');
    expect(locked.privateEndpointConnections?.map((c) => c.privateEndpoint?.id)).toEqual([PE_LOCKED_ID]);
  });
});
