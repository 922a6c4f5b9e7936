/**
 * The bindings (onImagePushed, reconcile, status) called as the Functions host calls them, with the real
 * `InvocationContext` / `HttpRequest` from @azure/functions (test mode) and the runtime composed the way
 * production composes it (`composeRuntime`) over the domain's in-memory fakes.
 */
import fs from 'node:fs';
import { DefaultAzureCredential } from '@azure/identity';
import { HttpRequest, type HttpResponseInit, type Timer } from '@azure/functions';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  composeRuntime,
  createAdapters,
  createTableClient,
  getRuntime,
  setRuntimeForTesting,
} from '../../../src/composition.js';
import { loadSettings } from '../../../src/config/settings.js';
import { silentLogger } from '../../../src/domain/ports.js';
import { TerminalError, TransientError } from '../../../src/domain/errors.js';
import { onImagePushed } from '../../../src/functions/onImagePushed.js';
import { reconcile } from '../../../src/functions/reconcile.js';
import { status } from '../../../src/functions/status.js';
import { VAULT, digestOf, makeConfig, makeWorld, webApp } from '../support/fakes.js';
import { deployInitial } from '../support/scenario.js';
import { context, useWorld, type Logged } from '../support/functionRuntime.js';

const fixture = (name: string): unknown => JSON.parse(fs.readFileSync(`test/fixtures/${name}`, 'utf8'));
const EVENT_GRID = (fixture('acr-image-pushed.eventgrid.json') as unknown[])[0] as Record<string, unknown>;
const CLOUD_EVENT = fixture('acr-image-pushed.cloudevents.json') as Record<string, unknown>;
const IMAGE_DELETED = (fixture('acr-image-deleted.eventgrid.json') as unknown[])[0] as Record<
  string,
  unknown
>;

/** A runtime the binding must not touch (malformed events need no dependencies). */
function untouchableRuntime(): void {
  const fail = (): never => {
    throw new Error('the runtime must not be used for this event');
  };
  setRuntimeForTesting({
    settings: {
      rolloutEventBudgetSeconds: 20,
      operatorActionBudgetSeconds: 10,
      easyAuthEnabled: false,
      actionsRequireSignIn: false,
      reconcileBudgetSeconds: 240,
      reconcileRolloutSliceSeconds: 20,
      statusCacheSeconds: 0,
      reconcileSchedule: '0 * * * * *',
    },
    deps: fail,
    statusDeps: fail,
  });
}

function withDigest(e: Record<string, unknown>, tag: string, digest: string): Record<string, unknown> {
  const data = structuredClone(e['data']) as { target: Record<string, unknown> };
  data.target['tag'] = tag;
  data.target['digest'] = digest;
  return { ...e, data, id: `${String(e['id'])}-${tag}` };
}

async function get(
  path: string,
  params: Record<string, string> = {},
): Promise<{ status: number; body: unknown; res: HttpResponseInit }> {
  const request = new HttpRequest({ method: 'GET', url: `http://127.0.0.1:7071/api/${path}`, params });
  const res = await status(request, context('status'));
  return { status: res.status ?? 200, body: res.jsonBody, res };
}

const timer: Timer = {
  isPastDue: false,
  schedule: { adjustForDST: true },
  scheduleStatus: { last: '', next: '', lastUpdated: '' },
};

afterEach(() => {
  setRuntimeForTesting(undefined);
  vi.unstubAllEnvs();
  vi.useRealTimers();
});

// ---------------------------------------------------------------- onImagePushed

describe('onImagePushed', () => {
  it('starts a rollout from an Event Grid schema event and logs the outcome', async () => {
    const w = makeWorld();
    useWorld(w);
    const logs: Logged[] = [];
    await expect(onImagePushed(EVENT_GRID, context('onImagePushed', logs))).resolves.toBeUndefined();
    const state = w.store.state('web');
    expect(state?.rollout).toMatchObject({
      tag: '1.4.0',
      digest: (EVENT_GRID['data'] as { target: { digest: string } }).target.digest,
    });
    expect(
      logs.some((l) => l.level === 'information' && /ImagePushed web:1\.4\.0 .*: started: /.test(l.text)),
    ).toBe(true);
    expect(
      logs.some((l) => l.level === 'information' && /onImagePushed .*: web rollout \S+ at \w+ /.test(l.text)),
    ).toBe(true);
  });

  it('when a newer push supersedes this delivery’s rollout, says so instead of "the reconcile timer continues it"', async () => {
    const w = makeWorld();
    useWorld(w);
    const logsA: Logged[] = [];
    const a = onImagePushed(EVENT_GRID, context('onImagePushed', logsA));
    // The first delivery logs its decision at once, while its advance is still running.
    while (!logsA.some((l) => /ImagePushed web:1\.4\.0 .*: started: /.test(l.text)))
      await new Promise((r) => setImmediate(r));
    expect(logsA.some((l) => l.text.startsWith('onImagePushed '))).toBe(false);
    const logsB: Logged[] = [];
    await onImagePushed(withDigest(EVENT_GRID, '1.5.0', digestOf(9)), context('onImagePushed', logsB));
    await a;
    const rolloutB = w.store.state('web')!.rollout!.id;
    expect(logsB.some((l) => /ImagePushed web:1\.5\.0 .*: superseded: /.test(l.text))).toBe(true);
    const progressA = logsA.filter((l) => l.text.startsWith('onImagePushed '));
    expect(progressA).toHaveLength(1);
    expect(progressA[0]!.text).toMatch(
      new RegExp(`: web rollout \\S+ was superseded by rollout ${rolloutB} \\(a newer push\\)`),
    );
    expect(progressA[0]!.text).not.toContain('the reconcile timer continues it');
  });

  it('starts a rollout from a CloudEvents 1.0 event', async () => {
    const w = makeWorld();
    useWorld(w);
    await onImagePushed(CLOUD_EVENT, context('onImagePushed'));
    expect(w.store.state('web')?.rollout).toMatchObject({ tag: '1.4.0', eventId: CLOUD_EVENT['id'] });
  });

  it('the same event twice is one rollout; both deliveries succeed', async () => {
    const w = makeWorld();
    useWorld(w);
    await onImagePushed(EVENT_GRID, context('onImagePushed'));
    const first = w.store.state('web')?.rollout?.id;
    const logs: Logged[] = [];
    await onImagePushed(EVENT_GRID, context('onImagePushed', logs));
    expect(w.store.state('web')?.rollout?.id).toBe(first);
    expect(logs.some((l) => /: ignored: /.test(l.text))).toBe(true);
  });

  it.each([
    ['an empty object', {}],
    ['a string', 'not an event'],
    ['null', null],
    ['an array', [EVENT_GRID]],
    ['a push without data', { ...EVENT_GRID, data: undefined }],
    ['a push with a bad digest', withDigest(EVENT_GRID, '1.4.0', 'sha256:nothex')],
    ['a CloudEvent without source', { ...CLOUD_EVENT, source: undefined }],
  ])(
    'a malformed event (%s) returns normally with a logged reason, touching nothing',
    async (_what, event) => {
      untouchableRuntime();
      const logs: Logged[] = [];
      await expect(onImagePushed(event, context('onImagePushed', logs))).resolves.toBeUndefined();
      expect(logs.some((l) => /rejected: malformed event: /.test(l.text))).toBe(true);
    },
  );

  it('a foreign event type (ImageDeleted) is ignored with a reason', async () => {
    untouchableRuntime();
    const logs: Logged[] = [];
    await onImagePushed(IMAGE_DELETED, context('onImagePushed', logs));
    expect(
      logs.some((l) =>
        /ignored: event type Microsoft\.ContainerRegistry\.ImageDeleted is not handled/.test(l.text),
      ),
    ).toBe(true);
  });

  it('an unknown repository and a disallowed tag are rejected without a rollout, returning normally', async () => {
    const w = makeWorld();
    useWorld(w);
    const logs: Logged[] = [];
    const other = structuredClone(EVENT_GRID) as { data: { target: { repository: string } } };
    other.data.target.repository = 'not-configured';
    await onImagePushed(other, context('onImagePushed', logs));
    await onImagePushed(withDigest(EVENT_GRID, '0.9.0', digestOf(9)), context('onImagePushed', logs));
    expect(w.store.state('web')).toBeUndefined();
    const rejected = logs
      .filter((l) => l.level === 'information' && /: rejected: /.test(l.text))
      .map((l) => l.text);
    expect(
      rejected.some((t) => /not-configured:1\.4\.0 .*repository not-configured is not configured/.test(t)),
    ).toBe(true);
    expect(rejected.some((t) => /web:0\.9\.0 .*: rejected: /.test(t))).toBe(true);
  });

  it('rethrows a TransientError so Event Grid redelivers', async () => {
    const w = makeWorld();
    useWorld(w, {
      override: (d) => ({
        ...d,
        rolloutStore: {
          ...d.rolloutStore,
          get: async () => {
            throw new TransientError('Table storage get web: 503 ServerBusy', {
              statusCode: 503,
              code: 'ServerBusy',
            });
          },
        },
      }),
    });
    const logs: Logged[] = [];
    await expect(onImagePushed(EVENT_GRID, context('onImagePushed', logs))).rejects.toBeInstanceOf(
      TransientError,
    );
    expect(logs.some((l) => l.level === 'warning' && /Event Grid will redeliver/.test(l.text))).toBe(true);
  });

  it('does not rethrow a terminal failure (retrying cannot help): logs it as an error', async () => {
    const w = makeWorld();
    useWorld(w, {
      override: (d) => ({
        ...d,
        rolloutStore: {
          ...d.rolloutStore,
          get: async () => {
            throw new TerminalError('Table storage get web: 403 AuthorizationPermissionMismatch', {
              statusCode: 403,
            });
          },
        },
      }),
    });
    const logs: Logged[] = [];
    await expect(onImagePushed(EVENT_GRID, context('onImagePushed', logs))).resolves.toBeUndefined();
    expect(logs.some((l) => l.level === 'error' && /failed, not retried/.test(l.text))).toBe(true);
  });

  it('rethrows an unexpected (unclassified) error so Event Grid redelivers instead of losing the push', async () => {
    const w = makeWorld();
    useWorld(w, {
      override: (d) => ({
        ...d,
        rolloutStore: {
          ...d.rolloutStore,
          get: async () => {
            throw new TypeError("Cannot read properties of undefined (reading 'digest')");
          },
        },
      }),
    });
    const logs: Logged[] = [];
    await expect(onImagePushed(EVENT_GRID, context('onImagePushed', logs))).rejects.toBeInstanceOf(TypeError);
    expect(
      logs.some((l) => l.level === 'error' && /unexpected failure, Event Grid will redeliver/.test(l.text)),
    ).toBe(true);
  });

  it('a call that hangs past the budget becomes a TransientError before Event Grid times out', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const w = makeWorld();
    useWorld(w, {
      budgetSeconds: 2,
      override: (d) => ({
        ...d,
        registries: {
          get: () => new Promise(() => undefined),
          loginServer: () => new Promise(() => undefined),
          privateEndpointSubnet: async () => undefined,
        },
      }),
    });
    const pending = onImagePushed(EVENT_GRID, context('onImagePushed'));
    const outcome = pending.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await vi.advanceTimersByTimeAsync(2_000 + 5_000);
    const e = await outcome;
    expect(e).toBeInstanceOf(TransientError);
    expect(String((e as Error).message)).toMatch(/not handled within 7 s/);
  });

  it('with unusable app settings a valid push throws (redelivered once fixed); a malformed one still returns', async () => {
    setRuntimeForTesting(undefined);
    vi.stubEnv('AZURE_SUBSCRIPTION_ID', '');
    vi.stubEnv('APPS_CONFIG', '');
    await expect(onImagePushed(EVENT_GRID, context('onImagePushed'))).rejects.toThrow(
      /AZURE_SUBSCRIPTION_ID/,
    );
    await expect(onImagePushed({}, context('onImagePushed'))).resolves.toBeUndefined();
    expect(() => getRuntime()).toThrow(/App setting AZURE_SUBSCRIPTION_ID/);
  });
});

// ---------------------------------------------------------------- reconcile

describe('reconcile', () => {
  it('runs one tick: a moved IP reaches the secret, and the tick is recorded', async () => {
    const w = makeWorld();
    await deployInitial(w);
    useWorld(w);
    const newIp = w.groups.maintenance('rg-apps', 'web-blue');
    expect(w.secrets.value(VAULT, 'web-ip')).not.toBe(newIp);
    const logs: Logged[] = [];
    await expect(reconcile(timer, context('reconcile', logs))).resolves.toBeUndefined();
    expect(w.secrets.value(VAULT, 'web-ip')).toBe(newIp);
    expect(w.store.reconciles.at(-1)?.changed.some((c) => c.kind === 'secret')).toBe(true);
    expect(logs.some((l) => /^reconcile: 1 changed/.test(l.text))).toBe(true);
  });

  it('warns when the timer is past due', async () => {
    const w = makeWorld();
    useWorld(w);
    const logs: Logged[] = [];
    await reconcile({ ...timer, isPastDue: true }, context('reconcile', logs));
    expect(logs.some((l) => l.level === 'warning' && /past due/.test(l.text))).toBe(true);
  });
});

// ---------------------------------------------------------------- status

describe('status', () => {
  it('GET /api/status: the status document, never a secret value', async () => {
    const w = makeWorld();
    await deployInitial(w);
    useWorld(w);
    const res = await get('status');
    expect(res.status).toBe(200);
    expect(res.res.headers).toMatchObject({ 'cache-control': 'no-store' });
    const doc = res.body as {
      apps: Array<Record<string, unknown>>;
      watched: unknown[];
      lastReconcile: unknown;
    };
    expect(doc.apps).toHaveLength(1);
    expect(doc.apps[0]).toMatchObject({
      name: 'web',
      activeGroup: 'web-blue',
      tag: '1.0.0',
      digest: digestOf(1),
    });
    expect(doc.apps[0]?.['secret']).toMatchObject({ name: 'web-ip', inSync: true });
    expect(Array.isArray(doc.watched)).toBe(true);
    expect('lastReconcile' in doc).toBe(true);
    expect(JSON.stringify(doc)).not.toContain('s3cr3t-db-password');
  });

  it('GET /api/status/web: one app', async () => {
    const w = makeWorld();
    await deployInitial(w);
    useWorld(w);
    const res = await get('status/web', { app: 'web' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'web', activeColor: 'blue', rollout: { state: 'succeeded' } });
    expect(Array.isArray((res.body as { history: unknown[] }).history)).toBe(true);
  });

  it('GET /api/status/{unknown}: 404 with a clear message', async () => {
    useWorld(makeWorld());
    const res = await get('status/nope', { app: 'nope' });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: 'AppNotFound',
      message: 'no app named "nope" is configured (configured: web)',
    });
  });

  it('GET /api/status/{refused}: the config errors of an app refused by validation', async () => {
    const w = makeWorld(
      makeConfig([webApp(), webApp({ name: 'api', repository: 'api', health: { port: 'x' } })]),
    );
    useWorld(w);
    const res = await get('status/api', { app: 'api' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'api', refused: true });
    expect(JSON.stringify(res.body)).toMatch(/health\.port/);
    const all = await get('status');
    expect((all.body as { refusedApps: Array<{ name: string }> }).refusedApps.map((r) => r.name)).toEqual([
      'api',
    ]);
  });

  it('caches live listings for STATUS_CACHE_SECONDS (store reads stay fresh)', async () => {
    const w = makeWorld();
    await deployInitial(w);
    useWorld(w, { statusCacheSeconds: 5 });
    const lists = w.groups.calls.list;
    await get('status');
    await get('status');
    expect(w.groups.calls.list - lists).toBe(1);
    w.clock.advance(5_000);
    await get('status');
    expect(w.groups.calls.list - lists).toBe(2);
  });

  it('with unusable app settings: 500 naming the setting', async () => {
    setRuntimeForTesting(undefined);
    vi.stubEnv('AZURE_SUBSCRIPTION_ID', 'not-a-guid');
    const res = await get('status');
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ error: 'ConfigurationError' });
    expect(String((res.body as { message: string }).message)).toMatch(/AZURE_SUBSCRIPTION_ID/);
  });
});

// ---------------------------------------------------------------- composition (no network: clients are lazy)

describe('composition', () => {
  const AZURITE =
    'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;';
  const env = (extra: Record<string, string> = {}) => ({
    AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000001',
    APPS_CONFIG: JSON.stringify({ apps: [webApp()] }),
    AzureWebJobsStorage: AZURITE,
    ...extra,
  });

  it('builds every adapter from settings without calling Azure; no notifier unless a topic is set', () => {
    const adapters = createAdapters(loadSettings(env()));
    expect(Object.keys(adapters).sort()).toEqual([
      'containerGroups',
      'dnsRecords',
      'healthProbe',
      'registries',
      'registryManifests',
      'rolloutStore',
      'secrets',
    ]);
    const withTopic = createAdapters(
      loadSettings(env({ NOTIFY_TOPIC_ENDPOINT: 'https://t.westeurope-1.eventgrid.azure.net/api/events' })),
    );
    expect(withTopic.notifier).toBeDefined();
  });

  it('wires the parsed config and the budgets into the runtime; status deps cache listings, others do not', () => {
    const settings = loadSettings(env({ ROLLOUT_EVENT_BUDGET_SECONDS: '12', STATUS_CACHE_SECONDS: '3' }));
    const adapters = createAdapters(settings);
    const runtime = composeRuntime(settings, adapters);
    expect(runtime.settings).toMatchObject({ rolloutEventBudgetSeconds: 12, statusCacheSeconds: 3 });
    const deps = runtime.deps(silentLogger);
    expect(deps.config.apps.map((a) => a.name)).toEqual(['web']);
    expect(deps.containerGroups).toBe(adapters.containerGroups);
    expect(runtime.statusDeps(silentLogger).containerGroups).not.toBe(adapters.containerGroups);
    expect(deps.dnsRecords).toBe(adapters.dnsRecords);
    expect(runtime.statusDeps(silentLogger).dnsRecords).not.toBe(adapters.dnsRecords);
    expect(runtime.statusDeps(silentLogger).rolloutStore).toBe(adapters.rolloutStore);
  });

  it('storage: a connection string (Azurite over http) or an identity-based table endpoint', () => {
    const credential = new DefaultAzureCredential();
    const local = createTableClient(loadSettings(env()), credential);
    expect(local.url).toBe('http://127.0.0.1:10002/devstoreaccount1');
    expect(local.tableName).toBe('rollouts');
    const azure = createTableClient(
      loadSettings({
        AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000001',
        APPS_CONFIG: JSON.stringify({ apps: [] }),
        AzureWebJobsStorage__tableServiceUri: 'https://stfuncs.table.core.windows.net',
        AzureWebJobsStorage__credential: 'managedidentity',
        AzureWebJobsStorage__clientId: '11111111-1111-1111-1111-111111111111',
        ROLLOUT_TABLE_NAME: 'bluegreen',
      }),
      credential,
    );
    expect(azure.url).toBe('https://stfuncs.table.core.windows.net');
    expect(azure.tableName).toBe('bluegreen');
  });
});
