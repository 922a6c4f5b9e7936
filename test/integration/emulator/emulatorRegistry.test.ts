import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { ContainerRegistryManagementClient } from '@azure/arm-containerregistry';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PRINCIPAL_ID } from '../../../emulator/src/core/context.js';
import { RegistryDataPlaneAdapter } from '../../../src/adapters/registryDataPlane.js';
import { NotFoundError, TerminalError, TransientError } from '../../../src/domain/errors.js';
import { pickPlatformManifest } from '../../../src/domain/imageIndex.js';
import { startTestEmulator, useManagedIdentity, type TestEmulator } from '../support/emulator.js';

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

/**
 * The registry's data plane as the app reads it (issue 10 part 3): the Bearer challenge, the Entra ID token
 * exchange, manifests by tag and digest with their media types and Docker-Content-Digest, an index pushed with
 * `platforms`, and what the app's adapter makes of it (src/adapters/registryDataPlane.ts, with
 * DefaultAzureCredential against the emulator's managed identity).
 */
describe('emulated Azure Container Registry: data plane', () => {
  let emulator: TestEmulator;
  let adapter: RegistryDataPlaneAdapter;
  let endpoint: string;
  let credential: TokenCredential;

  /**
   * The App Service managed-identity protocol, asked directly. Not DefaultAzureCredential: MSAL keeps the managed
   * identity source (endpoint and header) per process (ManagedIdentityClient.identitySource), and this file's
   * first emulator, closed by now, was the first. The end-to-end tests use the real credential in the app.
   */
  const emulatorIdentity = (): TokenCredential => ({
    async getToken(scope) {
      const resource = (Array.isArray(scope) ? scope[0]! : scope).replace(/\/\.default$/, '');
      const res = await fetch(
        `${String(emulator.stack['identityEndpoint'])}?api-version=2019-08-01&resource=${encodeURIComponent(resource)}`,
        { headers: { 'x-identity-header': String(emulator.stack['identityHeader']) } },
      );
      const body = (await res.json()) as { access_token: string; expires_on: string };
      return { token: body.access_token, expiresOnTimestamp: Number(body.expires_on) * 1000 };
    },
  });

  interface IndexPush {
    digest: string;
    mediaType: string;
    manifests: { platform: string; digest: string; mediaType: string }[];
    attestations: string[];
  }

  const pushIndex = async (repository: string, tag: string, platforms: string[], behavior?: string) => {
    const res = await emulator.control<IndexPush>('POST', '/_emulator/registries/contoso/push', {
      repository,
      tag,
      platforms,
      ...(behavior ? { behavior } : {}),
    });
    expect(res.status).toBe(200);
    return res.body;
  };

  /** Refresh token, then access token for `scope`, as the adapter gets them. */
  /** The token service's answer: `access_token`, or the error body. */
  interface TokenAnswer {
    access_token: string;
    errors?: { code: string; message: string }[];
  }

  const accessToken = async (
    scope: string,
    audience = 'https://containerregistry.azure.net/.default',
  ): Promise<{ status: number; body: TokenAnswer }> => {
    const entra = (await credential.getToken(audience))!.token;
    const exchange = await fetch(`${endpoint}/oauth2/exchange`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'access_token',
        service: 'contoso.azurecr.io',
        access_token: entra,
      }),
    });
    if (exchange.status !== 200)
      return { status: exchange.status, body: (await exchange.json()) as TokenAnswer };
    const { refresh_token } = (await exchange.json()) as { refresh_token: string };
    const token = await fetch(`${endpoint}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        service: 'contoso.azurecr.io',
        scope,
        refresh_token,
      }),
    });
    return { status: token.status, body: (await token.json()) as TokenAnswer };
  };

  const sha256 = (body: Buffer) => `sha256:${createHash('sha256').update(body).digest('hex')}`;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    endpoint = String(emulator.stack['registryEndpointTemplate']).replace('{registry}', 'contoso');
    credential = emulatorIdentity();
    adapter = new RegistryDataPlaneAdapter(credential, {
      endpointTemplate: String(emulator.stack['registryEndpointTemplate']),
    });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('answers 401 with the Bearer challenge without a token, as ACR does', async () => {
    const ping = await fetch(`${endpoint}/v2/`);
    expect(ping.status).toBe(401);
    expect(ping.headers.get('www-authenticate')).toBe(
      `Bearer realm="${endpoint}/oauth2/token",service="contoso.azurecr.io"`,
    );
    await pushIndex('challenge', '1.0.0', ['linux/amd64']);
    const manifest = await fetch(`${endpoint}/v2/challenge/manifests/1.0.0`);
    expect(manifest.status).toBe(401);
    expect(manifest.headers.get('www-authenticate')).toBe(
      `Bearer realm="${endpoint}/oauth2/token",service="contoso.azurecr.io",scope="repository:challenge:pull"`,
    );
    expect(await manifest.json()).toEqual({
      errors: [
        {
          code: 'UNAUTHORIZED',
          message: 'authentication required',
          detail: [{ Type: 'repository', Name: 'challenge', Action: 'pull' }],
        },
      ],
    });
  });

  it('exchanges an Entra ID token for registry tokens; refuses a token for another audience', async () => {
    const ok = await accessToken('repository:web:pull');
    expect(ok.status).toBe(200);
    const claims = JSON.parse(Buffer.from(ok.body.access_token.split('.')[1]!, 'base64url').toString()) as {
      iss: string;
      aud: string;
      access: unknown;
    };
    expect(claims).toMatchObject({
      iss: 'Azure Container Registry',
      aud: 'contoso.azurecr.io',
      access: [{ type: 'repository', name: 'web', actions: ['pull'] }],
    });
    const vaultToken = await accessToken('repository:web:pull', 'https://vault.azure.net/.default');
    expect(vaultToken.status).toBe(401);
    expect(vaultToken.body).toMatchObject({ errors: [{ code: 'UNAUTHORIZED' }] });
  });

  it('serves an index pushed with platforms by tag and digest, with media types and content digests', async () => {
    const pushed = await pushIndex('multi', '2.0.0', ['linux/amd64', 'linux/arm64']);
    expect(pushed.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(pushed.manifests.map((m) => m.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    const { access_token } = (await accessToken('repository:multi:pull')).body;
    const get = (reference: string, accept: string) =>
      fetch(`${endpoint}/v2/multi/manifests/${reference}`, {
        headers: { authorization: `Bearer ${access_token}`, accept },
      });
    const all = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json';

    const byTag = await get('2.0.0', all);
    expect(byTag.status).toBe(200);
    expect(byTag.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
    const body = Buffer.from(await byTag.arrayBuffer());
    expect(byTag.headers.get('docker-content-digest')).toBe(pushed.digest);
    expect(sha256(body)).toBe(pushed.digest);
    const index = JSON.parse(body.toString()) as { manifests: Record<string, unknown>[] };
    expect(index.manifests).toHaveLength(4);
    expect(index.manifests[2]).toMatchObject({
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: {
        'vnd.docker.reference.type': 'attestation-manifest',
        'vnd.docker.reference.digest': pushed.manifests[0]!.digest,
      },
    });

    const arm = await get(pushed.manifests[1]!.digest, all);
    expect(arm.headers.get('content-type')).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(sha256(Buffer.from(await arm.arrayBuffer()))).toBe(pushed.manifests[1]!.digest);

    const dockerOnly = await get('2.0.0', 'application/vnd.docker.distribution.manifest.v2+json');
    expect(dockerOnly.status).toBe(404);
    expect(await dockerOnly.json()).toMatchObject({
      errors: [
        {
          code: 'MANIFEST_UNKNOWN',
          message: 'OCI index found, but accept header does not support OCI indexes',
        },
      ],
    });
    // The token grants `multi`, not another repository.
    const other = await fetch(`${endpoint}/v2/web/manifests/1.0.0`, {
      headers: { authorization: `Bearer ${access_token}`, accept: all },
    });
    expect(other.status).toBe(401);
    expect(other.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it("a plain push is content-addressed: the digest is the served manifest's sha256", async () => {
    const res = await emulator.control<{ digest: string }>('POST', '/_emulator/registries/contoso/push', {
      repository: 'plain',
      tag: '1.0.0',
    });
    const { access_token } = (await accessToken('repository:plain:pull')).body;
    const m = await fetch(`${endpoint}/v2/plain/manifests/1.0.0`, {
      headers: {
        authorization: `Bearer ${access_token}`,
        accept: 'application/vnd.docker.distribution.manifest.v2+json',
      },
    });
    expect(m.headers.get('content-type')).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(sha256(Buffer.from(await m.arrayBuffer()))).toBe(res.body.digest);
  });

  it("the app's adapter reads and verifies the index; ACI pulls the index as its linux/amd64 image", async () => {
    const pushed = await pushIndex('adapter', '1.0.0', ['linux/arm64', 'linux/amd64'], 'unhealthy:500');
    const fetched = await adapter.getManifest('contoso.azurecr.io', 'adapter', pushed.digest);
    expect(fetched.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    const amd64 = pushed.manifests.find((m) => m.platform === 'linux/amd64')!.digest;
    expect(pickPlatformManifest(fetched.manifest, { os: 'linux', architecture: 'amd64' })).toMatchObject({
      ok: true,
      digest: amd64,
    });
    const resolution = (
      await emulator.control<Resolution>('POST', '/_emulator/registries/resolve', {
        image: `contoso.azurecr.io/adapter@${pushed.digest}`,
        identity: 'id-acr-pull',
      })
    ).body;
    expect(resolution).toMatchObject({
      kind: 'found',
      digest: amd64,
      behavior: { mode: 'unhealthy', status: 500 },
    });

    const armOnly = await pushIndex('adapter', '1.1.0', ['linux/arm64']);
    const refused = (
      await emulator.control<Resolution>('POST', '/_emulator/registries/resolve', {
        image: `contoso.azurecr.io/adapter@${armOnly.digest}`,
        identity: 'id-acr-pull',
      })
    ).body;
    expect(refused).toMatchObject({
      kind: 'notFound',
      message: expect.stringContaining('no match for platform'),
    });
  });

  it("lists a repository's tags as ACR's /acr/v1/{repo}/_tags does: metadata_read scope, time order, Link paging", async () => {
    const unauthenticated = await fetch(`${endpoint}/acr/v1/tagged/_tags`);
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('www-authenticate')).toBe(
      `Bearer realm="${endpoint}/oauth2/token",service="contoso.azurecr.io",scope="repository:tagged:metadata_read"`,
    );
    // Pushes a few milliseconds apart, so each moves the tag at a later time than the one before.
    const pushTag = async (tag: string) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return emulator.control<PushResult>('POST', '/_emulator/registries/contoso/push', {
        repository: 'tagged',
        tag,
      });
    };
    const first = (await pushTag('1.0.0')).body;
    await pushTag('1.1.0');
    await pushTag('2.0.0');
    const moved = (await pushTag('1.0.0')).body; // the tag moves to a new digest: now the most recent

    const pullOnly = await accessToken('repository:tagged:pull');
    const refused = await fetch(`${endpoint}/acr/v1/tagged/_tags`, {
      headers: { authorization: `Bearer ${pullOnly.body.access_token}` },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"');

    const { body } = await accessToken('repository:tagged:metadata_read');
    const auth = { authorization: `Bearer ${body.access_token}` };
    const page1 = await fetch(`${endpoint}/acr/v1/tagged/_tags?n=2&orderby=timedesc`, { headers: auth });
    expect(page1.status).toBe(200);
    const link = page1.headers.get('link');
    expect(link).toBe('</acr/v1/tagged/_tags?last=2.0.0&n=2&orderby=timedesc>; rel="next"');
    const list1 = (await page1.json()) as {
      registry: string;
      imageName: string;
      tags: { name: string; digest: string; createdTime: string; lastUpdateTime: string }[];
    };
    expect(list1).toMatchObject({ registry: 'contoso.azurecr.io', imageName: 'tagged' });
    expect(list1.tags.map((t) => t.name)).toEqual(['1.0.0', '2.0.0']);
    const moved100 = list1.tags[0]!;
    expect(moved100.digest).toBe(moved.digest);
    expect(moved100.digest).not.toBe(first.digest);
    // Re-pushing moved the tag: created when first pushed, updated when moved (after 2.0.0's push).
    expect(Date.parse(moved100.lastUpdateTime)).toBeGreaterThan(Date.parse(moved100.createdTime));
    expect(Date.parse(moved100.lastUpdateTime)).toBeGreaterThan(Date.parse(list1.tags[1]!.lastUpdateTime));
    const page2 = await fetch(`${endpoint}${/<([^>]+)>/.exec(link!)![1]}`, { headers: auth });
    expect(page2.headers.get('link')).toBeNull();
    expect(((await page2.json()) as { tags: { name: string }[] }).tags.map((t) => t.name)).toEqual(['1.1.0']);
    const byName = await fetch(`${endpoint}/acr/v1/tagged/_tags`, { headers: auth });
    expect(((await byName.json()) as { tags: { name: string }[] }).tags.map((t) => t.name)).toEqual([
      '1.0.0',
      '1.1.0',
      '2.0.0',
    ]);
    const badSize = await fetch(`${endpoint}/acr/v1/tagged/_tags?n=0`, { headers: auth });
    expect(badSize.status).toBe(400);
    expect(await badSize.json()).toMatchObject({ errors: [{ code: 'PAGINATION_NUMBER_INVALID' }] });

    // The app's adapter follows the Link header page by page and keeps the time order.
    const paging = new RegistryDataPlaneAdapter(credential, {
      endpointTemplate: String(emulator.stack['registryEndpointTemplate']),
      tagPageSize: 1,
    });
    const mark = (await emulator.requestCounts()).lastSeq;
    const tags = await paging.listTags('contoso.azurecr.io', 'tagged');
    expect(tags.map((t) => [t.name, t.digest])).toEqual([
      ['1.0.0', moved.digest],
      ['2.0.0', expect.stringMatching(DIGEST)],
      ['1.1.0', expect.stringMatching(DIGEST)],
    ]);
    expect(tags.every((t) => typeof t.lastUpdatedOn === 'string' && typeof t.createdOn === 'string')).toBe(
      true,
    );
    const listed = await emulator.control<{ entries: { operation: string }[] }>(
      'GET',
      `/_emulator/requests?since=${mark}&operation=ContainerRegistry_GetTags`,
    );
    expect(listed.body.entries).toHaveLength(3);
    expect(await adapter.listTags('contoso.azurecr.io', 'never-pushed')).toEqual([]);

    await emulator.control('POST', '/_emulator/registries/contoso/dataPlaneAccess', {
      principalId: DEFAULT_PRINCIPAL_ID,
      pull: false,
    });
    const denied = await adapter.listTags('contoso.azurecr.io', 'tagged').catch((e: unknown) => e);
    await emulator.control('POST', '/_emulator/registries/contoso/dataPlaneAccess', {
      principalId: DEFAULT_PRINCIPAL_ID,
      pull: true,
    });
    expect(denied).toMatchObject({ code: 'RegistryAccessDenied' });
    expect((denied as Error).message).toContain('list the tags of tagged');
  });

  it('maps refusals: denied pull → RegistryAccessDenied naming AcrPull, unknown digest → not found, 429/503 → transient, a body not matching its digest → terminal', async () => {
    const pushed = await pushIndex('errors', '1.0.0', ['linux/amd64']);
    const deny = await emulator.control('POST', '/_emulator/registries/contoso/dataPlaneAccess', {
      principalId: DEFAULT_PRINCIPAL_ID,
      pull: false,
    });
    expect(deny.status).toBe(200);
    const denied = await adapter
      .getManifest('contoso.azurecr.io', 'errors', pushed.digest)
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(TerminalError);
    expect(denied).toMatchObject({ code: 'RegistryAccessDenied', statusCode: 401 });
    expect((denied as Error).message).toContain('AcrPull');
    expect((denied as Error).message).toContain('Container Registry Repository Reader');
    await emulator.control('POST', '/_emulator/registries/contoso/dataPlaneAccess', {
      principalId: DEFAULT_PRINCIPAL_ID,
      pull: true,
    });

    const missing = await adapter
      .getManifest('contoso.azurecr.io', 'errors', `sha256:${'0'.repeat(64)}`)
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);

    await emulator.control('POST', '/_emulator/faults', {
      kind: 'throttle',
      match: { operation: 'Manifests_Get' },
      retryAfterSeconds: 3,
      count: 1,
    });
    const throttled = await adapter
      .getManifest('contoso.azurecr.io', 'errors', pushed.digest)
      .catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(TransientError);
    expect(throttled).toMatchObject({ throttled: true, retryAfterMs: 3000, statusCode: 429 });
    // The fault is used up: the next read works.
    expect((await adapter.getManifest('contoso.azurecr.io', 'errors', pushed.digest)).digest).toBe(
      pushed.digest,
    );

    await emulator.control('POST', '/_emulator/faults', {
      kind: 'error',
      status: 503,
      match: { operation: 'Authentication_ExchangeAadAccessTokenForAcrRefreshToken' },
      count: 1,
    });
    const unavailable = await adapter
      .getManifest('contoso.azurecr.io', 'errors', pushed.digest)
      .catch((e: unknown) => e);
    expect(unavailable).toBeInstanceOf(TransientError);
    expect(unavailable).toMatchObject({ statusCode: 503, throttled: false });

    // A manifest pushed under a caller-chosen digest has no content hashing to it: the adapter refuses the body.
    const chosen = `sha256:${'c'.repeat(64)}`;
    await emulator.control('POST', '/_emulator/registries/contoso/push', {
      repository: 'errors',
      tag: 'chosen',
      digest: chosen,
    });
    const mismatch = await adapter
      .getManifest('contoso.azurecr.io', 'errors', chosen)
      .catch((e: unknown) => e);
    expect(mismatch).toBeInstanceOf(TerminalError);
    expect(mismatch).toMatchObject({ code: 'DigestMismatch' });
  });
});
