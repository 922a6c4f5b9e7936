/**
 * The stack helper (support/stack.ts) with the fixture app: a push through the emulator's control API reaches the
 * app's onImagePushed through a real Event Grid subscription to the host's webhook; the host's environment points
 * the app at the emulator (settings, CA trust, `*.localhost` vaults); the host survives a SIGKILL and restart
 * with its keys, port and subscription, while the emulator keeps its state.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../support/waiting.js';
import { startTestStack, type TestStack } from '../support/stack.js';

describe('local stack helper with the fixture app', () => {
  let stack: TestStack;
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-fixture-'));
  const pushed = () =>
    fs.existsSync(path.join(outDir, 'pushed.jsonl'))
      ? fs
          .readFileSync(path.join(outDir, 'pushed.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { subject: string; data: { target: { digest: string } } })
      : [];
  const waitForPush = async (tag: string) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = pushed().find((p) => p.subject === `web:${tag}`);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`the push of web:${tag} never reached onImagePushed`);
      await sleep(100);
    }
  };

  beforeAll(async () => {
    stack = await startTestStack({
      appDir: 'test/fixtures/host-app',
      env: { FIXTURE_OUT_DIR: outDir, TICK_SCHEDULE: '0 0 0 1 1 *' },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('delivers a registry push to the app through the Event Grid subscription', async () => {
    const push = await stack.emulator.control<{ digest: string }>(
      'POST',
      '/_emulator/registries/contoso/push',
      {
        repository: 'web',
        tag: '1.1.0',
      },
    );
    expect(push.status).toBe(200);
    const event = await waitForPush('1.1.0');
    expect(event.data.target.digest).toBe(push.body.digest);
  });

  it('gives the app the emulator endpoints, and the host trusts the CA and resolves vault names', async () => {
    const vaultUrl = stack.emulator.vaultUrl('kv-apps');
    const res = await fetch(
      `${stack.host.baseUrl}/api/probe?settings=ARM_ENDPOINT,AZURE_SUBSCRIPTION_ID,IDENTITY_ENDPOINT,RECONCILE_SCHEDULE,APPS_CONFIG&url=${encodeURIComponent(`${vaultUrl}/secrets?api-version=7.5`)}`,
      { headers: { 'x-functions-key': stack.host.masterKey } },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { settings: Record<string, string>; fetched: { status?: number } };
    expect(body.settings['ARM_ENDPOINT']).toBe(stack.emulator.url);
    expect(body.settings['AZURE_SUBSCRIPTION_ID']).toBe('00000000-0000-0000-0000-000000000001');
    expect(body.settings['IDENTITY_ENDPOINT']).toBe(stack.emulator.stack['identityEndpoint']);
    expect(body.settings['RECONCILE_SCHEDULE']).toBe('0 0 0 1 1 *');
    expect(JSON.parse(body.settings['APPS_CONFIG']!)).toMatchObject({
      apps: [
        { name: 'web', secret: { vaultUrl, name: 'web-ip' } },
        { name: 'api', secret: { vaultUrl, name: 'api-ip' } },
      ],
    });
    // TLS with the emulator's CA and DNS for *.vault.localhost work: Key Vault answers its 401 challenge.
    expect(body.fetched).toEqual({ status: 401 });
    // The admin-level route refuses the function key.
    expect((await stack.call('/api/probe')).status).toBe(401);
  });

  it('keeps keys, port and subscription when the host is SIGKILLed and restarted', async () => {
    const before = stack.host;
    await stack.restartHost({ signal: 'SIGKILL' });
    expect(stack.host.pid).not.toBe(before.pid);
    expect(stack.host.baseUrl).toBe(before.baseUrl);
    expect(stack.host.systemKey).toBe(before.systemKey);
    expect(stack.stackJson).toMatchObject({
      functionsBaseUrl: before.baseUrl,
      pids: { host: stack.host.pid },
    });
    const push = await stack.emulator.control<{ digest: string }>(
      'POST',
      '/_emulator/registries/contoso/push',
      {
        repository: 'web',
        tag: '1.2.0',
      },
    );
    const event = await waitForPush('1.2.0');
    expect(event.data.target.digest).toBe(push.body.digest);
    // The emulator kept its state: both pushed tags are still in the registry.
    const repos = await stack.emulator.control<unknown>('GET', '/_emulator/registries/contoso/repositories');
    expect(JSON.stringify(repos.body)).toContain('1.1.0');
  });

  it('runs a timer on demand through the admin API', async () => {
    await stack.runFunction('tick');
    const deadline = Date.now() + 10_000;
    while (!fs.existsSync(path.join(outDir, 'ticks.jsonl'))) {
      if (Date.now() > deadline) throw new Error('tick did not run');
      await sleep(100);
    }
    const [tick] = fs
      .readFileSync(path.join(outDir, 'ticks.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { isPastDue: boolean });
    expect(tick).toMatchObject({ isPastDue: false });
  });
});
