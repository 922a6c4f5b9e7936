/**
 * The emulated ACI accepts and returns what a group in a VNet can have beyond containers and ports (volumes, mounts,
 * probes, init containers, DNS, diagnostics, sku, zones), as ACI does, through `@azure/arm-containerinstance`: GET
 * leaves out every secret; invalid definitions get ACI's codes; a failing liveness probe restarts the container.
 */
import crypto from 'node:crypto';
import {
  ContainerInstanceManagementClient,
  type Container,
  type ContainerGroup,
} from '@azure/arm-containerinstance';
import { DefaultAzureCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../support/waiting.js';
import { startTestEmulator, useManagedIdentity, type TestEmulator } from '../support/emulator.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const RG = 'rg-aci-template-it';
const SUBNET = `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-aci-template-it/subnets/aci`;
const PULL_ID = `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-acr-pull`;
const ARM_SCOPE = 'https://management.azure.com/.default';
const POLL = { updateIntervalInMs: 100 };
const QUICK = { timeoutMs: 15_000, intervalMs: 100 };

const STORAGE_KEY = 'c3RvcmFnZS1rZXktdmFsdWU=';
const TLS_CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function webContainer(image: string, overrides: Partial<Container> = {}): Container {
  return {
    name: 'web',
    image,
    ports: [{ port: 8080 }],
    resources: { requests: { cpu: 0.5, memoryInGB: 1 } },
    environmentVariables: [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'DB_PASSWORD', secureValue: 'db-secret-value' },
    ],
    ...overrides,
  };
}

function vnetGroup(containers: Container[], overrides: Partial<ContainerGroup> = {}): ContainerGroup {
  return {
    location: 'westeurope',
    osType: 'Linux',
    restartPolicy: 'Always',
    identity: { type: 'UserAssigned', userAssignedIdentities: { [PULL_ID]: {} } },
    imageRegistryCredentials: [{ server: 'contoso.azurecr.io', identity: PULL_ID }],
    subnetIds: [{ id: SUBNET }],
    ipAddress: { type: 'Private', ports: [{ port: 8080, protocol: 'TCP' }] },
    containers,
    ...overrides,
  };
}

describe('emulator: ACI volumes, probes, init containers and group settings through @azure/arm-containerinstance', () => {
  let emulator: TestEmulator;
  let restoreEnv: () => void;
  let client: ContainerInstanceManagementClient;
  const image: Record<string, string> = {};

  const push = async (tag: string, behavior?: unknown) => {
    const res = await emulator.control<{ digest: string }>('POST', '/_emulator/registries/contoso/push', {
      repository: 'web',
      tag,
      ...(behavior ? { behavior } : {}),
    });
    expect(res.status).toBe(200);
    image[tag] = `contoso.azurecr.io/web@${res.body.digest}`;
  };

  const create = (name: string, body: ContainerGroup) =>
    client.containerGroups.beginCreateOrUpdateAndWait(RG, name, body, POLL);

  /** The ARM error a PUT gets, as the SDK raises it. */
  const refused = (name: string, body: ContainerGroup) =>
    client.containerGroups.beginCreateOrUpdate(RG, name, body, POLL).then(
      () => {
        throw new Error(`${name} was accepted`);
      },
      (e: { statusCode?: number; code?: string; message: string }) => e,
    );

  beforeAll(async () => {
    emulator = await startTestEmulator({ timings: { provisioningStepMs: 200, lroRetryAfterSeconds: 0 } });
    restoreEnv = useManagedIdentity(emulator);
    client = new ContainerInstanceManagementClient(new DefaultAzureCredential(), SUB, {
      endpoint: emulator.url,
      credentialScopes: [ARM_SCOPE],
    });
    await push('1.0.0');
    await push('sick', 'unhealthy');
  });

  afterAll(async () => {
    restoreEnv();
    await emulator.close();
  });

  it('accepts every volume kind, mounts, probes, an init container, DNS, diagnostics, zone and sku; GET shows them without a secret', async () => {
    const created = await create(
      'full',
      vnetGroup(
        [
          webContainer(image['1.0.0']!, {
            volumeMounts: [
              { name: 'share', mountPath: '/data' },
              { name: 'certs', mountPath: '/certs', readOnly: true },
              { name: 'scratch', mountPath: '/scratch' },
            ],
            livenessProbe: { httpGet: { port: 8080, path: '/live' }, periodSeconds: 1, failureThreshold: 2 },
            readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, initialDelaySeconds: 1 },
          }),
        ],
        {
          sku: 'Confidential',
          confidentialComputeProperties: { ccePolicy: 'cG9saWN5' },
          zones: ['1'],
          priority: 'Regular',
          dnsConfig: { nameServers: ['10.0.0.10'], searchDomains: 'contoso.internal', options: 'ndots:2' },
          diagnostics: {
            logAnalytics: {
              workspaceId: '11111111-2222-3333-4444-555555555555',
              workspaceKey: 'la-key-value',
              logType: 'ContainerInstanceLogs',
            },
          },
          volumes: [
            {
              name: 'share',
              azureFile: {
                shareName: 'web-data',
                storageAccountName: 'stwebdata',
                storageAccountKey: STORAGE_KEY,
              },
            },
            { name: 'certs', secret: { 'tls.crt': b64(TLS_CERT) } },
            { name: 'scratch', emptyDir: {} },
            {
              name: 'website',
              gitRepo: { repository: 'https://github.com/contoso/site', directory: 'site' },
            },
          ],
          initContainers: [
            {
              name: 'migrate',
              image: image['1.0.0']!,
              command: ['/app/migrate'],
              environmentVariables: [{ name: 'DB_PASSWORD', secureValue: 'db-secret-value' }],
              volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
            },
          ],
        },
      ),
    );
    expect(created.provisioningState).toBe('Succeeded');
    const g = await client.containerGroups.get(RG, 'full');
    expect(g).toMatchObject({
      sku: 'Confidential',
      zones: ['1'],
      priority: 'Regular',
      confidentialComputeProperties: { ccePolicy: 'cG9saWN5' },
      dnsConfig: { nameServers: ['10.0.0.10'], searchDomains: 'contoso.internal', options: 'ndots:2' },
      diagnostics: {
        logAnalytics: {
          workspaceId: '11111111-2222-3333-4444-555555555555',
          logType: 'ContainerInstanceLogs',
        },
      },
    });
    expect(g.volumes).toEqual([
      { name: 'share', azureFile: { shareName: 'web-data', storageAccountName: 'stwebdata' } },
      { name: 'certs', secret: {} },
      { name: 'scratch', emptyDir: {} },
      { name: 'website', gitRepo: { repository: 'https://github.com/contoso/site', directory: 'site' } },
    ]);
    const web = g.containers[0]!;
    expect(web.volumeMounts).toEqual([
      { name: 'share', mountPath: '/data' },
      { name: 'certs', mountPath: '/certs', readOnly: true },
      { name: 'scratch', mountPath: '/scratch' },
    ]);
    expect(web.livenessProbe).toEqual({
      httpGet: { port: 8080, path: '/live' },
      periodSeconds: 1,
      failureThreshold: 2,
    });
    expect(web.readinessProbe).toEqual({ exec: { command: ['cat', '/tmp/ready'] }, initialDelaySeconds: 1 });
    expect(web.environmentVariables).toEqual([{ name: 'LOG_LEVEL', value: 'info' }, { name: 'DB_PASSWORD' }]);
    const init = g.initContainers![0]!;
    expect(init).toMatchObject({
      name: 'migrate',
      command: ['/app/migrate'],
      environmentVariables: [{ name: 'DB_PASSWORD' }],
    });
    expect(init.instanceView?.currentState).toMatchObject({
      state: 'Terminated',
      exitCode: 0,
      detailStatus: 'Completed',
    });
    expect(g.diagnostics?.logAnalytics?.workspaceKey).toBeUndefined();

    // The raw JSON of a GET and of a list holds none of the secrets sent.
    const raw =
      JSON.stringify(await client.containerGroups.get(RG, 'full')) +
      JSON.stringify(
        await (async () => {
          const all = [];
          for await (const x of client.containerGroups.listByResourceGroup(RG)) all.push(x);
          return all;
        })(),
      );
    for (const secret of [STORAGE_KEY, b64(TLS_CERT), 'db-secret-value', 'la-key-value'])
      expect(raw).not.toContain(secret);
  });

  it("shows what it mounted on the debug route: mounts, and the secrets' fingerprints only", async () => {
    const res = await emulator.control<{ value: Array<Record<string, unknown>> }>(
      'GET',
      '/_emulator/containerGroups',
    );
    const g = res.body.value.find((x) => x['name'] === 'full')!;
    expect(g['volumes']).toEqual([
      {
        name: 'share',
        kind: 'azureFile',
        mounts: ['web:/data'],
        share: 'stwebdata/web-data',
        storageAccountKeySha256: sha256(STORAGE_KEY),
      },
      {
        name: 'certs',
        kind: 'secret',
        mounts: ['web:/certs (read-only)'],
        fileSha256: { 'tls.crt': sha256(TLS_CERT) },
      },
      { name: 'scratch', kind: 'emptyDir', mounts: ['migrate:/scratch', 'web:/scratch'] },
      { name: 'website', kind: 'gitRepo', mounts: [] },
    ]);
    expect((g['containers'] as Array<Record<string, unknown>>)[0]!['probes']).toEqual({
      liveness: 'httpGet :8080/live',
      readiness: 'exec cat /tmp/ready',
    });
    expect(JSON.stringify(res.body)).not.toContain(STORAGE_KEY);
  });

  it.each<{ name: string; body: ContainerGroup; code: string }>([
    {
      name: 'no-kind',
      code: 'InvalidVolume',
      body: vnetGroup([webContainer('nginx')], { volumes: [{ name: 'cache' }] }),
    },
    {
      name: 'bad-name',
      code: 'InvalidVolumeName',
      body: vnetGroup([webContainer('nginx')], { volumes: [{ name: 'abc', emptyDir: {} }] }),
    },
    {
      name: 'two-kinds',
      code: 'InvalidVolume',
      body: vnetGroup([webContainer('nginx')], {
        volumes: [{ name: 'cache', emptyDir: {}, secret: { a: b64('x') } }],
      }),
    },
    {
      name: 'no-key',
      code: 'InvalidStorageAccountKey',
      body: vnetGroup([webContainer('nginx')], {
        volumes: [{ name: 'share', azureFile: { shareName: 'data', storageAccountName: 'stdata' } }],
      }),
    },
    {
      name: 'not-base64',
      code: 'InvalidSecretVolume',
      body: vnetGroup([webContainer('nginx')], {
        volumes: [{ name: 'certs', secret: { 'tls.crt': 'not base64!' } }],
      }),
    },
    {
      name: 'unknown-mount',
      code: 'InvalidVolumeMount',
      body: vnetGroup([webContainer('nginx', { volumeMounts: [{ name: 'cache', mountPath: '/cache' }] })]),
    },
    {
      name: 'two-probes',
      code: 'InvalidContainerProbe',
      body: vnetGroup([
        webContainer('nginx', { livenessProbe: { exec: { command: ['true'] }, httpGet: { port: 8080 } } }),
      ]),
    },
    {
      name: 'spot-vnet',
      code: 'SpotPriorityContainerGroupNotSupportedForInboundConnectivity',
      body: vnetGroup([webContainer('nginx')], { priority: 'Spot' }),
    },
    {
      name: 'spot-confidential',
      code: 'SpotPriorityContainerGroupNotSupportedInSku',
      body: {
        location: 'westeurope',
        osType: 'Linux',
        containers: [webContainer('nginx')],
        priority: 'Spot',
        sku: 'Confidential',
      },
    },
    {
      name: 'bad-priority',
      code: 'PriorityNotSpecified',
      body: vnetGroup([webContainer('nginx')], { priority: 'Low' }),
    },
    {
      name: 'public-vnet',
      code: 'PublicIPAddressNotSupportedInVirtualNetwork',
      body: vnetGroup([webContainer('nginx')], { ipAddress: { type: 'Public', ports: [{ port: 8080 }] } }),
    },
    {
      name: 'gpu-vnet',
      code: 'GpuNotSupportedInVirtualNetwork',
      body: vnetGroup([
        webContainer('nginx', {
          resources: { requests: { cpu: 1, memoryInGB: 1, gpu: { count: 1, sku: 'V100' } } },
        }),
      ]),
    },
    {
      name: 'windows-volume',
      code: 'VolumesNotSupportedOnWindows',
      body: vnetGroup([webContainer('nginx')], {
        osType: 'Windows',
        volumes: [{ name: 'cache', emptyDir: {} }],
      }),
    },
  ])('refuses $name with $code', async ({ name, body, code }) => {
    const e = await refused(name, body);
    expect(e.statusCode).toBe(400);
    expect(e.code).toBe(code);
  });

  it("answers ARM's InvalidRequestContent for a missing required property (the SDK would not send it)", async () => {
    const token = (await new DefaultAzureCredential().getToken(ARM_SCOPE)).token;
    const put = async (name: string, properties: Record<string, unknown>) => {
      const res = await fetch(
        `${emulator.url}/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerInstance/containerGroups/${name}?api-version=2023-05-01`,
        {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ location: 'westeurope', properties }),
        },
      );
      return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
    };
    const container = {
      name: 'web',
      properties: { image: 'nginx', resources: { requests: { cpu: 0.5, memoryInGB: 1 } } },
    };
    const noPort = await put('no-probe-port', {
      osType: 'Linux',
      containers: [
        { ...container, properties: { ...container.properties, livenessProbe: { httpGet: { path: '/' } } } },
      ],
    });
    expect(noPort.status).toBe(400);
    expect(noPort.body.error.code).toBe('InvalidRequestContent');
    expect(noPort.body.error.message).toContain("Required property 'port' not found in JSON.");
    const noServers = await put('no-name-servers', {
      osType: 'Linux',
      containers: [container],
      dnsConfig: {},
    });
    expect(noServers.body.error).toMatchObject({ code: 'InvalidRequestContent' });
    expect(noServers.body.error.message).toContain("Required property 'nameServers' not found in JSON.");
  });

  it('restarts a container whose liveness probe fails, in place, as ACI does: Unhealthy, Killing, restartCount', async () => {
    const created = await create(
      'liveness',
      vnetGroup([
        webContainer(image['sick']!, {
          livenessProbe: { httpGet: { port: 8080, path: '/healthz' }, periodSeconds: 1, failureThreshold: 1 },
        }),
      ]),
    );
    const ip = created.ipAddress!.ip;
    const view = await waitFor(
      'the container to be restarted twice by its liveness probe',
      async () => {
        const g = await client.containerGroups.get(RG, 'liveness');
        const v = g.containers[0]!.instanceView!;
        return (v.restartCount ?? 0) >= 2 ? { g, v } : undefined;
      },
      QUICK,
    );
    expect(view.g.ipAddress!.ip).toBe(ip);
    expect(view.g.instanceView?.state).toBe('Running');
    expect(view.v.previousState).toMatchObject({ state: 'Terminated', exitCode: 137 });
    const events = view.v.events!;
    expect(events.find((e) => e.name === 'Unhealthy')).toMatchObject({
      type: 'Warning',
      message: 'Liveness probe failed: HTTP probe failed with statuscode: 503',
    });
    expect(events.find((e) => e.name === 'Killing')).toMatchObject({
      message: 'Container web failed liveness probe, will be restarted',
    });
    expect(events.find((e) => e.name === 'Killing')!.count).toBeGreaterThanOrEqual(2);
  });

  it('with restartPolicy Never a failed liveness probe ends the container and the group fails', async () => {
    await create(
      'liveness-never',
      vnetGroup(
        [
          webContainer(image['sick']!, {
            livenessProbe: { httpGet: { port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
          }),
        ],
        { restartPolicy: 'Never' },
      ),
    );
    const g = await waitFor(
      'the group to fail',
      async () => {
        const x = await client.containerGroups.get(RG, 'liveness-never');
        return x.instanceView?.state === 'Failed' ? x : undefined;
      },
      QUICK,
    );
    expect(g.containers[0]!.instanceView).toMatchObject({
      restartCount: 0,
      currentState: { state: 'Terminated', exitCode: 137 },
    });
  });

  it('keeps a healthy container with a passing liveness probe running, and records a failing readiness probe without restarts', async () => {
    await create(
      'readiness',
      vnetGroup([
        webContainer(image['1.0.0']!, {
          livenessProbe: { httpGet: { port: 8080, path: '/live' }, periodSeconds: 1, failureThreshold: 1 },
          readinessProbe: { httpGet: { port: 9090, path: '/ready' }, periodSeconds: 1 },
        }),
      ]),
    );
    const v = await waitFor(
      'readiness failures to be recorded',
      async () => {
        const g = await client.containerGroups.get(RG, 'readiness');
        const x = g.containers[0]!.instanceView!;
        return (x.events ?? []).some((e) => e.name === 'Unhealthy' && (e.count ?? 0) >= 2) ? x : undefined;
      },
      QUICK,
    );
    expect(v.restartCount).toBe(0);
    expect(v.currentState?.state).toBe('Running');
    expect(v.events!.filter((e) => e.name === 'Unhealthy').map((e) => e.message)).toEqual([
      expect.stringMatching(
        /^Readiness probe failed: Get "http:\/\/127\.[\d.]+:9090\/ready": .*connection refused$/,
      ),
    ]);
    await sleep(1200);
    const again = await client.containerGroups.get(RG, 'readiness');
    expect(again.containers[0]!.instanceView!.restartCount).toBe(0);
  });
});
