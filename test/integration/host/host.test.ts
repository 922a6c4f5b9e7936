/**
 * The local functions host, run as a child process (as `npm run host` runs it) against a fixture app
 * (test/fixtures/host-app) that registers its functions through `@azure/functions`: the Event Grid webhook,
 * HTTP routes with keys and parameters, timers (schedule from an app setting, one run at a time, runOnStartup,
 * past-due after a restart), keys kept across restarts, and graceful shutdown.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../support/waiting.js';
import { readyLine, startService, type Service } from '../../../scripts/lib/services.js';

interface HostReady {
  baseUrl: string;
  hostKey: string;
  /** Function keys handed out by --stack-key: greet's, and act's. */
  functionKey: string;
  actionsKey: string;
  systemKey: string;
  masterKey: string;
  pid: number;
  functions: { name: string; trigger: string; route?: string; schedule?: string; error?: string }[];
}

interface FixtureHost {
  service: Service<HostReady>;
  ready: HostReady;
  dir: string;
  outDir: string;
  stateDir: string;
  lines: string[];
  records<T = Record<string, unknown>>(file: string): T[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const fixture = (name: string) => fs.readFileSync(path.resolve('test/fixtures', name), 'utf8');

async function startFixtureHost(
  values: Record<string, string>,
  reuse?: { dir: string },
): Promise<FixtureHost> {
  const dir = reuse?.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'host-test-'));
  const outDir = path.join(dir, 'out');
  const stateDir = path.join(dir, 'state');
  fs.mkdirSync(outDir, { recursive: true });
  const settingsFile = path.join(dir, 'local.settings.json');
  fs.writeFileSync(
    settingsFile,
    JSON.stringify({ IsEncrypted: false, Values: { FIXTURE_OUT_DIR: outDir, ...values } }, null, 2),
  );
  const lines: string[] = [];
  const service = await startService<HostReady>({
    name: 'host',
    command: process.execPath,
    args: [
      '--import',
      'tsx',
      'host/src/main.ts',
      '--app-dir',
      'test/fixtures/host-app',
      '--port',
      '0',
      '--state-dir',
      stateDir,
      '--settings',
      settingsFile,
      '--stack-file',
      '',
      ...['--stack-key', 'functionKey=greet', '--stack-key', 'actionsKey=act'],
    ],
    ready: readyLine<HostReady>('HOST_READY'),
    onLine: (line) => lines.push(line),
    readyTimeoutMs: 30_000,
  });
  return {
    service,
    ready: service.ready,
    dir,
    outDir,
    stateDir,
    lines,
    records<T>(file: string): T[] {
      const full = path.join(outDir, file);
      if (!fs.existsSync(full)) return [];
      return fs
        .readFileSync(full, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as T);
    },
  };
}

describe('local functions host: webhook and HTTP', () => {
  let host: FixtureHost;
  let base: string;
  const webhook = (query: string) => `${base}/runtime/webhooks/eventgrid?${query}`;
  const post = (url: string, body: string, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  beforeAll(async () => {
    // TICK_SCHEDULE is deliberately not set: the tick timer must be reported in error, the rest must run.
    host = await startFixtureHost({});
    base = host.ready.baseUrl;
  });
  afterAll(async () => {
    await host?.service.stop();
  });

  it('captures every registration of the app with its options', () => {
    const byName = Object.fromEntries(host.ready.functions.map((f) => [f.name, f]));
    expect(byName['onEvent']).toMatchObject({ trigger: 'eventGridTrigger' });
    expect(byName['greet']).toMatchObject({ trigger: 'httpTrigger', route: '/api/greet/{name}/{title?}' });
    expect(byName['item']).toMatchObject({ trigger: 'httpTrigger', route: '/api/items/{id:int}' });
    expect(byName['startup']).toMatchObject({ trigger: 'timerTrigger', schedule: '0 0 0 1 1 *' });
    expect(byName['tick']?.error).toContain("'%TICK_SCHEDULE%' does not resolve");
    expect(byName['act']).toMatchObject({ trigger: 'httpTrigger', route: '/api/apps/{app}/{action}' });
    expect(
      new Set([host.ready.hostKey, host.ready.functionKey, host.ready.actionsKey, host.ready.systemKey]).size,
    ).toBe(4);
    expect(fs.existsSync(path.join(host.stateDir, 'keys.json'))).toBe(true);
  });

  it('answers the subscription validation handshake', async () => {
    const res = await post(
      webhook(`functionName=onEvent&code=${host.ready.systemKey}`),
      fixture('subscription-validation.eventgrid.json'),
      {
        'aeg-event-type': 'SubscriptionValidation',
      },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ validationResponse: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6' });
  });

  it('invokes the function once per event of a notification and answers 202', async () => {
    const before = host.records('events.jsonl').length;
    const res = await post(
      webhook(`functionName=onEvent&code=${host.ready.systemKey}`),
      fixture('acr-image-pushed.eventgrid.json'),
      {
        'aeg-event-type': 'Notification',
      },
    );
    expect(res.status).toBe(202);
    const records = host.records<Record<string, unknown>>('events.jsonl').slice(before);
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record).toMatchObject({
      id: '2f6a1c0e-6b1e-4c41-9c55-0f1e7b8d3a01',
      subject: 'web:1.4.0',
      eventType: 'Microsoft.ContainerRegistry.ImagePushed',
      functionName: 'onEvent',
      contextIsReal: true,
      triggerMetadataSubject: 'web:1.4.0',
    });
    expect(record!['data']).toMatchObject({ target: { repository: 'web', tag: '1.4.0' } });
    const invocationId = String(record!['invocationId']);
    expect(invocationId).toMatch(UUID);
    // The handler's context.log line carries the function name and the short invocation id (the host's
    // output is a pipe: the line may arrive just after the response).
    const logLine = `[onEvent:${invocationId.slice(0, 8)}] event 2f6a1c0e-6b1e-4c41-9c55-0f1e7b8d3a01 Microsoft.ContainerRegistry.ImagePushed`;
    await waitFor('the log line', () => host.lines.includes(logLine), { timeoutMs: 5000 });
  });

  it('answers 500 when any event of a batch fails, after running every event', async () => {
    const before = host.records('events.jsonl').length;
    const [good] = JSON.parse(fixture('acr-image-pushed.eventgrid.json')) as Record<string, unknown>[];
    const batch = [
      { ...good, id: 'batch-ok' },
      { ...good, id: 'batch-fail', subject: 'fail' },
    ];
    const res = await post(
      webhook(`functionName=onEvent&code=${host.ready.systemKey}`),
      JSON.stringify(batch),
      {
        'aeg-event-type': 'Notification',
      },
    );
    expect(res.status).toBe(500);
    const body = (await res.json()) as { failures: { id: string; error: string }[] };
    expect(body.failures.map((f) => f.id)).toEqual(['batch-fail']);
    expect(body.failures[0]!.error).toContain('fixture failure');
    const ids = host
      .records<{ id: string }>('events.jsonl')
      .slice(before)
      .map((r) => r.id);
    expect(ids).toEqual(['batch-ok', 'batch-fail']);
  });

  it('accepts CloudEvents 1.0, single and batched', async () => {
    const before = host.records('events.jsonl').length;
    const single = fixture('acr-image-pushed.cloudevents.json');
    const url = webhook(`functionName=onEvent&code=${host.ready.systemKey}`);
    const one = await post(url, single, {
      'aeg-event-type': 'Notification',
      'content-type': 'application/cloudevents+json',
    });
    expect(one.status).toBe(202);
    const event = JSON.parse(single) as Record<string, unknown>;
    const two = await post(
      url,
      JSON.stringify([
        { ...event, id: 'ce-1' },
        { ...event, id: 'ce-2' },
      ]),
      {
        'aeg-event-type': 'Notification',
        'content-type': 'application/cloudevents-batch+json',
      },
    );
    expect(two.status).toBe(202);
    const records = host
      .records<{ id: string; specversion: string; eventType: string }>('events.jsonl')
      .slice(before);
    expect(records.map((r) => r.id)).toEqual(['2f6a1c0e-6b1e-4c41-9c55-0f1e7b8d3a01', 'ce-1', 'ce-2']);
    expect(
      records.every(
        (r) => r.specversion === '1.0' && r.eventType === 'Microsoft.ContainerRegistry.ImagePushed',
      ),
    ).toBe(true);
  });

  it('rejects requests the Functions extension rejects', async () => {
    const before = host.records('events.jsonl').length;
    const body = fixture('acr-image-pushed.eventgrid.json');
    const code = host.ready.systemKey;
    const missingType = await post(webhook(`functionName=onEvent&code=${code}`), body);
    expect(missingType.status).toBe(400);
    const notJson = await post(webhook(`functionName=onEvent&code=${code}`), '{ not json', {
      'aeg-event-type': 'Notification',
    });
    expect(notJson.status).toBe(400);
    const unknown = await post(webhook(`functionName=nope&code=${code}`), body, {
      'aeg-event-type': 'Notification',
    });
    expect(unknown.status).toBe(404);
    const notEventGrid = await post(webhook(`functionName=greet&code=${code}`), body, {
      'aeg-event-type': 'Notification',
    });
    expect(notEventGrid.status).toBe(404);
    const wrongCode = await post(webhook('functionName=onEvent&code=wrong'), body, {
      'aeg-event-type': 'Notification',
    });
    expect(wrongCode.status).toBe(401);
    const noCode = await post(webhook('functionName=onEvent'), body, { 'aeg-event-type': 'Notification' });
    expect(noCode.status).toBe(401);
    // A function key is not the extension's system key.
    const functionKey = await post(webhook(`functionName=onEvent&code=${host.ready.functionKey}`), body, {
      'aeg-event-type': 'Notification',
    });
    expect(functionKey.status).toBe(401);
    expect(host.records('events.jsonl').length).toBe(before);
    // The master key opens every endpoint.
    const master = await post(
      webhook(`functionName=onEvent&code=${host.ready.masterKey}`),
      fixture('subscription-validation.eventgrid.json'),
      {
        'aeg-event-type': 'SubscriptionValidation',
      },
    );
    expect(master.status).toBe(200);
  });

  it('protects function-level HTTP routes with the function key', async () => {
    expect((await fetch(`${base}/api/greet/ada`)).status).toBe(401);
    expect((await fetch(`${base}/api/greet/ada?code=wrong`)).status).toBe(401);
    expect(
      (await fetch(`${base}/api/greet/ada`, { headers: { 'x-functions-key': host.ready.systemKey } })).status,
    ).toBe(401);

    const withHeader = await fetch(`${base}/api/greet/ada`, {
      headers: { 'x-functions-key': host.ready.functionKey },
    });
    expect(withHeader.status).toBe(200);
    expect(withHeader.headers.get('x-fixture')).toBe('greet');
    expect(withHeader.headers.get('set-cookie')).toBe('seen=1; HttpOnly');
    const body = (await withHeader.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      name: 'ada',
      title: null,
      method: 'GET',
      functionName: 'greet',
      requestIsReal: true,
      appStarted: true,
    });
    expect(String(body['invocationId'])).toMatch(UUID);
    const greeting = `[greet:${String(body['invocationId']).slice(0, 8)}] greeting ada`;
    await waitFor('the log line', () => host.lines.includes(greeting), { timeoutMs: 5000 });

    const withCode = await fetch(`${base}/api/greet/ada/Countess?code=${host.ready.masterKey}&q=1&q=2`);
    expect(withCode.status).toBe(200);
    expect(await withCode.json()).toMatchObject({ name: 'ada', title: 'Countess', query: ['1', '2'] });
  });

  it("opens a function's route with its own keys, the host key and the master key, and no other function's key", async () => {
    const keysFile = JSON.parse(fs.readFileSync(path.join(host.stateDir, 'keys.json'), 'utf8')) as {
      functions: Record<string, Record<string, string>>;
    };
    const act = (key: string | undefined, route = 'apps/web/rollback') =>
      fetch(`${base}/api/${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { 'x-functions-key': key } : {}) },
        body: JSON.stringify({ reason: 'bad release' }),
      });

    const own = await act(host.ready.actionsKey);
    expect(own.status).toBe(202);
    expect(await own.json()).toEqual({
      app: 'web',
      action: 'rollback',
      body: { reason: 'bad release' },
      functionName: 'act',
    });
    // The function's own `default` key, which the host created as Azure does, opens it too.
    expect(keysFile.functions['act']?.['default']).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect((await act(keysFile.functions['act']!['default'])).status).toBe(202);

    // Keys of another function, the system key, a wrong key or none: 401, and the function never runs.
    expect(host.ready.functionKey).not.toBe(host.ready.actionsKey);
    for (const other of [
      host.ready.functionKey,
      keysFile.functions['greet']?.['default'],
      host.ready.systemKey,
    ]) {
      expect((await act(other)).status).toBe(401);
    }
    expect((await act('wrong')).status).toBe(401);
    expect((await act(undefined)).status).toBe(401);
    // And the other way round: the actions key does not open greet.
    expect(
      (await fetch(`${base}/api/greet/ada`, { headers: { 'x-functions-key': host.ready.actionsKey } }))
        .status,
    ).toBe(401);

    // A host key opens every function-level route; the master key opens everything. Literal segments match
    // case-insensitively; ?code= works as the header does.
    const viaHostKey = await act(host.ready.hostKey, 'APPS/api/promote');
    expect(viaHostKey.status).toBe(202);
    expect(await viaHostKey.json()).toMatchObject({ app: 'api', action: 'promote' });
    expect((await act(host.ready.masterKey)).status).toBe(202);
    const viaCode = await fetch(`${base}/api/apps/web/pause?code=${host.ready.actionsKey}`, {
      method: 'POST',
    });
    expect(viaCode.status).toBe(202);
    expect(await viaCode.json()).toMatchObject({ app: 'web', action: 'pause', body: null });
  });

  it('passes route parameters, methods and bodies through, and applies route constraints', async () => {
    const posted = await fetch(`${base}/api/GREET/grace%20hopper?code=${host.ready.functionKey}`, {
      method: 'POST',
      body: 'hello',
    });
    expect(posted.status).toBe(200);
    expect(await posted.json()).toMatchObject({ name: 'grace hopper', method: 'POST', body: 'hello' });

    expect(
      (await fetch(`${base}/api/greet/ada?code=${host.ready.functionKey}`, { method: 'DELETE' })).status,
    ).toBe(404);
    expect((await fetch(`${base}/api/greet?code=${host.ready.functionKey}`)).status).toBe(404);

    const item = await fetch(`${base}/api/items/42`);
    expect(item.status).toBe(200);
    expect(await item.json()).toEqual({ id: 42 });
    expect((await fetch(`${base}/api/items/forty-two`)).status).toBe(404);
    expect((await fetch(`${base}/api/nothing-here`)).status).toBe(404);
  });

  it('answers 500 when an HTTP function throws', async () => {
    const res = await fetch(`${base}/api/crash`);
    expect(res.status).toBe(500);
    await waitFor('the failure log line', () =>
      host.lines.some((l) => /^\[crash:[0-9a-f]{8}\] error: Executed 'Functions.crash' \(Failed/.test(l)),
    );
  });

  it('runs runOnStartup timers once at start', async () => {
    const runs = await waitFor('the startup run', () => {
      const r = host.records<{ isPastDue: boolean }>('startup.jsonl');
      return r.length > 0 && r;
    });
    expect(runs).toEqual([expect.objectContaining({ isPastDue: false })]);
  });
});

describe('local functions host: timers and lifecycle', () => {
  const hosts: FixtureHost[] = [];
  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.service.stop()));
  });

  it('fires a timer on its schedule from an app setting, one run at a time, and drains it on SIGTERM', async () => {
    // Every second, but each run takes 2.5 s: occurrences during a run must be skipped, never overlap.
    const host = await startFixtureHost({ TICK_SCHEDULE: '*/1 * * * * *', TICK_SLEEP_MS: '2500' });
    hosts.push(host);
    expect(host.ready.functions.find((f) => f.name === 'tick')).toMatchObject({ schedule: '*/1 * * * * *' });
    type Tick = {
      start: number;
      end: number;
      isPastDue: boolean;
      scheduleStatus: { last: string; next: string };
    };
    const ticks = await waitFor('two timer runs', () => {
      const t = host.records<Tick>('ticks.jsonl');
      return t.length >= 2 && t;
    });
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]!.start).toBeGreaterThanOrEqual(ticks[i - 1]!.end);
    expect(ticks.every((t) => t.isPastDue === false)).toBe(true);
    expect(ticks[0]!.scheduleStatus.last).toBe('0001-01-01T00:00:00.000Z');
    expect(Date.parse(ticks[1]!.scheduleStatus.last)).toBeGreaterThan(
      Date.parse(ticks[0]!.scheduleStatus.last),
    );
    expect(
      host.lines.some((l) => l.includes("Timer 'tick': skipping the") && l.includes('still in progress')),
    ).toBe(true);

    // A run is in progress now (each takes 2.5 s of every ~3 s): SIGTERM lets it finish, then the host exits 0.
    await waitFor('a run in progress', () => {
      const executing = host.lines.filter((l) => l.includes("Executing 'Functions.tick'")).length;
      const executed = host.lines.filter((l) => l.includes("Executed 'Functions.tick'")).length;
      return executing > executed;
    });
    const started = host.lines.filter((l) => l.includes("Executing 'Functions.tick'")).length;
    process.kill(host.service.pid, 'SIGTERM');
    const exit = await host.service.exited;
    expect(exit.code).toBe(0);
    expect(host.lines.filter((l) => l.includes("Executed 'Functions.tick' (Succeeded")).length).toBe(started);
    expect(host.records('ticks.jsonl').length).toBe(started);
  });

  it('keeps its keys across a SIGKILL and runs a missed occurrence as past due on restart', async () => {
    const first = await startFixtureHost({ TICK_SCHEDULE: '0 */5 * * * *' });
    hosts.push(first);
    process.kill(first.service.pid, 'SIGKILL');
    await first.service.exited;

    // Pretend the host was down when the tick was due ten minutes ago.
    const statusFile = path.join(first.stateDir, 'timers', 'tick.json');
    const status = JSON.parse(fs.readFileSync(statusFile, 'utf8')) as Record<string, string>;
    expect(status['expression']).toBe('0 */5 * * * *');
    const missed = new Date(Date.now() - 10 * 60_000);
    missed.setUTCSeconds(0, 0);
    fs.writeFileSync(statusFile, JSON.stringify({ ...status, next: missed.toISOString() }));

    const second = await startFixtureHost({ TICK_SCHEDULE: '0 */5 * * * *' }, { dir: first.dir });
    hosts.push(second);
    expect(second.ready.functionKey).toBe(first.ready.functionKey);
    expect(second.ready.actionsKey).toBe(first.ready.actionsKey);
    expect(second.ready.hostKey).toBe(first.ready.hostKey);
    expect(second.ready.systemKey).toBe(first.ready.systemKey);
    expect(second.ready.masterKey).toBe(first.ready.masterKey);
    const [tick] = await waitFor('the past-due run', () => {
      const t = second.records<{ isPastDue: boolean; scheduleStatus: { next: string } }>('ticks.jsonl');
      return t.length > 0 && t;
    });
    expect(tick).toMatchObject({ isPastDue: true, scheduleStatus: { next: missed.toISOString() } });
    // The host records the occurrence once the invocation has completed (as the Functions host updates
    // ScheduleStatus after the run), which is after the function wrote its record: wait for it.
    const after = await waitFor('the schedule status to record the run', () => {
      const s = JSON.parse(fs.readFileSync(statusFile, 'utf8')) as Record<string, string>;
      return s['last'] === missed.toISOString() && s;
    });
    expect(Date.parse(after['next']!)).toBeGreaterThan(Date.now());
  });
});
