/**
 * The status API's JSON contract (docs/design.md, "Status JSON"), through the local functions host running the
 * built app against the emulator: function-level auth, 404 for an unknown app, the documented fields agreeing
 * with what Azure (ACI, Key Vault) shows, and no secret value or credential anywhere in the answer.
 */
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handedOutKey } from '../../../scripts/lib/localStack.js';
import { useManagedIdentity } from '../support/emulator.js';
import { startTestStack, type TestStack } from '../support/stack.js';

interface AppStatus {
  name: string;
  registry: string;
  repository: string;
  activeColor: string | null;
  activeGroup: string | null;
  ip: string | null;
  digest: string | null;
  tag: string | null;
  secret: { name: string; inSync: boolean };
  rollout: { id: string; state: string; step: string; error: string | null } | null;
  history: Array<Record<string, unknown>>;
}

interface StatusDocument {
  apps: AppStatus[];
  watched: Array<{ resourceGroup: string; name: string; ip: string | null; secret: string; inSync: boolean }>;
  lastReconcile: { at: string; changed: unknown[]; errors: unknown[] } | null;
}

async function until<T>(what: string, read: () => Promise<T>, accept: (v: T) => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (accept(last)) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

describe('GET /api/status (JSON contract)', () => {
  let stack: TestStack;
  let restoreIdentity: () => void;
  let secrets: SecretClient;
  let pushedDigest: string;

  const status = async (path = '/api/status') => {
    const res = await stack.call(path);
    return { status: res.status, text: await res.text() };
  };

  beforeAll(async () => {
    // The sample's web verifies for 20 s after its switch: the timer finishes what the push's run leaves.
    stack = await startTestStack({ reconcileSchedule: '*/2 * * * * *' });
    restoreIdentity = useManagedIdentity(stack.emulator);
    secrets = new SecretClient(stack.emulator.vaultUrl('kv-apps'), new DefaultAzureCredential());
    const push = await stack.emulator.control<{ digest: string }>(
      'POST',
      '/_emulator/registries/contoso/push',
      {
        repository: 'web',
        tag: '1.0.0',
      },
    );
    expect(push.status).toBe(200);
    pushedDigest = push.body.digest;
    await until(
      'web 1.0.0 active',
      async () => JSON.parse((await status('/api/status/web')).text) as AppStatus,
      (app) => app.tag === '1.0.0' && app.secret?.inSync === true && app.rollout?.state === 'succeeded',
    );
    // One reconcile run, so lastReconcile is filled in.
    await stack.runFunction('reconcile');
    await until(
      'a recorded reconcile',
      async () => JSON.parse((await status()).text) as StatusDocument,
      (doc) => doc.lastReconcile !== null && doc.lastReconcile !== undefined,
    );
  }, 180_000);

  afterAll(async () => {
    restoreIdentity?.();
    await stack?.stop();
  }, 60_000);

  it('answers 401 without a function key and with a wrong one', async () => {
    const anonymous = await fetch(`${stack.host.baseUrl}/api/status`);
    expect(anonymous.status).toBe(401);
    const wrong = await fetch(`${stack.host.baseUrl}/api/status/web`, {
      headers: { 'x-functions-key': 'not-the-key' },
    });
    expect(wrong.status).toBe(401);
  });

  it('answers 404 with a clear message for an unknown app', async () => {
    const res = await status('/api/status/no-such-app');
    expect(res.status).toBe(404);
    expect(res.text).toContain('no-such-app');
    expect(res.text).toContain('web');
  });

  it('has the documented fields, agreeing with ACI and Key Vault', async () => {
    const res = await status();
    expect(res.status).toBe(200);
    const doc = JSON.parse(res.text) as StatusDocument;
    const web = doc.apps.find((a) => a.name === 'web');
    expect(web).toBeDefined();
    expect(web).toMatchObject({
      name: 'web',
      repository: 'web',
      tag: '1.0.0',
      digest: pushedDigest,
      secret: { name: 'web-ip', inSync: true },
    });
    expect(web!.registry).toContain('contoso');
    expect(['blue', 'green']).toContain(web!.activeColor);
    expect(web!.activeGroup).toBe(`web-${web!.activeColor}`);
    const secret = await secrets.getSecret('web-ip');
    expect(web!.ip).toBe(secret.value);
    const groups = await stack.emulator.control<Array<{ name: string; ip?: string }>>(
      'GET',
      '/_emulator/containerGroups',
    );
    const listed = JSON.stringify(groups.body);
    expect(listed).toContain(web!.activeGroup!);
    expect(listed).toContain(web!.ip!);
    expect(Array.isArray(web!.history)).toBe(true);
    expect(web!.history.length).toBeGreaterThanOrEqual(1);
    expect(web!.rollout === null || typeof web!.rollout.state === 'string').toBe(true);
    expect(Array.isArray(doc.watched)).toBe(true);
    expect(doc.lastReconcile).toMatchObject({ at: expect.any(String) });
    expect(Array.isArray(doc.lastReconcile!.changed)).toBe(true);
    expect(Array.isArray(doc.lastReconcile!.errors)).toBe(true);
  });

  it('never contains a secret value or a credential', async () => {
    const dbPassword = (await secrets.getSecret('web-db-password')).value;
    expect(dbPassword, 'the sample seeds web-db-password').toBeTruthy();
    const forbidden = [
      dbPassword!,
      handedOutKey(stack.host, 'functionKey'),
      handedOutKey(stack.host, 'actionsKey'),
      stack.host.hostKey,
      stack.host.systemKey,
      String(stack.emulator.stack['identityHeader']),
    ];
    for (const path of ['/api/status', '/api/status/web']) {
      const res = await status(path);
      expect(res.status).toBe(200);
      for (const value of forbidden) expect(res.text).not.toContain(value);
      expect(res.text).not.toMatch(/secureValue|AccountKey=|access_token/i);
    }
  });
});
