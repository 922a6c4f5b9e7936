/**
 * `npm run host` against a running emulator: the host reads local.settings.json built from the repository's
 * sample, resolves its `${stack.X}` / `${vault:NAME}` references from the emulator's stack.json, restarts itself
 * so that NODE_EXTRA_CA_CERTS from the settings takes effect (Node reads it only at start), and merges its part
 * into stack.json. Started with no CA in its environment, or with another CA file there (then both are trusted
 * through a bundle): TLS to the emulator must work either way.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStackFile } from '../../../scripts/lib/stackFile.js';
import type { HostReady } from '../../../scripts/lib/localStack.js';
import { readyLine, startService, type Service } from '../../../scripts/lib/services.js';
import { ensureCa } from '../../../emulator/src/core/ca.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.each([
  { scenario: 'no CA in the environment', otherCa: false },
  { scenario: 'another CA in the environment', otherCa: true },
])('host with local.settings.json from the sample ($scenario)', ({ otherCa }) => {
  let emulator: TestEmulator;
  let host: Service<HostReady>;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-settings-'));
  const stackFile = path.join(dir, 'stack.json');
  const lines: string[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator();
    fs.writeFileSync(stackFile, JSON.stringify({ ...emulator.stack, pids: { emulator: process.pid } }));
    const sample = JSON.parse(fs.readFileSync('local.settings.sample.json', 'utf8')) as {
      Values: Record<string, string>;
    };
    const settingsFile = path.join(dir, 'local.settings.json');
    fs.writeFileSync(
      settingsFile,
      JSON.stringify({
        ...sample,
        Values: { ...sample.Values, FIXTURE_OUT_DIR: dir, TICK_SCHEDULE: '0 0 0 1 1 *' },
      }),
    );
    const env = { ...process.env };
    delete env['NODE_EXTRA_CA_CERTS'];
    if (otherCa) env['NODE_EXTRA_CA_CERTS'] = ensureCa(path.join(dir, 'other-ca')).certPath;
    host = await startService<HostReady>({
      name: 'host',
      command: process.execPath,
      args: [
        ...['--import', 'tsx', 'host/src/main.ts', '--app-dir', 'test/fixtures/host-app', '--port', '0'],
        ...['--state-dir', path.join(dir, 'host'), '--settings', settingsFile, '--stack-file', stackFile],
        ...['--stack-key', 'functionKey=greet', '--stack-key', 'actionsKey=act,missing'],
      ],
      env,
      ready: readyLine<HostReady>('HOST_READY'),
      onLine: (line) => lines.push(line),
      readyTimeoutMs: 30_000,
    });
  });
  afterAll(async () => {
    await host?.stop();
    await emulator?.close();
  });

  it('resolves the placeholders from stack.json and trusts the emulator CA', async () => {
    const vaultUrl = emulator.vaultUrl('kv-apps');
    const res = await fetch(
      `${host.ready.baseUrl}/api/probe?settings=ARM_ENDPOINT,IDENTITY_HEADER,NODE_EXTRA_CA_CERTS,APPS_CONFIG&url=${encodeURIComponent(`${vaultUrl}/secrets?api-version=7.5`)}`,
      { headers: { 'x-functions-key': host.ready.masterKey } },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { settings: Record<string, string>; fetched: unknown };
    expect(body.settings['ARM_ENDPOINT']).toBe(emulator.url);
    expect(body.settings['IDENTITY_HEADER']).toBe(emulator.stack['identityHeader']);
    expect(body.settings['NODE_EXTRA_CA_CERTS']).toBe(
      otherCa ? path.join(dir, 'host', 'ca-bundle.pem') : emulator.stack['caCertPath'],
    );
    expect(JSON.parse(body.settings['APPS_CONFIG']!)).toMatchObject({ watch: { vaultUrl } });
    expect(body.fetched).toEqual({ status: 401 });
  });

  it('runs as a restarted child that merges its part into stack.json and stops with its parent', async () => {
    // HOST_READY comes from the restarted process, not the one that was spawned.
    expect(host.ready.pid).not.toBe(host.pid);
    const stack = readStackFile(stackFile)!;
    expect(stack).toMatchObject({
      functionsBaseUrl: host.ready.baseUrl,
      functionKey: host.ready.functionKey,
      actionsKey: host.ready.actionsKey,
      systemKey: host.ready.systemKey,
      emulatorUrl: emulator.url,
      pids: { emulator: process.pid, host: host.ready.pid },
    });
    // Function keys of their own functions, never the host key (which would open every function).
    expect(host.ready.functionKey).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(host.ready.actionsKey).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(Object.values(stack)).not.toContain(host.ready.hostKey);
    // SIGTERM to the spawned process only: it forwards the signal to the restarted host.
    process.kill(host.pid, 'SIGTERM');
    expect((await host.exited).code).toBe(0);
    const deadline = Date.now() + 10_000;
    while (alive(host.ready.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(alive(host.ready.pid)).toBe(false);
  });
});
