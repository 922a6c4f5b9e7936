import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, useManagedIdentity, type TestEmulator } from '../support/emulator.js';

interface RestError {
  name: string;
  statusCode?: number;
  code?: string;
  message: string;
}
interface LogEntry {
  operation: string;
  status: number;
  host: string;
}

async function failure(promise: Promise<unknown>): Promise<RestError> {
  const result = await promise.then(
    () => undefined,
    (e: unknown) => e as RestError,
  );
  if (!result) throw new Error('expected the call to fail');
  return result;
}

describe('emulated Key Vault secrets', () => {
  let emulator: TestEmulator;
  let restoreEnv: () => void;
  let credential: DefaultAzureCredential;
  let apps: SecretClient;

  const newClient = (vault: string, options?: ConstructorParameters<typeof SecretClient>[2]) =>
    new SecretClient(emulator.vaultUrl(vault), credential, options);
  const entries = async (since: number) =>
    (
      await emulator.control<{ entries: LogEntry[] }>(
        'GET',
        `/_emulator/requests?since=${since}&entries=true`,
      )
    ).body.entries;

  beforeAll(async () => {
    emulator = await startTestEmulator({ pageSize: { secrets: 2 } });
    restoreEnv = useManagedIdentity(emulator);
    credential = new DefaultAzureCredential();
    apps = newClient('kv-apps');
  });
  afterAll(async () => {
    restoreEnv();
    await emulator.close();
  });

  it('goes through the challenge: the first request gets 401 with WWW-Authenticate, the retry 200', async () => {
    const client = newClient('kv-apps');
    const before = await emulator.requestCounts();
    const set = await client.setSecret('challenge-demo', 'v1');
    expect(set.value).toBe('v1');
    const log = (await entries(before.lastSeq)).filter((e) => e.operation === 'SetSecret');
    expect(log.map((e) => e.status)).toEqual([401, 200]);
    expect(log[0]!.host).toContain('kv-apps.vault.localhost');

    const raw = await fetch(`${emulator.vaultUrl('kv-apps')}/secrets/challenge-demo?api-version=2025-07-01`);
    expect(raw.status).toBe(401);
    expect(raw.headers.get('www-authenticate')).toMatch(
      /^Bearer authorization="https:\/\/login\.windows\.net\/[^"]+", resource="https:\/\/vault\.localhost"$/,
    );
  });

  it('rejects a token issued for another audience', async () => {
    const armOnly: TokenCredential = {
      getToken: (): Promise<AccessToken | null> =>
        credential.getToken('https://management.azure.com/.default'),
    };
    const client = new SecretClient(emulator.vaultUrl('kv-apps'), armOnly);
    const err = await failure(client.getSecret('challenge-demo'));
    expect(err.statusCode).toBe(401);
    expect(err.message).toContain('audience');
  });

  it('sets and gets secrets: latest and by version, with tags and content type', async () => {
    const v1 = await apps.setSecret('web-ip', '10.0.0.4', {
      tags: { app: 'web', colour: 'blue' },
      contentType: 'text/plain',
    });
    const v2 = await apps.setSecret('web-ip', '10.0.0.5', { tags: { app: 'web', colour: 'green' } });
    expect(v1.properties.version).toMatch(/^[0-9a-f]{32}$/);
    expect(v2.properties.version).not.toBe(v1.properties.version);
    expect(v1.properties.id).toBe(`${emulator.vaultUrl('kv-apps')}/secrets/web-ip/${v1.properties.version}`);
    expect(v1.properties.vaultUrl).toBe(emulator.vaultUrl('kv-apps'));
    expect(v1.properties.recoveryLevel).toBe('Recoverable+Purgeable');
    expect(v1.properties.recoverableDays).toBe(90);
    expect(v1.properties.createdOn).toBeInstanceOf(Date);

    const current = await apps.getSecret('web-ip');
    expect(current.value).toBe('10.0.0.5');
    expect(current.properties.version).toBe(v2.properties.version);
    expect(current.properties.tags).toEqual({ app: 'web', colour: 'green' });
    expect(current.properties.contentType).toBeUndefined();

    const old = await apps.getSecret('web-ip', { version: v1.properties.version! });
    expect(old.value).toBe('10.0.0.4');
    expect(old.properties.tags).toEqual({ app: 'web', colour: 'blue' });
    expect(old.properties.contentType).toBe('text/plain');

    // Names are case-insensitive in Key Vault.
    expect((await apps.getSecret('WEB-IP')).value).toBe('10.0.0.5');
  });

  it('answers 404 SecretNotFound for unknown secrets and versions, 400 for invalid names', async () => {
    const missing = await failure(apps.getSecret('no-such-secret'));
    expect(missing.name).toBe('RestError');
    expect(missing.statusCode).toBe(404);
    expect(missing.code).toBe('SecretNotFound');
    expect(missing.message).toContain(
      'A secret with (name/id) no-such-secret was not found in this key vault',
    );
    const badVersion = await failure(apps.getSecret('web-ip', { version: 'f'.repeat(32) }));
    expect(badVersion.statusCode).toBe(404);
    const badName = await failure(apps.setSecret('bad_name', 'x'));
    expect(badName.statusCode).toBe(400);
    expect(badName.code).toBe('BadParameter');
  });

  it('lists secret properties across pages without values (page size 2, and maxPageSize)', async () => {
    expect((await emulator.control('POST', '/_emulator/vaults', { name: 'kv-paging' })).status).toBe(201);
    const paging = newClient('kv-paging');
    for (const n of [1, 2, 3, 4, 5])
      await paging.setSecret(`s${n}`, `value-${n}`, { tags: { n: String(n) } });

    const before = await emulator.requestCounts();
    const names: string[] = [];
    for await (const p of paging.listPropertiesOfSecrets()) {
      names.push(p.name);
      expect((p as { value?: string }).value).toBeUndefined();
      expect(p.tags).toEqual({ n: p.name.slice(1) });
      expect(p.id).toBe(`${emulator.vaultUrl('kv-paging')}/secrets/${p.name}`);
    }
    expect(names).toEqual(['s1', 's2', 's3', 's4', 's5']);
    expect((await emulator.requestCounts(before.lastSeq)).counts['GetSecrets']).toBe(3);

    const pages: number[] = [];
    for await (const page of paging.listPropertiesOfSecrets().byPage({ maxPageSize: 4 }))
      pages.push(page.length);
    expect(pages).toEqual([4, 1]);

    const raw = await fetch(`${emulator.vaultUrl('kv-paging')}/secrets?api-version=7.4&maxresults=26`, {
      headers: {
        authorization: `Bearer ${(await credential.getToken('https://vault.azure.net/.default'))!.token}`,
      },
    });
    expect(raw.status).toBe(400);
  });

  it("writes ids with the vault's address and nextLinks with the port they were called on", async () => {
    // Key Vault leaves the default port out of ids and writes it into nextLinks (vaultAddress.ts); on the
    // emulator's own port both carry it, and the SDK derives vault, name and version from the id.
    expect((await emulator.control('POST', '/_emulator/vaults', { name: 'kv-ports' })).status).toBe(201);
    const client = newClient('kv-ports');
    const set = await client.setSecret('p1', 'one');
    await client.setSecret('p2', 'two');
    const vault = `https://kv-ports.vault.localhost:${emulator.port}`;
    expect(set.properties).toMatchObject({
      id: `${vault}/secrets/p1/${set.properties.version!}`,
      vaultUrl: vault,
      name: 'p1',
    });

    const token = (await credential.getToken('https://vault.azure.net/.default'))!.token;
    const page = await fetch(`${vault}/secrets?api-version=7.4&maxresults=1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await page.json()) as { value: { id: string }[]; nextLink: string };
    expect(body.value.map((v) => v.id)).toEqual([`${vault}/secrets/p1`]);
    expect(body.nextLink.startsWith(`${vault}/secrets?api-version=7.4&$skiptoken=`)).toBe(true);
    const next = (await (
      await fetch(body.nextLink, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as {
      value: { id: string }[];
    };
    expect(next.value.map((v) => v.id)).toEqual([`${vault}/secrets/p2`]);
  });

  it('lists the versions of a secret', async () => {
    const versions: string[] = [];
    for (const v of ['a', 'b', 'c']) versions.push((await apps.setSecret('rotating', v)).properties.version!);
    const listed: string[] = [];
    for await (const p of apps.listPropertiesOfSecretVersions('rotating')) listed.push(p.version!);
    expect(listed.sort()).toEqual([...versions].sort());
    const empty: unknown[] = [];
    for await (const p of apps.listPropertiesOfSecretVersions('never-set')) empty.push(p);
    expect(empty).toEqual([]);
  });

  it('updates properties (tags, content type, enabled) of a version', async () => {
    const created = await apps.setSecret('updatable', 'secret-value', { tags: { a: '1' } });
    const version = created.properties.version!;
    const updated = await apps.updateSecretProperties('updatable', version, {
      tags: { a: '2', b: '3' },
      contentType: 'application/json',
      enabled: false,
    });
    expect(updated.tags).toEqual({ a: '2', b: '3' });
    expect(updated.contentType).toBe('application/json');
    expect(updated.enabled).toBe(false);
    const disabled = await failure(apps.getSecret('updatable'));
    expect(disabled.statusCode).toBe(403);
    await apps.updateSecretProperties('updatable', version, { enabled: true });
    const again = await apps.getSecret('updatable');
    expect(again.value).toBe('secret-value');
    expect(again.properties.tags).toEqual({ a: '2', b: '3' });
  });

  it('soft-deletes, refuses to reuse a deleted name, purges', async () => {
    const listed = async () => {
      const names: string[] = [];
      for await (const p of apps.listPropertiesOfSecrets()) names.push(p.name);
      return names;
    };
    // The emulator keeps a vault's listing between pages: each change must show in the next listing.
    expect(await listed()).not.toContain('short-lived');
    await apps.setSecret('short-lived', 'x');
    expect(await listed()).toContain('short-lived');
    const poller = await apps.beginDeleteSecret('short-lived');
    const deleted = await poller.pollUntilDone();
    expect(await listed()).not.toContain('short-lived');
    expect(deleted.name).toBe('short-lived');
    expect(deleted.recoveryId).toBe(`${emulator.vaultUrl('kv-apps')}/deletedsecrets/short-lived`);
    expect((await failure(apps.getSecret('short-lived'))).statusCode).toBe(404);
    expect((await failure(apps.setSecret('short-lived', 'y'))).statusCode).toBe(409);
    await apps.purgeDeletedSecret('short-lived');
    expect((await apps.setSecret('short-lived', 'y')).value).toBe('y');
  });

  it('accepts the 7.x api-versions and answers 400 to an unknown one', async () => {
    const older = newClient('kv-apps', { serviceVersion: '7.4' });
    expect((await older.getSecret('web-ip')).value).toBe('10.0.0.5');
    const token = await credential.getToken('https://vault.azure.net/.default');
    const res = await fetch(`${emulator.vaultUrl('kv-apps')}/secrets/web-ip?api-version=7.9`, {
      headers: { authorization: `Bearer ${token!.token}` },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('BadParameter');
    expect(body.error.message).toContain('7.9');
  });

  it('keeps vaults independent; unknown vaults answer 404', async () => {
    const legacy = newClient('kv-legacy');
    await legacy.setSecret('shared-name', 'legacy');
    await apps.setSecret('shared-name', 'apps');
    expect((await legacy.getSecret('shared-name')).value).toBe('legacy');
    expect((await apps.getSecret('shared-name')).value).toBe('apps');
    expect((await failure(legacy.getSecret('web-ip'))).code).toBe('SecretNotFound');

    const unknown = await failure(newClient('kv-nope').getSecret('x'));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.code).toBe('VaultNotFound');

    const listing = await emulator.control<{ value: { name: string; tags: object; value?: string }[] }>(
      'GET',
      '/_emulator/vaults/kv-legacy/secrets',
    );
    expect(listing.body.value).toEqual([expect.objectContaining({ name: 'shared-name', tags: {} })]);
    expect(listing.body.value[0]!.value).toBeUndefined();
    const withValues = await emulator.control<{ value: { value?: string }[] }>(
      'GET',
      '/_emulator/vaults/kv-legacy/secrets?values=true',
    );
    expect(withValues.body.value[0]!.value).toBe('legacy');
  });

  it('surfaces a 429 without Retry-After to the caller and retries one with Retry-After', async () => {
    await apps.getSecret('web-ip'); // the challenge is done: the faults below hit authenticated calls only
    const fault = await emulator.control<{ id: string }>('POST', '/_emulator/faults', {
      kind: 'throttle',
      match: { operation: 'GetSecret', service: 'keyvault' },
      count: 1,
    });
    let before = await emulator.requestCounts();
    const throttled = await failure(apps.getSecret('web-ip'));
    expect(throttled.statusCode).toBe(429);
    expect(throttled.code).toBe('Throttled');
    expect((await emulator.requestCounts(before.lastSeq)).counts['GetSecret']).toBe(1);
    await emulator.control('DELETE', `/_emulator/faults/${fault.body.id}`);

    await emulator.control('POST', '/_emulator/faults', {
      kind: 'throttle',
      match: { operation: 'GetSecret', service: 'keyvault' },
      count: 1,
      retryAfterSeconds: 1,
    });
    before = await emulator.requestCounts();
    expect((await apps.getSecret('web-ip')).value).toBe('10.0.0.5');
    const log = (await entries(before.lastSeq)).filter((e) => e.operation === 'GetSecret');
    expect(log.map((e) => e.status)).toEqual([429, 200]);
    await emulator.control('DELETE', '/_emulator/faults');
  });

  it('keeps secrets across a restart with the same state directory', async () => {
    const stateDir = emulator.stateDir;
    await emulator.close();
    emulator = await startTestEmulator({ stateDir, pageSize: { secrets: 2 } });
    restoreEnv();
    restoreEnv = useManagedIdentity(emulator);
    credential = new DefaultAzureCredential();
    const client = newClient('kv-apps');
    const secret = await client.getSecret('web-ip');
    expect(secret.value).toBe('10.0.0.5');
    expect(secret.properties.id).toContain(emulator.vaultUrl('kv-apps'));
    expect((await newClient('kv-paging').getSecret('s3')).value).toBe('value-3');
  });
});
