/**
 * Port contracts: one suite per port of the domain (src/domain/ports.ts), run against the in-memory fake the unit
 * tests use (test/unit/support/fakes.ts) and against the real adapter on the emulator (or Azurite), so a fake
 * cannot drift from the adapter it stands for. A case that passes for one and fails for the other is a fake that
 * lies to the unit tests, or an adapter that breaks the port's promise.
 */
import { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { ContainerRegistryManagementClient } from '@azure/arm-containerregistry';
import { TableClient } from '@azure/data-tables';
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicGroupSpec } from '../support/groupSpecs.js';
import { ContainerGroupsAdapter } from '../../../src/adapters/containerGroups.js';
import { RegistriesAdapter } from '../../../src/adapters/registries.js';
import { TableRolloutStore } from '../../../src/adapters/rolloutStore.js';
import { SecretsAdapter } from '../../../src/adapters/secrets.js';
import { newAppState } from '../../../src/domain/appState.js';
import { ConflictError, NotFoundError } from '../../../src/domain/errors.js';
import type { HistoryEntry, ReconcileResult } from '../../../src/domain/model.js';
import type { ContainerGroups, Registries, RolloutStore, Secrets } from '../../../src/domain/ports.js';
import {
  ENDPOINT_SUBNET_ID,
  FakeClock,
  FakeContainerGroups,
  FakeRegistries,
  FakeRolloutStore,
  FakeSecrets,
  LOCKED_ENDPOINT_ID,
  LOCKED_ID,
  REGISTRY_ID,
  SUB,
  SUBNET_ID,
} from '../../unit/support/fakes.js';
import { startAzurite, type TestAzurite } from '../support/azurite.js';
import { startTestEmulator, useManagedIdentity, type TestEmulator } from '../support/emulator.js';

const ARM_SCOPE = 'https://management.azure.com/.default';

let emulator: TestEmulator;
let azurite: TestAzurite;
let restoreIdentity: () => void;
let credential: DefaultAzureCredential;

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([startTestEmulator(), startAzurite()]);
  restoreIdentity = useManagedIdentity(emulator);
  credential = new DefaultAzureCredential();
});
afterAll(async () => {
  restoreIdentity?.();
  await Promise.all([emulator?.close(), azurite?.stop()]);
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

// ---------------------------------------------------------------- Registries

const registryImplementations: Array<[string, () => Registries]> = [
  ['fake', () => new FakeRegistries()],
  [
    'adapter on the emulator',
    () =>
      new RegistriesAdapter(
        (subscriptionId) =>
          new ContainerRegistryManagementClient(credential, subscriptionId, {
            endpoint: emulator.url,
            credentials: { scopes: [ARM_SCOPE] },
          }),
        { armEndpoint: emulator.url },
      ),
  ],
];

describe.each(registryImplementations)('Registries contract: %s', (_name, make) => {
  it('reads a public registry and a restricted one as ARM shows them', async () => {
    const registries = make();
    expect(await registries.get(REGISTRY_ID)).toMatchObject({
      name: 'contoso',
      loginServer: 'contoso.azurecr.io',
      publicNetworkAccess: 'Enabled',
    });
    const locked = await registries.get(LOCKED_ID);
    expect(locked).toMatchObject({
      name: 'locked',
      loginServer: 'locked.azurecr.io',
      publicNetworkAccess: 'Disabled',
      networkRuleBypassOptions: 'AzureServices',
    });
    expect(locked.privateEndpointIds?.map((id) => id.toLowerCase())).toContain(
      LOCKED_ENDPOINT_ID.toLowerCase(),
    );
    expect((await registries.privateEndpointSubnet(LOCKED_ENDPOINT_ID))?.toLowerCase()).toBe(
      ENDPOINT_SUBNET_ID.toLowerCase(),
    );
  });

  it('a registry that does not exist is a NotFoundError', async () => {
    expect(await rejection(make().get(REGISTRY_ID.replace(/contoso$/, 'nosuchregistry')))).toBeInstanceOf(
      NotFoundError,
    );
  });
});

// ---------------------------------------------------------------- Secrets

const secretImplementations: Array<[string, () => { secrets: Secrets; vault: string }]> = [
  ['fake', () => ({ secrets: new FakeSecrets(new FakeClock()), vault: 'https://kv-apps.vault.azure.net' })],
  [
    'adapter on the emulator',
    () => ({
      secrets: new SecretsAdapter((vaultUrl) => new SecretClient(vaultUrl, credential)),
      vault: emulator.vaultUrl('kv-apps'),
    }),
  ],
];

describe.each(secretImplementations)('Secrets contract: %s', (_name, make) => {
  it('set, then the listing shows the tags and getValue the value; a new version replaces the tag set', async () => {
    const { secrets, vault } = make();
    const name = `contract-${Math.random().toString(36).slice(2, 8)}`;
    expect(await secrets.getValue(vault, name)).toBeUndefined();
    expect((await secrets.listIpSecrets(vault)).has(name)).toBe(false);

    await secrets.set(vault, name, '127.0.0.1', { ip: '127.0.0.1', app: 'web' });
    expect(await secrets.getValue(vault, name)).toBe('127.0.0.1');
    expect((await secrets.listIpSecrets(vault)).get(name)).toMatchObject({
      name,
      tags: { ip: '127.0.0.1', app: 'web' },
      enabled: true,
    });

    await secrets.set(vault, name, '127.0.0.2', { ip: '127.0.0.2' });
    expect(await secrets.getValue(vault, name)).toBe('127.0.0.2');
    expect((await secrets.listIpSecrets(vault)).get(name)?.tags).toEqual({ ip: '127.0.0.2' });
  });

  it('getSecret names the current version and its creation time, which the listing shows too', async () => {
    const { secrets, vault } = make();
    const name = `contract-v-${Math.random().toString(36).slice(2, 8)}`;
    expect(await secrets.getSecret(vault, name)).toBeUndefined();
    await secrets.set(vault, name, 'first', {});
    const v1 = (await secrets.getSecret(vault, name))!;
    expect(v1).toMatchObject({ value: 'first', version: expect.any(String), createdOn: expect.any(Date) });
    expect((await secrets.listIpSecrets(vault)).get(name)?.createdOn?.getTime()).toBe(
      v1.createdOn!.getTime(),
    );
    await secrets.set(vault, name, 'second', {});
    const v2 = (await secrets.getSecret(vault, name))!;
    expect(v2.value).toBe('second');
    expect(v2.version).not.toBe(v1.version);
    expect(v2.createdOn!.getTime()).toBeGreaterThanOrEqual(v1.createdOn!.getTime());
    expect((await secrets.listIpSecrets(vault)).get(name)?.createdOn?.getTime()).toBe(
      v2.createdOn!.getTime(),
    );
  });
});

// ---------------------------------------------------------------- RolloutStore

let tables = 0;
const storeImplementations: Array<[string, () => RolloutStore]> = [
  ['fake', () => new FakeRolloutStore()],
  [
    'adapter on Azurite',
    () =>
      new TableRolloutStore(
        TableClient.fromConnectionString(azurite.connectionString, `contract${++tables}`, {
          allowInsecureConnection: true,
        }),
      ),
  ],
];

function history(rolloutId: string, finishedAt: string): HistoryEntry {
  return {
    app: 'web',
    rolloutId,
    digest: `sha256:${'a'.repeat(64)}`,
    tag: '1.0.0',
    outcome: 'succeeded',
    colour: 'blue',
    group: 'web-blue',
    startedAt: '2026-11-21T10:00:00.000Z',
    finishedAt,
    durationMs: 1000,
    timeline: [],
  };
}

describe.each(storeImplementations)('RolloutStore contract: %s', (_name, make) => {
  it('create, compare-and-swap replace, conflicts, list', async () => {
    const store = make();
    expect(await store.get('web')).toBeUndefined();
    const first = newAppState('web', Date.parse('2026-11-21T10:00:00.000Z'));
    const etag = await store.create('web', first);
    expect(await store.get('web')).toEqual({ state: first, etag });
    expect(await rejection(store.create('web', first))).toBeInstanceOf(ConflictError);

    const second = { ...first, lastAppliedEventTime: '2026-11-21T10:00:01.000Z' };
    const etag2 = await store.replace('web', second, etag);
    expect(etag2).not.toBe(etag);
    expect(await rejection(store.replace('web', first, etag))).toBeInstanceOf(ConflictError);
    expect((await store.get('web'))?.state).toEqual(second);
    expect(await rejection(store.replace('api', first, etag2))).toBeInstanceOf(ConflictError);

    const rows = await store.list();
    expect(rows.map((r) => ({ app: r.app, etag: r.etag }))).toEqual([{ app: 'web', etag: etag2 }]);
  });

  it('history is an upsert per rollout, listed newest first; the last reconcile reads back', async () => {
    const store = make();
    await store.appendHistory('web', history('r1', '2026-11-21T10:01:00.000Z'));
    await store.appendHistory('web', history('r2', '2026-11-21T10:02:00.000Z'));
    await store.appendHistory('web', history('r1', '2026-11-21T10:01:00.000Z')); // a redelivered outbox item
    expect((await store.listHistory('web', 10)).map((h) => h.rolloutId)).toEqual(['r2', 'r1']);
    expect((await store.listHistory('web', 1)).map((h) => h.rolloutId)).toEqual(['r2']);

    expect(await store.getLastReconcile()).toBeUndefined();
    const tick: ReconcileResult = {
      at: '2026-11-21T10:03:00.000Z',
      durationMs: 12,
      changed: [{ kind: 'secret', target: 'kv/secrets/web-ip', message: 'a → b' }],
      errors: [],
      warnings: [],
      throttled: 2,
      budgetExhausted: false,
      counts: { resourceGroups: 1, groups: 3, vaults: 1, secretsChecked: 3, writes: 1 },
    };
    await store.recordReconcile(tick);
    expect(await store.getLastReconcile()).toEqual(tick);
  });
});

// ---------------------------------------------------------------- ContainerGroups

const groupImplementations: Array<[string, () => ContainerGroups]> = [
  ['fake', () => new FakeContainerGroups(new FakeClock())],
  [
    'adapter on the emulator',
    () =>
      new ContainerGroupsAdapter(
        new ContainerInstanceManagementClient(credential, SUB, {
          endpoint: emulator.url,
          credentialScopes: [ARM_SCOPE],
        }),
      ),
  ],
];

const spec = (name: string) =>
  publicGroupSpec(name, SUBNET_ID, { app: 'web', 'managed-by': 'aci-bluegreen' });

describe.each(groupImplementations)('ContainerGroups contract: %s', (_name, make) => {
  it('a created group can be read and is listed; deleting it twice is fine; a missing group is undefined', async () => {
    const groups = make();
    const rg = `rg-contract-${Math.random().toString(36).slice(2, 8)}`;
    expect(await groups.get(rg, 'web-blue')).toBeUndefined();
    expect(await groups.listByResourceGroup(rg)).toEqual([]);

    await groups.beginCreate(rg, spec('web-blue'));
    const got = await groups.get(rg, 'web-blue');
    expect(got).toMatchObject({ name: 'web-blue', tags: { app: 'web', 'managed-by': 'aci-bluegreen' } });
    expect(got!.resourceGroup.toLowerCase()).toBe(rg);
    expect(got!.containers.map((c) => c.name)).toEqual(['web']);
    expect((await groups.listByResourceGroup(rg)).map((g) => g.name)).toEqual(['web-blue']);

    await groups.delete(rg, 'web-blue');
    await groups.delete(rg, 'web-blue');
    const after = await groups.get(rg, 'web-blue');
    if (after) expect(after.provisioningState).toBe('Deleting');
    await groups.delete(rg, 'never-created');
  });

  it('restarting a group that does not exist is a NotFoundError', async () => {
    expect(await rejection(make().restart('rg-apps', 'never-created'))).toBeInstanceOf(NotFoundError);
  });

  it("a created group's definition keeps volumes, mounts and probes, and holds none of its secrets", async () => {
    const groups = make();
    const rg = `rg-contract-${Math.random().toString(36).slice(2, 8)}`;
    expect(await groups.getDefinition(rg, 'web-green')).toBeUndefined();
    const base = spec('web-green');
    const web = base.containers[0]!;
    await groups.beginCreate(rg, {
      ...base,
      volumes: [
        {
          name: 'share',
          kind: 'azureFile',
          shareName: 'data',
          storageAccountName: 'stdata',
          storageAccountKey: 'KEY==',
        },
        { name: 'certs', kind: 'secret', files: { 'tls.crt': 'CERT-CONTENT' } },
      ],
      containers: [
        {
          ...web,
          secureEnv: { DB_PASSWORD: 'db-secret' },
          volumeMounts: [
            { name: 'share', mountPath: '/data' },
            { name: 'certs', mountPath: '/certs', readOnly: true },
          ],
          livenessProbe: { httpGet: { port: 8080, path: '/live' }, periodSeconds: 5 },
        },
      ],
    });
    const d = (await groups.getDefinition(rg, 'web-green'))!;
    expect(d.volumes).toEqual([
      { name: 'share', kind: 'azureFile', shareName: 'data', storageAccountName: 'stdata' },
      { name: 'certs', kind: 'secret' },
    ]);
    expect(d.containers[0]).toMatchObject({
      name: 'web',
      secureEnvNames: ['DB_PASSWORD'],
      volumeMounts: [
        { name: 'share', mountPath: '/data' },
        { name: 'certs', mountPath: '/certs', readOnly: true },
      ],
      livenessProbe: { httpGet: { port: 8080, path: '/live' }, periodSeconds: 5 },
    });
    const text = JSON.stringify(d);
    for (const secret of ['KEY==', 'CERT-CONTENT', 'db-secret']) expect(text).not.toContain(secret);
    await groups.delete(rg, 'web-green');
  });
});
