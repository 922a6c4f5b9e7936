import { describe, expect, it } from 'vitest';
import { TransientError } from '../../../src/domain/errors.js';
import { GROUP_TAGS, MANAGED_BY, type ReconcileResult } from '../../../src/domain/model.js';
import { handleImagePushed } from '../../../src/domain/onImagePushed.js';
import { reconcile } from '../../../src/domain/reconcile.js';
import {
  VAULT,
  budget,
  digestOf,
  makeConfig,
  makeWorld,
  pushEvent,
  webApp,
  type World,
} from '../support/fakes.js';
import { assertServing, deployInitial, push, settle, watchServing } from '../support/scenario.js';

const KV2 = 'https://kv-legacy.vault.azure.net';

function tick(w: World, seconds = 60): Promise<ReconcileResult> {
  return reconcile({ ...w.deps }, budget(w, seconds));
}

function resetCalls(w: World) {
  w.groups.calls = { list: 0, get: 0, getDefinition: 0, create: 0, delete: 0, restart: 0 };
  w.secrets.calls = { list: 0, get: 0, set: 0 };
}

describe('reconcile: managed apps', () => {
  it('an IP change after maintenance is written within one tick; the next tick writes nothing', async () => {
    const w = makeWorld();
    await deployInitial(w);
    const newIp = w.groups.maintenance('rg-apps', 'web-blue');
    resetCalls(w);
    const r = await tick(w);
    expect(w.secrets.value(VAULT, 'web-ip')).toBe(newIp);
    expect(w.secrets.secret(VAULT, 'web-ip')!.tags).toMatchObject({
      ip: newIp,
      group: 'web-blue',
      colour: 'blue',
    });
    expect(r.changed).toEqual([
      {
        kind: 'secret',
        target: `${VAULT}/secrets/web-ip`,
        message: expect.stringMatching(
          new RegExp(`^web-ip: [\\d.]+ → ${newIp.replace(/\./g, '\\.')} \\(rg-apps/web-blue\\)$`),
        ),
      },
    ]);
    expect(r.errors).toEqual([]);
    expect(w.groups.calls).toMatchObject({ list: 1, get: 0 });
    expect(w.secrets.calls).toEqual({ list: 1, get: 0, set: 1 });

    resetCalls(w);
    const r2 = await tick(w);
    expect(r2.changed).toEqual([]);
    expect(w.secrets.calls).toEqual({ list: 1, get: 0, set: 0 });
    expect(w.groups.calls.get).toBe(0);
    expect(w.store.reconciles.at(-1)).toMatchObject({ changed: [], errors: [], throttled: 0 });
  });

  it('never blanks a secret: a stopped or missing active group is reported and the secret left alone', async () => {
    const w = makeWorld();
    await deployInitial(w);
    const ip = w.secrets.value(VAULT, 'web-ip');
    w.groups.stop('rg-apps', 'web-blue');
    const r = await tick(w);
    expect(w.secrets.value(VAULT, 'web-ip')).toBe(ip);
    expect(r.warnings.map((x) => x.message)).toEqual(
      expect.arrayContaining([
        'rg-apps/web-blue is Stopped, not Running; secret web-ip left unchanged',
        'active group rg-apps/web-blue is Stopped, not Running',
      ]),
    );
    expect(w.groups.calls.restart).toBe(0);

    w.groups.groups.clear();
    const r2 = await tick(w);
    expect(w.secrets.value(VAULT, 'web-ip')).toBe(ip);
    expect(r2.warnings.map((x) => x.message)).toContain(
      'rg-apps/web-blue not found; secret web-ip left unchanged',
    );
    expect(w.secrets.calls.set).toBe(1); // only the switch's write
  });

  it('restartUnhealthy restarts a stopped active group once per cooldown, and the next tick repairs the IP', async () => {
    const w = makeWorld(makeConfig([webApp({ restartUnhealthy: true })]));
    await deployInitial(w);
    w.groups.stop('rg-apps', 'web-blue');
    const r = await tick(w);
    expect(r.changed).toContainEqual({
      kind: 'groupRestarted',
      target: 'rg-apps/web-blue',
      message: 'restarted rg-apps/web-blue (was Stopped)',
    });
    w.groups.stop('rg-apps', 'web-blue');
    await tick(w);
    expect(w.groups.calls.restart).toBe(1);
    w.groups.groups.get('rg-apps/web-blue')!.fixedState = 'Running';
    w.groups.maintenance('rg-apps', 'web-blue');
    await tick(w);
    assertServing(w);
  });

  it('reports drift when the active group runs another image', async () => {
    const w = makeWorld();
    await deployInitial(w);
    w.groups.groups.get('rg-apps/web-blue')!.images[0]!.image = 'contoso.azurecr.io/web:hotfix';
    const r = await tick(w);
    expect(r.warnings.map((x) => x.message)).toContain(
      `drift: rg-apps/web-blue runs contoso.azurecr.io/web:hotfix, the rollout recorded ${w.store.state('web')!.active!.image}`,
    );
  });

  it('a secret without the ip tag has its value read once, then tags are kept', async () => {
    const w = makeWorld();
    await deployInitial(w);
    const ip = w.secrets.value(VAULT, 'web-ip')!;
    w.secrets.seed(VAULT, 'web-ip', ip); // written by hand, no tags
    resetCalls(w);
    const r = await tick(w);
    expect(w.secrets.calls).toEqual({ list: 1, get: 1, set: 1 });
    expect(r.changed[0]!.message).toBe(`web-ip: tags refreshed (${ip}, web-blue)`);
    resetCalls(w);
    await tick(w);
    expect(w.secrets.calls).toEqual({ list: 1, get: 0, set: 0 });
  });

  it('adopts adoptGroup on the first tick and mirrors its IP', async () => {
    const w = makeWorld(makeConfig([webApp({ adoptGroup: 'web-legacy' })]));
    w.groups.seed('rg-apps', 'web-legacy', { image: 'contoso.azurecr.io/web:0.9.0' });
    const r = await tick(w);
    expect(r.changed.map((c) => c.kind)).toEqual(['adopted', 'secret']);
    expect(w.store.state('web')!.active).toMatchObject({
      group: 'web-legacy',
      colour: 'adopted',
      tag: '0.9.0',
    });
    expect(w.secrets.value(VAULT, 'web-ip')).toBe(w.groups.peek('rg-apps', 'web-legacy')!.ip);
  });
});

describe('reconcile: adoption after the fact', () => {
  it('adopts a group that appears after the app was first seen (state without an active group)', async () => {
    const w = makeWorld(makeConfig([webApp({ adoptGroup: 'web-legacy' })]));
    const first = await tick(w);
    expect(first.warnings.map((x) => x.message)).toContain('adoptGroup rg-apps/web-legacy not found');
    expect(w.store.state('web')).toBeUndefined();
    w.groups.behaviourByDigest.set(digestOf(1), 'pullFail');
    await push(w, '1.0.0', 1);
    await settle(w);
    expect(w.store.state('web')!.active).toBeUndefined();
    w.groups.seed('rg-apps', 'web-legacy', { image: 'contoso.azurecr.io/web:0.9.0' });
    const r = await tick(w);
    expect(r.changed.map((c) => c.kind)).toEqual(['adopted', 'secret']);
    expect(w.store.state('web')!.active).toMatchObject({ group: 'web-legacy' });
    expect(w.store.state('web')!.rollout!.state).toBe('failed');
  });
});

describe('reconcile: watched groups (the sidecar, without a sidecar)', () => {
  function watchConfig() {
    return makeConfig([webApp()], {
      watch: {
        resourceGroups: ['rg-apps', 'rg-shared'],
        vaultUrl: VAULT,
        groups: [
          {
            resourceGroup: 'rg-legacy',
            name: 'legacy-worker',
            secretName: 'legacy-worker-ip',
            vaultUrl: KV2,
          },
        ],
      },
    });
  }

  it('tagged and configured groups get their secrets created and kept in sync, writing only what is stale', async () => {
    const w = makeWorld(watchConfig());
    w.groups.seed('rg-shared', 'cache', { tags: { 'ip-secret': 'cache-ip' } });
    w.groups.seed('rg-shared', 'queue', { tags: { 'ip-secret': 'queue-ip', 'ip-secret-vault': `${KV2}/` } });
    w.groups.seed('rg-shared', 'untagged');
    w.groups.seed('rg-legacy', 'legacy-worker');
    w.groups.seed('rg-legacy', 'tagged-but-not-watched', { tags: { 'ip-secret': 'nope' } });
    const r = await tick(w);
    expect(r.errors).toEqual([]);
    const ip = (rg: string, n: string) => w.groups.peek(rg, n)!.ip;
    expect(w.secrets.value(VAULT, 'cache-ip')).toBe(ip('rg-shared', 'cache'));
    expect(w.secrets.value(KV2, 'queue-ip')).toBe(ip('rg-shared', 'queue'));
    expect(w.secrets.value(KV2, 'legacy-worker-ip')).toBe(ip('rg-legacy', 'legacy-worker'));
    expect(w.secrets.value(VAULT, 'nope')).toBeUndefined();
    expect(w.secrets.secret(VAULT, 'cache-ip')!.tags).toEqual({
      ip: ip('rg-shared', 'cache'),
      group: 'cache',
      'resource-group': 'rg-shared',
      'managed-by': MANAGED_BY,
    });
    expect(r.changed).toHaveLength(3);
    expect(w.groups.calls.list).toBe(3); // rg-apps, rg-shared, rg-legacy: one list each
    expect(w.groups.calls.get).toBe(0);

    resetCalls(w);
    const newIp = w.groups.maintenance('rg-shared', 'cache');
    const r2 = await tick(w);
    expect(r2.changed.map((c) => c.target)).toEqual([`${VAULT}/secrets/cache-ip`]);
    expect(w.secrets.value(VAULT, 'cache-ip')).toBe(newIp);
    expect(w.secrets.calls).toEqual({ list: 2, get: 0, set: 1 });
  });

  it('refuses tags that point at unknown vaults, collide with an app secret, or claim one secret twice', async () => {
    const w = makeWorld(watchConfig());
    await deployInitial(w);
    const webIp = w.secrets.value(VAULT, 'web-ip');
    w.groups.seed('rg-shared', 'rogue', { tags: { 'ip-secret': 'web-ip' } });
    w.groups.seed('rg-shared', 'elsewhere', {
      tags: { 'ip-secret': 'x-ip', 'ip-secret-vault': 'https://kv-attacker.vault.azure.net' },
    });
    w.groups.seed('rg-shared', 'twin-a', { tags: { 'ip-secret': 'twin-ip' } });
    w.groups.seed('rg-shared', 'twin-b', { tags: { 'ip-secret': 'twin-ip' } });
    const r = await tick(w);
    expect(w.secrets.value(VAULT, 'web-ip')).toBe(webIp);
    expect(w.secrets.value(VAULT, 'twin-ip')).toBeUndefined();
    expect(w.secrets.vaults.has('https://kv-attacker.vault.azure.net')).toBe(false);
    const msgs = r.warnings.map((x) => x.message).join('\n');
    expect(msgs).toContain('belongs to a managed app; not mirroring rogue into it');
    expect(msgs).toContain('names a vault that is not in APPS_CONFIG; ignored');
    expect(msgs).toContain('is claimed by rg-shared/twin-a and rg-shared/twin-b; neither is written');
  });

  it('one failing vault or resource group does not stop the rest', async () => {
    const w = makeWorld(watchConfig());
    w.groups.seed('rg-shared', 'cache', { tags: { 'ip-secret': 'cache-ip' } });
    w.groups.seed('rg-legacy', 'legacy-worker');
    w.secrets.fault = (op, vault) =>
      op === 'list' && vault === KV2 ? new Error('403 Forbidden') : undefined;
    w.groups.listErrors.set('rg-apps', new TransientError('list: 500', { statusCode: 500 }));
    const r = await tick(w);
    expect(w.secrets.value(VAULT, 'cache-ip')).toBeDefined();
    expect(r.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          scope: 'vault',
          target: KV2,
          message: 'listing secrets failed: 403 Forbidden',
        }),
        expect.objectContaining({ scope: 'resourceGroup', target: 'rg-apps', retryable: true }),
      ]),
    );
  });

  it('Key Vault throttling on half the calls (429 without Retry-After): ticks converge and report it', async () => {
    const w = makeWorld(watchConfig());
    for (let i = 0; i < 10; i++)
      w.groups.seed('rg-shared', `svc-${i}`, { tags: { 'ip-secret': `svc-${i}-ip` } });
    let n = 0;
    w.secrets.fault = () =>
      n++ % 2 === 0 ? new TransientError('Throttled', { statusCode: 429, code: 'Throttled' }) : undefined;
    const results: ReconcileResult[] = [];
    for (let i = 0; i < 5; i++) {
      results.push(await tick(w));
      w.clock.advance(60_000);
    }
    for (let i = 0; i < 10; i++)
      expect(w.secrets.value(VAULT, `svc-${i}-ip`)).toBe(w.groups.peek('rg-shared', `svc-${i}`)!.ip);
    expect(results[0]!.throttled).toBeGreaterThan(0);
    expect(w.store.reconciles[0]!.throttled).toBe(results[0]!.throttled);
    expect(results.at(-1)!.changed).toEqual([]);
  });
});

describe('reconcile: cost', () => {
  it('300 watched groups in 3 resource groups, nothing stale: 3 lists, 1 vault listing, no GETs, no writes', async () => {
    const rgs = ['rg-a', 'rg-b', 'rg-c'];
    const w = makeWorld(makeConfig([], { watch: { resourceGroups: rgs, vaultUrl: VAULT, groups: [] } }));
    for (const rg of rgs)
      for (let i = 0; i < 100; i++)
        w.groups.seed(rg, `${rg}-svc-${i}`, { tags: { 'ip-secret': `${rg}-svc-${i}-ip` } });
    const first = await tick(w);
    expect(first.counts).toMatchObject({
      resourceGroups: 3,
      groups: 300,
      vaults: 1,
      secretsChecked: 300,
      writes: 300,
    });
    resetCalls(w);
    const second = await tick(w);
    expect(second.changed).toEqual([]);
    expect(second.counts.writes).toBe(0);
    expect(w.groups.calls).toEqual({ list: 3, get: 0, getDefinition: 0, create: 0, delete: 0, restart: 0 });
    expect(w.secrets.calls).toEqual({ list: 1, get: 0, set: 0 });
  });
});

describe('reconcile: rollouts and leftovers', () => {
  it('resumes an interrupted rollout and deletes the drained group on time', async () => {
    const w = makeWorld();
    watchServing(w);
    await deployInitial(w);
    await push(w, '1.1.0', 2, 2); // host "killed" after 2 s: web-green coming up
    expect(w.store.state('web')!.rollout!.step).toBe('waitingRunning');
    w.clock.advance(5_000);
    const r1 = await tick(w, 20);
    expect(r1.changed.find((c) => c.kind === 'rollout')!.message).toMatch(
      /waitingRunning → draining \(inProgress\)$/,
    );
    expect(w.groups.names()).toEqual(['web-blue', 'web-green']);
    const drainUntil = Date.parse(w.store.state('web')!.rollout!.drainUntil!);
    w.clock.t = drainUntil - 1_000;
    await tick(w, 0.5);
    expect(w.groups.names()).toEqual(['web-blue', 'web-green']);
    w.clock.t = drainUntil + 1;
    await tick(w, 5);
    expect(w.groups.names()).toEqual(['web-green']);
    expect(w.store.state('web')!.rollout!.state).toBe('succeeded');
    assertServing(w);
  });

  it('removes orphans past the grace period, keeps young ones and other apps’ groups', async () => {
    const w = makeWorld(makeConfig([webApp()], { reconcile: { orphanGraceSeconds: 600 } }));
    await deployInitial(w);
    const ours = (extra: Record<string, string>) => ({
      tags: {
        [GROUP_TAGS.managedBy]: MANAGED_BY,
        [GROUP_TAGS.app]: 'web',
        [GROUP_TAGS.rolloutId]: 'crashed',
        ...extra,
      },
    });
    w.groups.seed(
      'rg-apps',
      'web-green',
      ours({ [GROUP_TAGS.createdAt]: new Date(w.clock.now() - 3_600_000).toISOString() }),
    );
    w.groups.seed(
      'rg-apps',
      'web-extra',
      ours({ [GROUP_TAGS.createdAt]: new Date(w.clock.now() - 60_000).toISOString() }),
    );
    w.groups.seed('rg-apps', 'gone-app-blue', {
      tags: {
        [GROUP_TAGS.managedBy]: MANAGED_BY,
        [GROUP_TAGS.app]: 'gone-app',
        [GROUP_TAGS.createdAt]: '2020-01-01T00:00:00Z',
      },
    });
    w.groups.seed('rg-apps', 'not-ours');
    const r = await tick(w);
    expect(w.groups.names()).toEqual(['gone-app-blue', 'not-ours', 'web-blue', 'web-extra']);
    expect(r.changed).toContainEqual({
      kind: 'groupDeleted',
      target: 'rg-apps/web-green',
      message: 'orphan rg-apps/web-green (rollout crashed) deleted',
    });
    expect(r.warnings.map((x) => x.message)).toContain(
      'managed group of app "gone-app", which is not configured (or has config errors); left alone',
    );
    w.clock.advance(600_000);
    await tick(w);
    expect(w.groups.names()).toEqual(['gone-app-blue', 'not-ours', 'web-blue']);
  });

  it('never treats the groups of an in-flight rollout as orphans', async () => {
    const w = makeWorld(makeConfig([webApp()], { reconcile: { orphanGraceSeconds: 0 } }));
    await deployInitial(w);
    await push(w, '1.1.0', 2, 2);
    w.clock.advance(1_000);
    // A long poll interval: the resumed rollout stays at waitingRunning while the orphan sweep runs.
    const r = await reconcile(
      { ...w.deps, options: { ...w.deps.options, pollIntervalMs: 600_000 } },
      budget(w, 60),
    );
    expect(w.store.state('web')!.rollout!.step).toBe('waitingRunning');
    expect(r.changed.filter((c) => c.kind === 'groupDeleted')).toEqual([]);
    expect(w.groups.names()).toEqual(['web-blue', 'web-green']);
  });
});

describe('reconcile: IP fixes never wait behind a rollout (the rollout slice)', () => {
  function latencyWorld(): World {
    const health = { ...(webApp()['health'] as Record<string, unknown>), timeoutSeconds: 600 };
    const w = makeWorld(
      makeConfig([webApp({ health })], {
        watch: { resourceGroups: ['rg-shared'], vaultUrl: VAULT, groups: [] },
      }),
    );
    w.groups.seed('rg-shared', 'cache', { tags: { 'ip-secret': 'cache-ip' } });
    return w;
  }

  /** web 1.0.0 serving, then 1.1.0 pushed as unhealthy: the event's run ends inside the 10-minute health gate. */
  async function rolloutInHealthGate(w: World): Promise<void> {
    await deployInitial(w);
    await tick(w);
    expect(w.secrets.value(VAULT, 'cache-ip')).toBe(w.groups.peek('rg-shared', 'cache')!.ip);
    w.groups.behaviourByDigest.set(digestOf(2), 'unhealthy');
    await push(w, '1.1.0', 2);
    expect(w.store.state('web')!.rollout).toMatchObject({ tag: '1.1.0', step: 'healthGate' });
  }

  it('a maintenance on an unrelated watched group is synced in the same tick, which spends at most the slice (default 20 s) on the rollout', async () => {
    const w = latencyWorld();
    await rolloutInHealthGate(w);
    const newIp = w.groups.maintenance('rg-shared', 'cache');
    const started = w.clock.now();
    const r = await tick(w, 240);
    expect(w.secrets.value(VAULT, 'cache-ip')).toBe(newIp);
    expect(r.changed.map((c) => c.target)).toContain(`${VAULT}/secrets/cache-ip`);
    expect(r.errors).toEqual([]);
    // Before the slice, this tick slept through the health gate until its 240 s budget was spent.
    expect(w.clock.now() - started).toBeLessThanOrEqual(20_000);
    expect(r.durationMs).toBeLessThanOrEqual(20_000);
    expect(r.budgetExhausted).toBe(false);
    expect(w.store.state('web')!.rollout).toMatchObject({ state: 'inProgress', step: 'healthGate' });
    expect(w.secrets.value(VAULT, 'web-ip')).toBe(w.groups.peek('rg-apps', 'web-blue')!.ip);
  });

  it('ticks shorter than the health interval do not probe more often than the interval (the wait is stored)', async () => {
    const health = { ...(webApp()['health'] as Record<string, unknown>), intervalSeconds: 10 };
    const w = makeWorld(makeConfig([webApp({ health })]));
    await deployInitial(w);
    w.groups.behaviourByDigest.set(digestOf(2), 'unhealthy');
    await push(w, '1.1.0', 2, 8);
    expect(w.store.state('web')!.rollout).toMatchObject({ step: 'healthGate' });
    const probesAt: number[] = [];
    const check = w.probe.check.bind(w.probe);
    w.probe.check = async (url: string) => {
      probesAt.push(w.clock.now());
      return check(url);
    };
    for (let i = 0; i < 30; i++) {
      await reconcile({ ...w.deps }, budget(w, 240), { rolloutSliceSeconds: 1 });
      w.clock.advance(2_000);
    }
    expect(w.store.state('web')!.rollout).toMatchObject({ state: 'inProgress', step: 'healthGate' });
    // 60 s of 2 s ticks: one probe per 10 s interval, not one per tick.
    expect(probesAt.length).toBeGreaterThanOrEqual(5);
    expect(probesAt.length).toBeLessThanOrEqual(7);
    for (let i = 1; i < probesAt.length; i++)
      expect(probesAt[i]! - probesAt[i - 1]!).toBeGreaterThanOrEqual(10_000);
  });

  it('rollouts the slice did not reach go first next tick (no app starves behind the others)', async () => {
    const health = { ...(webApp()['health'] as Record<string, unknown>), timeoutSeconds: 600 };
    const names = ['web', 'api', 'worker'];
    const w = makeWorld(
      makeConfig(
        names.map((name) =>
          webApp({ name, repository: name, health, secret: { vaultUrl: VAULT, name: `${name}-ip` } }),
        ),
        { reconcile: { writeConcurrency: 1 } },
      ),
    );
    for (const [i, name] of names.entries()) {
      w.groups.behaviourByDigest.set(digestOf(10 + i), 'unhealthy');
      const r = await handleImagePushed(
        pushEvent({ tag: '1.0.0', digest: digestOf(10 + i), repository: name }),
        w.deps,
        budget(w, 20),
      );
      expect(r.outcome).toBe('started');
    }
    const probed: string[][] = [];
    const check = w.probe.check.bind(w.probe);
    w.probe.check = async (url: string) => {
      probed.at(-1)!.push(w.groups.peekByIp(new URL(url).hostname)!.name.split('-')[0]!);
      w.clock.advance(15_000); // a slow health endpoint (or slow ARM): one app's two probes fill the 20 s slice
      return check(url);
    };
    for (let i = 0; i < 3; i++) {
      probed.push([]);
      await tick(w, 240);
      w.clock.advance(60_000);
    }
    // In config order every tick would spend its slice on web; the apps left out go first next time.
    expect(probed).toEqual([
      ['web', 'web'],
      ['api', 'api'],
      ['worker', 'worker'],
    ]);
  });

  it('with a 1 s slice on a 2 s schedule, every tick fixes IPs at once and the rollout still completes tick by tick', async () => {
    const w = latencyWorld();
    watchServing(w);
    await rolloutInHealthGate(w);
    const sliceTick = () => reconcile({ ...w.deps }, budget(w, 240), { rolloutSliceSeconds: 1 });
    let lastIp = w.secrets.value(VAULT, 'cache-ip');
    const steps: string[] = [];
    let drainUntil: number | undefined;
    let oldGoneAt: number | undefined;
    for (let i = 0; i < 40; i++) {
      if (i === 3) w.groups.find('rg-apps', 'web-green')!.behaviour = 'ok'; // the slow start is over
      const newIp = i % 4 === 0 ? w.groups.maintenance('rg-shared', 'cache') : lastIp;
      const started = w.clock.now();
      const r = await sliceTick();
      expect(w.clock.now() - started).toBeLessThanOrEqual(1_000);
      expect(r.errors).toEqual([]);
      expect(w.secrets.value(VAULT, 'cache-ip')).toBe(newIp);
      lastIp = newIp;
      const rollout = w.store.state('web')!.rollout!;
      if (steps.at(-1) !== rollout.step) steps.push(rollout.step);
      drainUntil ??= rollout.drainUntil ? Date.parse(rollout.drainUntil) : undefined;
      if (!w.groups.find('rg-apps', 'web-blue')) oldGoneAt ??= started;
      if (rollout.state === 'succeeded') break;
      w.clock.t = started + 2_000;
    }
    expect(steps).toEqual(['healthGate', 'draining', 'deletingOld', 'succeeded']);
    expect(w.groups.names()).toEqual(['cache', 'web-green']);
    // The drained group goes in the first tick after drainUntil.
    expect(oldGoneAt! - drainUntil!).toBeGreaterThanOrEqual(0);
    expect(oldGoneAt! - drainUntil!).toBeLessThanOrEqual(2_000);
    expect(w.secrets.value(VAULT, 'web-ip')).toBe(w.groups.peek('rg-apps', 'web-green')!.ip);
  });
});
