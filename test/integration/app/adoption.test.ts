/**
 * Issue 18's acceptance, end to end on the local stack (Azurite, the emulator, the functions host running the
 * built app): adopting a group with `adoptGroup.copySpec` loses nothing.
 *
 * - app `cart` adopts rg-legacy/cart-legacy (an Azure Files volume, a secret volume, an emptyDir, a liveness
 *   probe, a secure variable, a sidecar, DNS settings) with its secrets supplied as Key Vault references: a push
 *   replaces it with a group that has the same volumes, mounts, probe and settings, compared field by field on the
 *   ARM GET; the storage key and the secret file came from Key Vault (the emulator's fingerprints of what it was
 *   sent match the vault's values, not the legacy group's), and no secret is in the host's logs, the stored state or
 *   the status.
 * - app `shop` adopts rg-legacy/shop-legacy without references: a push is refused with the list of what to
 *   supply, and no group is created.
 */
import crypto from 'node:crypto';
import {
  ContainerInstanceManagementClient,
  type Container,
  type ContainerGroup,
} from '@azure/arm-containerinstance';
import { TableClient } from '@azure/data-tables';
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../support/waiting.js';
import { useManagedIdentity } from '../support/emulator.js';
import { startTestStack, type TestStack } from '../support/stack.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const RG = 'rg-apps';
const LEGACY_RG = 'rg-legacy';
const SUBNET_ID = `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-adoption-it/subnets/aci`;
const PULL_IDENTITY = `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-acr-pull`;
const REGISTRY_ID = `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/contoso`;
const ARM_SCOPE = 'https://management.azure.com/.default';
const SIDECAR = 'mcr.microsoft.com/oss/nginx/nginx:1.25';

/** The legacy group's own secrets, and the (different) values in Key Vault the new group must get. */
const LEGACY = {
  storageKey: 'bGVnYWN5LXN0b3JhZ2Uta2V5',
  tlsCert: 'legacy certificate',
  dbPassword: 'legacy-db-password',
};
const VAULT = {
  storageKey: 'a2V5LXZhdWx0LXN0b3JhZ2Uta2V5LXZhbHVl',
  tlsCert: '-----BEGIN CERTIFICATE-----\nMIIBkeyvault\n-----END CERTIFICATE-----\n',
};
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function appConfig(name: string, vaultUrl: string, references: boolean): Record<string, unknown> {
  const ref = (secretName: string) => ({ vaultUrl, secretName });
  return {
    name,
    registry: { resourceId: REGISTRY_ID },
    repository: name,
    tagPolicy: { type: 'semver', range: '>=1.0.0' },
    resourceGroup: RG,
    location: 'westeurope',
    subnetId: SUBNET_ID,
    adoptGroup: {
      resourceGroup: LEGACY_RG,
      name: `${name}-legacy`,
      copySpec: true,
      ...(references
        ? {
            keyVaultReferences: {
              secureEnv: { app: { DB_PASSWORD: ref('web-db-password') } },
              storageAccountKeys: { share: ref('cart-storage-key') },
              secretVolumes: { certs: { 'tls.crt': ref('cart-tls-crt') } },
            },
          }
        : {}),
    },
    health: {
      port: 8080,
      path: '/healthz',
      consecutiveSuccesses: 2,
      intervalSeconds: 0.25,
      timeoutSeconds: 10,
    },
    secret: { vaultUrl, name: `${name}-ip` },
    drainSeconds: 1,
    provisioningTimeoutSeconds: 30,
  };
}

/** A legacy group as users run it: volumes, mounts, a liveness probe, a sidecar, DNS settings, secrets. */
function legacyGroup(image: string): ContainerGroup {
  const app: Container = {
    name: 'app',
    image,
    ports: [{ port: 8080 }],
    resources: { requests: { cpu: 0.5, memoryInGB: 1 } },
    environmentVariables: [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'DB_PASSWORD', secureValue: LEGACY.dbPassword },
    ],
    volumeMounts: [
      { name: 'share', mountPath: '/data' },
      { name: 'certs', mountPath: '/certs', readOnly: true },
      { name: 'scratch', mountPath: '/scratch' },
    ],
    livenessProbe: { httpGet: { port: 8080, path: '/healthz' }, periodSeconds: 2, failureThreshold: 3 },
  };
  const sidecar: Container = {
    name: 'proxy',
    image: SIDECAR,
    resources: { requests: { cpu: 0.25, memoryInGB: 0.5 } },
    volumeMounts: [{ name: 'certs', mountPath: '/etc/nginx/certs', readOnly: true }],
  };
  return {
    location: 'westeurope',
    osType: 'Linux',
    restartPolicy: 'Always',
    identity: { type: 'UserAssigned', userAssignedIdentities: { [PULL_IDENTITY]: {} } },
    imageRegistryCredentials: [{ server: 'contoso.azurecr.io', identity: PULL_IDENTITY }],
    subnetIds: [{ id: SUBNET_ID }],
    ipAddress: { type: 'Private', ports: [{ port: 8080, protocol: 'TCP' }] },
    dnsConfig: { nameServers: ['10.0.0.10'], searchDomains: 'contoso.internal', options: 'ndots:2' },
    volumes: [
      {
        name: 'share',
        azureFile: {
          shareName: 'cart-data',
          storageAccountName: 'stcartdata',
          storageAccountKey: LEGACY.storageKey,
        },
      },
      { name: 'certs', secret: { 'tls.crt': b64(LEGACY.tlsCert) } },
      { name: 'scratch', emptyDir: {} },
    ],
    containers: [app, sidecar],
  };
}

interface AdoptionView {
  group: string;
  copySpec: boolean;
  deployable: boolean;
  readAt: string | null;
  missing: { field: string; what: string; why: string }[];
  problems: string[];
  template: Record<string, unknown> | null;
}

interface StatusView {
  rollout: {
    state: string;
    step: string;
    reason: string | null;
    error: string | null;
    digest: string;
  } | null;
  activeGroup: string | null;
  adoption: AdoptionView | null;
}

describe('adoption without loss (issue 18 acceptance)', () => {
  let stack: TestStack;
  let restoreIdentity: (() => void) | undefined;
  let aci: ContainerInstanceManagementClient;
  let kv: SecretClient;
  let legacyCart: ContainerGroup;

  const push = async (repository: string, tag: string): Promise<string> => {
    const res = await stack.emulator.control<{ digest: string }>(
      'POST',
      '/_emulator/registries/contoso/push',
      {
        repository,
        tag,
      },
    );
    expect(res.status).toBe(200);
    return res.body.digest;
  };

  const status = async (app: string): Promise<StatusView> => {
    const res = await stack.call(`/api/status/${app}`);
    expect(res.status).toBe(200);
    return (await res.json()) as StatusView;
  };

  const outcome = (app: string, digest: string) =>
    waitFor(
      `the rollout of ${app} ${digest.slice(7, 19)} to end`,
      async () => {
        const s = await status(app);
        return s.rollout?.digest === digest && s.rollout.state !== 'inProgress' ? s : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );

  const exists = (rg: string, name: string) =>
    aci.containerGroups.get(rg, name).then(
      () => true,
      (e: { statusCode?: number }) => {
        if (e.statusCode === 404) return false;
        throw e;
      },
    );

  beforeAll(async () => {
    stack = await startTestStack({
      appsConfig: ({ vaultUrl }) => ({
        apps: [appConfig('cart', vaultUrl('kv-apps'), true), appConfig('shop', vaultUrl('kv-apps'), false)],
        watch: { resourceGroups: [], groups: [] },
      }),
      env: { STATUS_CACHE_SECONDS: '0' },
    });
    restoreIdentity = useManagedIdentity(stack.emulator);
    const credential = new DefaultAzureCredential();
    aci = new ContainerInstanceManagementClient(credential, SUB, {
      endpoint: stack.emulator.url,
      credentialScopes: [ARM_SCOPE],
    });
    kv = new SecretClient(stack.emulator.vaultUrl('kv-apps'), credential);
    await kv.setSecret('cart-storage-key', VAULT.storageKey);
    await kv.setSecret('cart-tls-crt', VAULT.tlsCert);
    for (const app of ['cart', 'shop']) {
      const image = `contoso.azurecr.io/${app}@${await push(app, '0.9.0')}`;
      await aci.containerGroups.beginCreateOrUpdateAndWait(LEGACY_RG, `${app}-legacy`, legacyGroup(image), {
        updateIntervalInMs: 100,
      });
    }
    legacyCart = await aci.containerGroups.get(LEGACY_RG, 'cart-legacy');
    expect(legacyCart.instanceView?.state).toBe('Running');
  }, 180_000);

  afterAll(async () => {
    restoreIdentity?.();
    await stack?.stop();
  });

  it('refuses to replace a group whose secrets cannot be read back, listing what to supply; nothing is created', async () => {
    await stack.runFunction('reconcile');
    const adopted = await waitFor(
      'reconcile to adopt shop-legacy and read its spec',
      async () => {
        const s = await status('shop');
        return s.adoption?.readAt ? s : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(adopted.activeGroup).toBe('shop-legacy');
    expect(adopted.adoption).toMatchObject({
      group: 'shop-legacy',
      copySpec: true,
      deployable: false,
      problems: [],
    });
    const fields = [
      'adoptGroup.keyVaultReferences.storageAccountKeys.share',
      'adoptGroup.keyVaultReferences.secretVolumes.certs',
      'adoptGroup.keyVaultReferences.secureEnv.app.DB_PASSWORD',
    ];
    expect(adopted.adoption!.missing.map((m) => m.field)).toEqual(fields);

    const s = await outcome('shop', await push('shop', '1.0.0'));
    expect(s.rollout).toMatchObject({ state: 'failed', step: 'accepted', reason: 'AdoptionIncomplete' });
    for (const field of fields) expect(s.rollout!.error).toContain(field);
    expect(await exists(RG, 'shop-blue')).toBe(false);
    expect(await exists(RG, 'shop-green')).toBe(false);
    expect(await exists(LEGACY_RG, 'shop-legacy')).toBe(true);
    expect((await status('shop')).activeGroup).toBe('shop-legacy');
  });

  it('replaces an adopted group with one that has the same volumes, mounts and probe, its secrets from Key Vault', async () => {
    const logMark = stack.hostLogs.length;
    const s = await outcome('cart', await push('cart', '1.0.0'));
    expect(s.rollout).toMatchObject({ state: 'succeeded' });
    expect(s.activeGroup).toBe('cart-blue');
    await waitFor(
      'the adopted group to be deleted after the drain',
      async () => !(await exists(LEGACY_RG, 'cart-legacy')),
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );

    // Field by field on the ARM GET: everything but the image (and what ARM itself assigns) is the same.
    const fresh = await aci.containerGroups.get(RG, 'cart-blue');
    expect(fresh.volumes).toEqual(legacyCart.volumes);
    expect(fresh.dnsConfig).toEqual(legacyCart.dnsConfig);
    expect(fresh.osType).toBe(legacyCart.osType);
    expect(fresh.restartPolicy).toBe(legacyCart.restartPolicy);
    expect(fresh.subnetIds).toEqual(legacyCart.subnetIds);
    expect(fresh.imageRegistryCredentials).toEqual(legacyCart.imageRegistryCredentials);
    expect(Object.keys(fresh.identity?.userAssignedIdentities ?? {})).toEqual(
      Object.keys(legacyCart.identity?.userAssignedIdentities ?? {}),
    );
    expect(fresh.containers.map((c) => c.name)).toEqual(legacyCart.containers.map((c) => c.name));
    for (const [i, c] of fresh.containers.entries()) {
      const old = legacyCart.containers[i]!;
      expect(c.volumeMounts, c.name).toEqual(old.volumeMounts);
      expect(c.livenessProbe, c.name).toEqual(old.livenessProbe);
      expect(c.readinessProbe, c.name).toEqual(old.readinessProbe);
      // TCP is the default protocol: the app names it, the legacy group's author did not.
      const ports = (x: Container) =>
        (x.ports ?? []).map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP' }));
      expect(ports(c), c.name).toEqual(ports(old));
      expect(c.resources, c.name).toEqual(old.resources);
      expect(c.environmentVariables, c.name).toEqual(old.environmentVariables);
    }
    expect(fresh.containers[0]!.image).toMatch(/^contoso\.azurecr\.io\/cart@sha256:/);
    expect(fresh.containers[0]!.image).not.toBe(legacyCart.containers[0]!.image);
    expect(fresh.containers[1]!.image).toBe(SIDECAR);
    // Its liveness probe passes: the container runs and was never restarted.
    expect(fresh.containers[0]!.instanceView).toMatchObject({
      restartCount: 0,
      currentState: { state: 'Running' },
    });

    // The secrets the new group was sent are Key Vault's, not the legacy group's (the emulator shows fingerprints).
    const debug = await stack.emulator.control<{
      value: Array<{ name: string; volumes: Record<string, unknown>[] }>;
    }>('GET', '/_emulator/containerGroups');
    const volumes = debug.body.value.find((g) => g.name === 'cart-blue')!.volumes;
    expect(volumes.find((v) => v['name'] === 'share')).toMatchObject({
      storageAccountKeySha256: sha256(VAULT.storageKey),
      mounts: ['app:/data'],
    });
    expect(volumes.find((v) => v['name'] === 'certs')).toMatchObject({
      fileSha256: { 'tls.crt': sha256(VAULT.tlsCert) },
    });

    // No secret in the host's logs, the stored state (every row of the rollout table) or the status.
    const table = TableClient.fromConnectionString(stack.storage.connectionString, 'rollouts', {
      allowInsecureConnection: true,
    });
    const rows: unknown[] = [];
    for await (const e of table.listEntities()) rows.push(e);
    const everything = [
      stack.hostLogs.slice(logMark).join('\n'),
      JSON.stringify(rows),
      await (await stack.call('/api/status')).text(),
    ].join('\n');
    expect(rows.length).toBeGreaterThan(0);
    expect(everything).toContain('cart-blue');
    const dbPassword = (await kv.getSecret('web-db-password')).value!;
    for (const secret of [VAULT.storageKey, VAULT.tlsCert, b64(VAULT.tlsCert), dbPassword, LEGACY.storageKey])
      expect(everything).not.toContain(secret);
  });
});
