/**
 * The adapters against real servers, through the real SDK clients: the emulator (ARM container groups and
 * registries, Key Vault, Event Grid) with managed-identity tokens, and Azurite for the rollout store.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { ContainerRegistryManagementClient } from '@azure/arm-containerregistry';
import { TableClient } from '@azure/data-tables';
import { EventGridPublisherClient } from '@azure/eventgrid';
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicGroupSpec } from '../support/groupSpecs.js';
import { waitFor } from '../../support/waiting.js';
import { ContainerGroupsAdapter } from '../../../src/adapters/containerGroups.js';
import { HttpHealthProbe } from '../../../src/adapters/healthProbe.js';
import { EventGridNotifier } from '../../../src/adapters/notifier.js';
import { RegistriesAdapter } from '../../../src/adapters/registries.js';
import { TableRolloutStore } from '../../../src/adapters/rolloutStore.js';
import { SecretsAdapter } from '../../../src/adapters/secrets.js';
import { ConflictError, NotFoundError, TerminalError, TransientError } from '../../../src/domain/errors.js';
import type { AppState, HistoryEntry, ReconcileResult } from '../../../src/domain/model.js';
import type { ContainerGroupSpec, ContainerGroupView } from '../../../src/domain/ports.js';
import { startAzurite, type TestAzurite } from '../support/azurite.js';
import { startTestEmulator, useManagedIdentity, type TestEmulator } from '../support/emulator.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const ARM_SCOPE = 'https://management.azure.com/.default';
const SUBNET_ID = `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-apps/subnets/aci`;
const IDENTITY_ID = `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-acr-pull`;
const CONTOSO_ID = `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/contoso`;
const LOCKED_ID = `/subscriptions/${SUB}/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/locked`;
const PAGE_SIZE = 5;

let emulator: TestEmulator;
let azurite: TestAzurite;
let restoreIdentity: () => void;
let credential: DefaultAzureCredential;
let groups: ContainerGroupsAdapter;

/** A spec for a public image (the emulator treats registries it does not emulate as public and healthy). */
function seedSpec(name: string): ContainerGroupSpec {
  return publicGroupSpec(name, SUBNET_ID, { app: 'web' });
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([
    startTestEmulator({ pageSize: { containerGroups: PAGE_SIZE, secrets: PAGE_SIZE } }),
    startAzurite(),
  ]);
  restoreIdentity = useManagedIdentity(emulator);
  credential = new DefaultAzureCredential();
  groups = new ContainerGroupsAdapter(
    new ContainerInstanceManagementClient(credential, SUB, {
      endpoint: emulator.url,
      credentialScopes: [ARM_SCOPE],
    }),
  );
});

afterAll(async () => {
  restoreIdentity?.();
  await Promise.all([emulator?.close(), azurite?.stop()]);
});

/** Runs `fn` with one emulator fault in place (the control API's /_emulator/faults), then removes that fault. */
async function withFault<T>(fault: Record<string, unknown>, fn: () => Promise<T>): Promise<T> {
  const added = await emulator.control<{ id: string }>('POST', '/_emulator/faults', fault);
  try {
    return await fn();
  } finally {
    await emulator.control('DELETE', `/_emulator/faults/${added.body.id}`);
  }
}

// ---------------------------------------------------------------- container groups

describe('ContainerGroupsAdapter', () => {
  it('lists a resource group page by page: ceil(n / pageSize) list calls, every group once', async () => {
    const n = 12;
    const seeded = await emulator.control('POST', '/_emulator/containerGroups/seed', {
      resourceGroup: 'rg-paging',
      count: n,
      namePrefix: 'pg',
      subnetIds: [SUBNET_ID],
      tags: { 'ip-secret': 'x' },
    });
    expect(seeded.status).toBe(201);
    const before = await emulator.requestCounts();
    const listed = await groups.listByResourceGroup('rg-paging');
    const after = await emulator.requestCounts(before.lastSeq);
    expect(after.counts['ContainerGroups_ListByResourceGroup']).toBe(Math.ceil(n / PAGE_SIZE));
    expect(after.counts['ContainerGroups_Get'] ?? 0).toBe(0);
    expect(listed.map((g) => g.name).sort()).toEqual(
      Array.from({ length: n }, (_, i) => `pg-${i + 1}`).sort(),
    );
    for (const g of listed) {
      expect(g.resourceGroup.toLowerCase()).toBe('rg-paging');
      expect(g.tags['ip-secret']).toBe('x');
      expect(g.containers[0]?.name).toBe('app');
    }
  });

  it('the request timeout is each page’s: a listing longer than it in total, every page within it, completes (issue 15)', async () => {
    const adapter = new ContainerGroupsAdapter(
      new ContainerInstanceManagementClient(credential, SUB, {
        endpoint: emulator.url,
        credentialScopes: [ARM_SCOPE],
      }),
      { requestTimeoutMs: 1_000 },
    );
    const n = PAGE_SIZE * 6;
    const seeded = await emulator.control('POST', '/_emulator/containerGroups/seed', {
      resourceGroup: 'rg-slow-paging',
      count: n,
      namePrefix: 'slow',
      subnetIds: [SUBNET_ID],
    });
    expect(seeded.status).toBe(201);
    // 300 ms a page: six pages take well over the 1 s timeout in total, each page well within it.
    const latency = {
      kind: 'latency',
      match: { operation: 'ContainerGroups_ListByResourceGroup' },
      latencyMs: 300,
    };
    await withFault(latency, async () => {
      const before = await emulator.requestCounts();
      const listed = await adapter.listByResourceGroup('rg-slow-paging');
      const after = await emulator.requestCounts(before.lastSeq);
      expect(after.counts['ContainerGroups_ListByResourceGroup']).toBe(6);
      expect(new Set(listed.map((g) => g.name)).size).toBe(n);
    });
  });

  it('lists a resource group with no groups as []', async () => {
    expect(await groups.listByResourceGroup('rg-nothing-here')).toEqual([]);
  });

  it('get of a missing group is undefined; restart of a missing group is NotFoundError', async () => {
    expect(await groups.get('rg-apps', 'does-not-exist')).toBeUndefined();
    expect(await caught(groups.restart('rg-apps', 'does-not-exist'))).toBeInstanceOf(NotFoundError);
  });

  it('beginCreate returns once ARM accepted the PUT, before the group runs; the group then runs and serves', async () => {
    const pushed = await emulator.control<{ digest: string }>('POST', '/_emulator/registries/contoso/push', {
      repository: 'web',
      tag: '1.0.0',
    });
    expect(pushed.status).toBe(200);
    const image = `contoso.azurecr.io/web@${pushed.body.digest}`;
    const spec: ContainerGroupSpec = {
      name: 'web-blue',
      location: 'westeurope',
      tags: { app: 'web', colour: 'blue', 'managed-by': 'aci-bluegreen' },
      osType: 'Linux',
      restartPolicy: 'Always',
      subnetId: SUBNET_ID,
      ports: [8080],
      registry: { server: 'contoso.azurecr.io', identity: IDENTITY_ID },
      containers: [
        {
          name: 'web',
          image,
          cpu: 0.5,
          memoryInGB: 1,
          ports: [8080],
          env: { LOG_LEVEL: 'info' },
          secureEnv: { DB_PASSWORD: 'hunter2-not-logged' },
        },
      ],
    };
    const before = await emulator.requestCounts();
    await groups.beginCreate('rg-apps', spec);
    const first = await groups.get('rg-apps', 'web-blue');
    const calls = await emulator.requestCounts(before.lastSeq);
    expect(calls.counts['ContainerGroups_CreateOrUpdate']).toBe(1);
    expect(first).toBeDefined();
    expect(first!.state === 'Running' && first!.provisioningState === 'Succeeded').toBe(false);
    expect(first!.tags).toMatchObject({ app: 'web', colour: 'blue' });

    const running = await waitFor('web-blue Running', async () => {
      const g = await groups.get('rg-apps', 'web-blue');
      return g?.state === 'Running' && g.provisioningState === 'Succeeded' && g.ip ? g : undefined;
    });
    expect(running.ip).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(running.containers).toHaveLength(1);
    const c = running.containers[0]!;
    expect(c.image).toBe(image);
    expect(c.currentState?.state).toBe('Running');
    expect(c.currentState?.startTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(Array.isArray(c.events)).toBe(true);
    expect(JSON.stringify(running)).not.toContain('hunter2-not-logged');

    const probe = await new HttpHealthProbe().check(`http://${running.ip}:8080/healthz`, 5_000);
    expect(probe.ok).toBe(true);
    expect(probe.bodySnippet).toContain('"group":"web-blue"');
    const served = await (await fetch(`http://${running.ip}:8080/`)).text();
    expect(served).toContain(pushed.body.digest);

    // The PUT body, as the emulator stored it: private IP on the port, subnet, identity pull.
    const raw = await new ContainerInstanceManagementClient(credential, SUB, {
      endpoint: emulator.url,
      credentialScopes: [ARM_SCOPE],
    }).containerGroups.get('rg-apps', 'web-blue');
    expect(raw.ipAddress?.type).toBe('Private');
    expect(raw.ipAddress?.ports).toEqual([{ protocol: 'TCP', port: 8080 }]);
    expect(raw.subnetIds?.[0]?.id.toLowerCase()).toBe(SUBNET_ID.toLowerCase());
    expect(raw.imageRegistryCredentials?.[0]).toMatchObject({
      server: 'contoso.azurecr.io',
      identity: IDENTITY_ID,
    });
    expect(Object.keys(raw.identity?.userAssignedIdentities ?? {}).map((k) => k.toLowerCase())).toEqual([
      IDENTITY_ID.toLowerCase(),
    ]);
    const env = raw.containers[0]?.environmentVariables ?? [];
    expect(env.find((e) => e.name === 'LOG_LEVEL')?.value).toBe('info');
    expect(env.find((e) => e.name === 'DB_PASSWORD')?.value).toBeUndefined();

    // And it shows up in the listing with the same view.
    const listed = (await groups.listByResourceGroup('rg-apps')).find((g) => g.name === 'web-blue');
    expect(listed?.ip).toBe(running.ip);
  });

  it('beginCreate of an image that cannot be pulled still returns; the failure shows on the group', async () => {
    const spec: ContainerGroupSpec = {
      name: 'web-green',
      location: 'westeurope',
      tags: { app: 'web' },
      osType: 'Linux',
      restartPolicy: 'Always',
      subnetId: SUBNET_ID,
      ports: [8080],
      registry: { server: 'contoso.azurecr.io', identity: IDENTITY_ID },
      containers: [
        {
          name: 'web',
          image: `contoso.azurecr.io/web@sha256:${'0'.repeat(64)}`,
          cpu: 0.5,
          memoryInGB: 1,
          ports: [8080],
          env: {},
          secureEnv: {},
        },
      ],
    };
    await groups.beginCreate('rg-apps', spec);
    const failed = await waitFor('web-green pull failure', async () => {
      const g = await groups.get('rg-apps', 'web-green');
      const events = [...(g?.events ?? []), ...(g?.containers.flatMap((c) => c.events) ?? [])];
      return events.some((e) => /pull/i.test(`${e.name} ${e.message}`) && !/^pulling$/i.test(e.name ?? ''))
        ? g
        : undefined;
    });
    expect(failed.state).not.toBe('Running');
  });

  it('beginCreate returns when the PUT was accepted even if the first status poll fails; nothing polls afterwards', async () => {
    const spec = seedSpec('web-poll');
    await emulator.control('POST', '/_emulator/faults', {
      kind: 'error',
      status: 400,
      code: 'BadRequest',
      match: { operation: 'ContainerInstance_GetOperationStatus' },
      count: 1,
    });
    const before = await emulator.requestCounts();
    await groups.beginCreate('rg-apps', spec);
    await new Promise((r) => setTimeout(r, 1_500));
    const after = await emulator.requestCounts(before.lastSeq);
    expect(after.counts['ContainerGroups_CreateOrUpdate']).toBe(1);
    expect(after.counts['ContainerInstance_GetOperationStatus']).toBe(1);
    expect(await groups.get('rg-apps', 'web-poll')).toBeDefined();
    await emulator.control('DELETE', '/_emulator/faults');
  });

  it('a PUT refused because the image cannot be pulled (sync validation) is a TerminalError InaccessibleImage', async () => {
    await emulator.control('POST', '/_emulator/containerGroups/options', { imageValidation: 'sync' });
    try {
      const spec = seedSpec('web-refused');
      spec.containers[0]!.image = `contoso.azurecr.io/web@sha256:${'1'.repeat(64)}`;
      const e = await caught(groups.beginCreate('rg-apps', spec));
      expect(e).toBeInstanceOf(TerminalError);
      expect((e as TerminalError).code).toBe('InaccessibleImage');
      expect(await groups.get('rg-apps', 'web-refused')).toBeUndefined();
    } finally {
      await emulator.control('POST', '/_emulator/containerGroups/options', { imageValidation: 'async' });
    }
  });

  it('delete is idempotent: deleting, deleted and never-existing groups all succeed', async () => {
    await emulator.control('POST', '/_emulator/containerGroups/seed', {
      resourceGroup: 'rg-delete',
      count: 1,
      namePrefix: 'gone',
    });
    expect(await groups.get('rg-delete', 'gone-1')).toBeDefined();
    await groups.delete('rg-delete', 'gone-1');
    await groups.delete('rg-delete', 'gone-1');
    await waitFor('gone-1 deleted', async () =>
      (await groups.get('rg-delete', 'gone-1')) ? undefined : true,
    );
    await groups.delete('rg-delete', 'gone-1');
    await groups.delete('rg-delete', 'never-was');
  });

  it('an ARM 429 becomes a throttled TransientError carrying Retry-After', async () => {
    await emulator.control('POST', '/_emulator/faults', {
      kind: 'throttle',
      match: { operation: 'ContainerGroups_ListByResourceGroup' },
      count: 4, // the SDK retries a 429 with Retry-After 3 times: all four answers are 429
      retryAfterSeconds: 0,
    });
    const e = await caught(groups.listByResourceGroup('rg-paging'));
    expect(e).toBeInstanceOf(TransientError);
    expect((e as TransientError).throttled).toBe(true);
    expect((e as TransientError).retryAfterMs).toBe(0);
    await emulator.control('DELETE', '/_emulator/faults');
  });

  it('view mapping keeps group and container events with ISO times', async () => {
    const g = (await groups.get('rg-apps', 'web-blue')) as ContainerGroupView;
    const events = [...g.events, ...g.containers.flatMap((c) => c.events)];
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) if (e.lastTimestamp) expect(e.lastTimestamp).toMatch(/Z$/);
  });
});

// ---------------------------------------------------------------- registries

describe('RegistriesAdapter', () => {
  const registries = () =>
    new RegistriesAdapter(
      (subscriptionId) =>
        new ContainerRegistryManagementClient(credential, subscriptionId, {
          endpoint: emulator.url,
          credentials: { scopes: [ARM_SCOPE] },
        }),
    );

  it('gets a registry by resource id', async () => {
    const r = await registries().get(CONTOSO_ID);
    expect(r.name).toBe('contoso');
    expect(r.loginServer).toBe('contoso.azurecr.io');
    expect(r.publicNetworkAccess).toBe('Enabled');
    expect(r.id.toLowerCase()).toBe(CONTOSO_ID.toLowerCase());
  });

  it("reports the locked registry's network restriction", async () => {
    const r = await registries().get(LOCKED_ID);
    expect(r.publicNetworkAccess).toBe('Disabled');
    expect(r.loginServer).toBe('locked.azurecr.io');
    if (r.networkRuleSetDefaultAction !== undefined) expect(r.networkRuleSetDefaultAction).toBe('Deny');
  });

  it('a missing registry is NotFoundError', async () => {
    const e = await caught(registries().get(CONTOSO_ID.replace(/contoso$/, 'nosuchregistry')));
    expect(e).toBeInstanceOf(NotFoundError);
  });
});

// ---------------------------------------------------------------- Key Vault

describe('SecretsAdapter', () => {
  let created = 0;
  const secrets = () =>
    new SecretsAdapter((vaultUrl) => {
      created++;
      return new SecretClient(vaultUrl, credential);
    });

  it('sets with tags, lists properties across pages, gets values; a missing secret is undefined', async () => {
    const adapter = secrets();
    const vault = emulator.vaultUrl('kv-apps');
    const n = PAGE_SIZE * 2 + 1;
    for (let i = 0; i < n; i++)
      await adapter.set(vault, `ip-${i}`, `127.0.0.${i + 1}`, { ip: `127.0.0.${i + 1}`, app: 'web' });
    expect(created).toBe(1);

    const before = await emulator.requestCounts();
    const listed = await adapter.listIpSecrets(vault);
    const after = await emulator.requestCounts(before.lastSeq);
    expect(after.counts['GetSecrets']).toBe(Math.ceil(listed.size / PAGE_SIZE));
    expect(after.counts['GetSecret'] ?? 0).toBe(0);
    for (let i = 0; i < n; i++)
      expect(listed.get(`ip-${i}`)?.tags).toEqual({ ip: `127.0.0.${i + 1}`, app: 'web' });
    expect(listed.get('ip-0')?.enabled).toBe(true);
    expect(listed.get('ip-0')?.updatedOn).toBeInstanceOf(Date);

    expect(await adapter.getValue(vault, 'ip-3')).toBe('127.0.0.4');
    expect(await adapter.getValue(vault, 'no-such-secret')).toBeUndefined();

    // A new version replaces the tag set.
    await adapter.set(vault, 'ip-3', '127.0.0.99', { ip: '127.0.0.99' });
    expect((await adapter.listIpSecrets(vault)).get('ip-3')?.tags).toEqual({ ip: '127.0.0.99' });
    expect(await adapter.getValue(vault, 'ip-3')).toBe('127.0.0.99');
  });

  it('a Key Vault 429 without Retry-After is a throttled TransientError without retryAfterMs; the next call works', async () => {
    const adapter = secrets();
    const vault = emulator.vaultUrl('kv-apps');
    await adapter.listIpSecrets(vault); // past the challenge
    await emulator.control('POST', '/_emulator/faults', {
      kind: 'throttle',
      match: { service: 'keyvault' },
      count: 1,
    });
    const e = await caught(adapter.listIpSecrets(vault));
    expect(e).toBeInstanceOf(TransientError);
    expect((e as TransientError).throttled).toBe(true);
    expect((e as TransientError).retryAfterMs).toBeUndefined();
    expect((e as TransientError).statusCode).toBe(429);
    expect((await adapter.listIpSecrets(vault)).size).toBeGreaterThan(0);
  });

  it('a throttled later page of a listing is resumed and reported to the observer, once per throttled call (issue 19)', async () => {
    const adapter = secrets();
    const vault = emulator.vaultUrl('kv-apps');
    for (let i = 0; i < PAGE_SIZE * 2 + 1; i++)
      await adapter.set(vault, `paged-${i}`, '127.0.0.1', { ip: 'x' });
    const expected = await adapter.listIpSecrets(vault);
    expect(expected.size).toBeGreaterThan(PAGE_SIZE * 2); // three pages at least
    // share 0.5 throttles every second listing call: the first page passes, every later page fails once.
    await withFault({ kind: 'throttle', match: { operation: 'GetSecrets' }, share: 0.5 }, async () => {
      const before = await emulator.requestCounts();
      let reported = 0;
      const listed = await adapter.listIpSecrets(vault, { onThrottled: () => reported++ });
      const after = await emulator.requestCounts(before.lastSeq);
      const { statuses } = after;
      expect([...listed.keys()].sort()).toEqual([...expected.keys()].sort());
      expect(statuses['GetSecrets 429']).toBeGreaterThan(0);
      expect(reported).toBe(statuses['GetSecrets 429']);
    });
  });

  it('the request timeout is each page’s: a listing longer than it in total, every page within it, completes (issue 15)', async () => {
    const adapter = new SecretsAdapter((vaultUrl) => new SecretClient(vaultUrl, credential), {
      requestTimeoutMs: 1_000,
    });
    const vault = emulator.vaultUrl('kv-apps');
    for (let i = 0; i < PAGE_SIZE * 6; i++) await adapter.set(vault, `slow-${i}`, '127.0.0.1', { ip: 'x' });
    const pages = Math.ceil((await adapter.listIpSecrets(vault)).size / PAGE_SIZE);
    expect(pages).toBeGreaterThanOrEqual(6);
    // 300 ms a page: the listing takes well over the 1 s timeout in total, each page well within it.
    await withFault({ kind: 'latency', match: { operation: 'GetSecrets' }, latencyMs: 300 }, async () => {
      const before = await emulator.requestCounts();
      const listed = await adapter.listIpSecrets(vault);
      const after = await emulator.requestCounts(before.lastSeq);
      expect(after.counts['GetSecrets']).toBe(pages);
      expect([...listed.keys()].filter((k) => k.startsWith('slow-'))).toHaveLength(PAGE_SIZE * 6);
    });
  });

  it('errors never carry the secret value', async () => {
    const adapter = secrets();
    const vault = emulator.vaultUrl('kv-apps');
    await adapter.listIpSecrets(vault);
    await emulator.control('POST', '/_emulator/faults', {
      kind: 'error',
      status: 400,
      code: 'BadParameter',
      match: { operation: 'SetSecret' },
      count: 1,
    });
    const e = await caught(adapter.set(vault, 'ip-x', 'very-secret-value-123', { ip: 'x' }));
    expect(String((e as Error).message)).not.toContain('very-secret-value-123');
    expect(JSON.stringify(e)).not.toContain('very-secret-value-123');
    expect((e as Error).cause).toBeUndefined();
  });

  it('keeps one client per vault whatever the spelling', async () => {
    created = 0;
    const adapter = secrets();
    await adapter.getValue(emulator.vaultUrl('kv-apps'), 'ip-1');
    await adapter.getValue(
      emulator.vaultUrl('kv-apps').toUpperCase().replace('HTTPS', 'https') + '/',
      'ip-1',
    );
    await adapter.getValue(emulator.vaultUrl('kv-legacy'), 'ip-1');
    expect(created).toBe(2);
  });
});

// ---------------------------------------------------------------- rollout store (Azurite)

function state(app: string, n: number, extra: Partial<AppState> = {}): AppState {
  return {
    schemaVersion: 1,
    app,
    pendingDeletions: [],
    recent: [],
    outbox: [],
    updatedAt: new Date(Date.UTC(2026, 10, 21, 10, 0, n)).toISOString(),
    ...extra,
  };
}

function history(app: string, rolloutId: string, finishedAt: string): HistoryEntry {
  return {
    app,
    rolloutId,
    digest: `sha256:${'a'.repeat(64)}`,
    tag: '1.0.0',
    outcome: 'succeeded',
    colour: 'blue',
    group: `${app}-blue`,
    startedAt: finishedAt,
    finishedAt,
    durationMs: 1000,
    timeline: [{ step: 'succeeded', at: finishedAt, message: 'done' }],
  };
}

describe('TableRolloutStore', () => {
  let n = 0;
  const store = () =>
    new TableRolloutStore(
      TableClient.fromConnectionString(azurite.connectionString, `rollouts${++n}`, {
        allowInsecureConnection: true,
      }),
    );

  it('creates the table on first use; get of a missing app is undefined; create twice is a ConflictError', async () => {
    const s = store();
    expect(await s.get('web')).toBeUndefined();
    const etag = await s.create('web', state('web', 1));
    expect(etag).toBeTruthy();
    const got = await s.get('web');
    expect(got?.etag).toBe(etag);
    expect(got?.state).toEqual(state('web', 1));
    expect(await caught(s.create('web', state('web', 2)))).toBeInstanceOf(ConflictError);
    // A second store on the same (existing) table works too.
    const again = new TableRolloutStore(
      TableClient.fromConnectionString(azurite.connectionString, `rollouts${n}`, {
        allowInsecureConnection: true,
      }),
    );
    expect((await again.get('web'))?.etag).toBe(etag);
  });

  it('compare-and-swap: two concurrent replaces with the same ETag, exactly one wins', async () => {
    const s = store();
    const etag = await s.create('api', state('api', 1));
    const results = await Promise.allSettled([
      s.replace('api', state('api', 2), etag),
      s.replace('api', state('api', 3), etag),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(ConflictError);
    const winner = won[0] as PromiseFulfilledResult<string>;
    const current = await s.get('api');
    expect(current?.etag).toBe(winner.value);
    expect(current?.etag).not.toBe(etag);
    // The stale ETag keeps losing; the fresh one wins.
    expect(await caught(s.replace('api', state('api', 4), etag))).toBeInstanceOf(ConflictError);
    const next = await s.replace('api', state('api', 5), current!.etag);
    expect((await s.get('api'))?.state.updatedAt).toBe(state('api', 5).updatedAt);
    expect(next).not.toBe(current!.etag);
  });

  it('replace of a row that does not exist is a ConflictError (re-read and decide again)', async () => {
    const s = store();
    await s.list();
    expect(
      await caught(s.replace('ghost', state('ghost', 1), 'W/"datetime\'2026-01-01T00%3A00%3A00Z\'"')),
    ).toBeInstanceOf(ConflictError);
  });

  it('lists every app in one query, without history or reconcile rows', async () => {
    const s = store();
    await s.create('a', state('a', 1));
    await s.create('b', state('b', 2));
    await s.appendHistory('a', history('a', 'r1', '2026-11-21T10:00:00.000Z'));
    await s.recordReconcile({
      at: '2026-11-21T10:00:00.000Z',
      durationMs: 5,
      changed: [],
      errors: [],
      warnings: [],
      throttled: 0,
      budgetExhausted: false,
      counts: { resourceGroups: 1, groups: 0, vaults: 1, secretsChecked: 0, writes: 0 },
    });
    const all = await s.list();
    expect(all.map((x) => x.app).sort()).toEqual(['a', 'b']);
    for (const x of all) expect(x.etag).toBeTruthy();
  });

  it('keeps history newest first (by finishedAt), upserts by rollout id, honours the limit', async () => {
    const s = store();
    await s.appendHistory('web', history('web', 'r-old', '2026-11-20T10:00:00.000Z'));
    await s.appendHistory('web', history('web', 'r-new', '2026-11-22T10:00:00.000Z'));
    await s.appendHistory('web', history('web', 'r-mid', '2026-11-21T10:00:00.000Z'));
    await s.appendHistory('web', history('web', 'r-mid', '2026-11-21T10:00:00.000Z'));
    await s.appendHistory('other', history('other', 'x', '2026-11-23T10:00:00.000Z'));
    expect((await s.listHistory('web', 10)).map((h) => h.rolloutId)).toEqual(['r-new', 'r-mid', 'r-old']);
    expect((await s.listHistory('web', 2)).map((h) => h.rolloutId)).toEqual(['r-new', 'r-mid']);
    expect(await s.listHistory('nobody', 5)).toEqual([]);
  });

  it('records and reads the last reconcile; large results are stored (chunked or trimmed)', async () => {
    const s = store();
    expect(await s.getLastReconcile()).toBeUndefined();
    const big: ReconcileResult = {
      at: '2026-11-21T10:01:00.000Z',
      durationMs: 1234,
      changed: Array.from({ length: 3000 }, (_, i) => ({
        kind: 'secret' as const,
        target: `https://kv-apps.vault.azure.net/secrets/s-${i}`,
        message: `s-${i}: 127.0.0.1 → 127.0.0.2 (rg/g-${i})`,
      })),
      errors: [{ scope: 'vault', target: 'https://kv', message: 'throttled', retryable: true }],
      warnings: [],
      throttled: 3,
      budgetExhausted: false,
      counts: { resourceGroups: 3, groups: 300, vaults: 1, secretsChecked: 300, writes: 3000 },
    };
    await s.recordReconcile(big);
    const got = await s.getLastReconcile();
    expect(got?.at).toBe(big.at);
    expect(got?.throttled).toBe(3);
    expect(got?.errors).toEqual(big.errors);
    expect(got?.counts).toEqual(big.counts);
    expect(got!.changed.length).toBeGreaterThan(0);
    expect(got!.changed.length).toBeLessThanOrEqual(big.changed.length);
  });

  it('re-creates a table deleted under it', async () => {
    const name = `rollouts${++n}`;
    const client = TableClient.fromConnectionString(azurite.connectionString, name, {
      allowInsecureConnection: true,
    });
    const s = new TableRolloutStore(client);
    await s.create('web', state('web', 1));
    await client.deleteTable();
    expect(await s.get('web')).toBeUndefined();
    await s.create('web', state('web', 2));
    expect((await s.get('web'))?.state.updatedAt).toBe(state('web', 2).updatedAt);
  });

  it('stores a state larger than one string property (64 KiB) intact', async () => {
    const s = store();
    const timeline = Array.from({ length: 40 }, (_, i) => ({
      step: 'healthGate' as const,
      at: new Date(Date.UTC(2026, 10, 21, 10, 0, i)).toISOString(),
      message: `probe ${i}: ${'x'.repeat(2_000)}`,
    }));
    const big = state('big', 1, {
      recent: Array.from({ length: 25 }, (_, i) => ({
        rolloutId: `r${i}`,
        digest: `sha256:${String(i).padStart(64, '0')}`,
        tag: `1.0.${i}`,
        state: 'succeeded' as const,
        startedAt: '2026-11-21T10:00:00.000Z',
      })),
      outbox: [{ kind: 'history', entry: { ...history('big', 'r1', '2026-11-21T10:00:00.000Z'), timeline } }],
    });
    expect(JSON.stringify(big).length).toBeGreaterThan(64 * 1024);
    await s.create('big', big);
    expect((await s.get('big'))?.state).toEqual(big);
  });
});

// ---------------------------------------------------------------- health probe

describe('HttpHealthProbe', () => {
  let server: http.Server;
  /** How many /slow requests the server has answered (each after 3 s). */
  let slowAnswers = 0;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/ok') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'healthy', pad: 'y'.repeat(5_000) }));
      } else if (req.url === '/sick') {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('database unavailable');
      } else if (req.url === '/slow') {
        setTimeout(() => {
          slowAnswers++;
          res.writeHead(200);
          res.end('late');
        }, 3_000).unref();
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const probe = new HttpHealthProbe();

  it('2xx is ok, with a body snippet of at most 200 characters', async () => {
    const r = await probe.check(`${base}/ok`, 2_000);
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(r.bodySnippet?.startsWith('{"status":"healthy"')).toBe(true);
    expect(r.bodySnippet!.length).toBeLessThanOrEqual(200);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('503 is not ok, with the status and the body', async () => {
    expect(await probe.check(`${base}/sick`, 2_000)).toMatchObject({
      ok: false,
      status: 503,
      bodySnippet: 'database unavailable',
    });
  });

  it('connection refused is not ok, with the reason, and does not throw', async () => {
    const closed = net0();
    const r = await probe.check(`http://127.0.0.1:${await closed}/healthz`, 2_000);
    expect(r.ok).toBe(false);
    expect(r.status).toBeUndefined();
    expect(r.error).toMatch(/refused/);
  });

  it('a slow answer times out and does not throw', async () => {
    const answeredBefore = slowAnswers;
    const r = await probe.check(`${base}/slow`, 300);
    // The probe gave up before the server answered.
    expect(slowAnswers).toBe(answeredBefore);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/timed out after 300 ms/);
  });
});

/** A loopback port with nothing listening. */
async function net0(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

// ---------------------------------------------------------------- notifier

describe('EventGridNotifier', () => {
  it('publishes a CloudEvent to the topic with an Entra ID token', async () => {
    const topic = await emulator.control<{ endpoint: string }>('POST', '/_emulator/eventgrid/topics', {
      name: 'rollouts',
      inputSchema: 'CloudEventSchemaV1_0',
    });
    expect([200, 201]).toContain(topic.status);
    const notifier = new EventGridNotifier(
      new EventGridPublisherClient(topic.body.endpoint, 'CloudEvent', credential),
    );
    await notifier.publish({
      type: 'rollout.succeeded',
      id: 'r1.succeeded',
      app: 'web',
      rolloutId: 'r1',
      digest: `sha256:${'b'.repeat(64)}`,
      tag: '1.1.0',
      group: 'web-green',
      at: '2026-11-21T10:00:00.000Z',
    });
    const events = await emulator.control<unknown>('GET', '/_emulator/eventgrid/topics/rollouts/events');
    expect(events.status).toBe(200);
    const text = JSON.stringify(events.body);
    expect(text).toContain('AciBlueGreen.rollout.succeeded');
    expect(text).toContain('/apps/web');
    expect(text).toContain('r1.succeeded');
  });
});
