import { describe, expect, it } from 'vitest';
import { reconcile } from '../../../src/domain/reconcile.js';
import { collectStatus, selectApp } from '../../../src/domain/status.js';
import { REGISTRY_ID, VAULT, budget, digestOf, makeConfig, makeWorld, webApp } from '../support/fakes.js';
import { deployInitial, push, settle } from '../support/scenario.js';

function world() {
  return makeWorld(
    makeConfig([webApp(), webApp({ name: 'api', repository: 'api', health: { port: 'x' } })], {
      watch: { resourceGroups: ['rg-shared'], vaultUrl: VAULT, groups: [] },
    }),
  );
}

describe('status', () => {
  it('has the docs/design.md shape, with history, timeline, watched groups, last reconcile and config errors', async () => {
    const w = world();
    await deployInitial(w);
    await push(w, '1.1.0', 2);
    await settle(w, { gapMs: 30_000 });
    w.groups.seed('rg-shared', 'cache', { tags: { 'ip-secret': 'cache-ip' } });
    await reconcile(w.deps, budget(w, 30));
    const doc = await collectStatus(w.deps);
    const green = w.groups.peek('rg-apps', 'web-green')!;
    expect(doc.apps).toHaveLength(1);
    const app = doc.apps[0]!;
    expect(app).toMatchObject({
      name: 'web',
      registry: 'contoso',
      registryLoginServer: 'contoso.azurecr.io',
      registryResourceId: REGISTRY_ID,
      repository: 'web',
      activeColor: 'green',
      activeGroup: 'web-green',
      ip: green.ip,
      digest: digestOf(2),
      tag: '1.1.0',
      secret: { name: 'web-ip', inSync: true, ip: green.ip, problem: null },
      rollout: { state: 'succeeded', step: 'succeeded', error: null, tag: '1.1.0' },
    });
    expect(app.rollout!.timeline.map((c) => c.step)).toContain('draining');
    expect(app.history.map((h) => [h.tag, h.outcome])).toEqual([
      ['1.1.0', 'succeeded'],
      ['1.0.0', 'succeeded'],
    ]);
    expect(app.history[0]!.durationMs).toBeGreaterThan(30_000);
    expect(app).not.toHaveProperty('groupState');
    expect(app.conditions.find((c) => c.type === 'Available')).toMatchObject({
      status: 'True',
      reason: 'ProvisionedWithIp',
    });
    expect(app.conditions.find((c) => c.type === 'SecretInSync')).toMatchObject({ status: 'True' });
    expect(doc.watched).toEqual([
      {
        resourceGroup: 'rg-shared',
        name: 'cache',
        ip: w.groups.peek('rg-shared', 'cache')!.ip,
        secret: 'cache-ip',
        vaultUrl: VAULT,
        inSync: true,
        source: 'tag',
        provisioningState: 'Succeeded', // list responses carry no instance view: no group state
        problem: null,
      },
    ]);
    expect(doc.lastReconcile).toMatchObject({
      changed: [expect.objectContaining({ kind: 'secret' })],
      errors: [],
    });
    expect(doc.configErrors.map((e) => e.text)).toEqual(['apps[1] (api): health.port: expected a number']);
    expect(doc.refusedApps).toEqual([
      { name: 'api', errors: ['apps[1] (api): health.port: expected a number'] },
    ]);
    expect(doc.errors).toEqual([]);
  });

  it('shows a failed rollout with its reason while the old group keeps serving', async () => {
    const w = world();
    await deployInitial(w);
    w.groups.behaviourByDigest.set(digestOf(2), 'pullFail');
    await push(w, '1.1.0', 2);
    await settle(w);
    const app = (await collectStatus(w.deps)).apps[0]!;
    expect(app).toMatchObject({ activeGroup: 'web-blue', tag: '1.0.0', secret: { inSync: true } });
    expect(app.rollout).toMatchObject({
      state: 'failed',
      step: 'waitingRunning',
      reason: 'ImagePullFailed',
      error: expect.stringMatching(/^image pull failed: /),
    });
    expect(app.conditions.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'ImagePullFailed',
    });
  });

  it('lists the pushes that started no rollout (apps[].ignored), newest first', async () => {
    const w = world();
    await deployInitial(w);
    expect((await collectStatus(w.deps)).apps[0]!.ignored).toEqual([]);
    const dup = await push(w, '1.0.1', 1, 20, { id: 'evt-dup' });
    const stale = await push(w, '0.9.0', 4, 20, { id: 'evt-old' });
    const doc = await collectStatus(w.deps);
    expect(doc.apps[0]!.ignored).toEqual([
      {
        at: expect.any(String),
        eventId: 'evt-old',
        tag: '0.9.0',
        digest: digestOf(4),
        outcome: 'rejected',
        reason: stale.reason,
      },
      {
        at: expect.any(String),
        eventId: 'evt-dup',
        tag: '1.0.1',
        digest: digestOf(1),
        outcome: 'ignored',
        reason: dup.reason,
      },
    ]);
    expect(dup.reason).toMatch(/duplicate/);
    expect(selectApp(await collectStatus(w.deps, { app: 'web' }), 'web')).toMatchObject({
      kind: 'app',
      app: { ignored: [{ eventId: 'evt-old' }, { eventId: 'evt-dup' }] },
    });
  });

  it('reports a secret out of sync until the next tick', async () => {
    const w = world();
    await deployInitial(w);
    w.groups.maintenance('rg-apps', 'web-blue');
    expect((await collectStatus(w.deps)).apps[0]!.secret.inSync).toBe(false);
    await reconcile(w.deps, budget(w, 30));
    expect((await collectStatus(w.deps)).apps[0]!.secret.inSync).toBe(true);
  });

  it('lists one resource group and one vault per call, and never contains secret values', async () => {
    const w = world();
    await deployInitial(w);
    w.secrets.seed(VAULT, 'unrelated', 'TOP-SECRET-VALUE');
    w.groups.calls = { list: 0, get: 0, getDefinition: 0, create: 0, delete: 0, restart: 0 };
    w.secrets.calls = { list: 0, get: 0, set: 0 };
    const doc = await collectStatus(w.deps);
    expect(w.groups.calls.list).toBe(2); // rg-apps, rg-shared
    expect(w.groups.calls.get).toBe(0);
    expect(w.secrets.calls).toEqual({ list: 1, get: 0, set: 0 });
    const json = JSON.stringify(doc);
    expect(json).not.toContain('s3cr3t');
    expect(json).not.toContain('TOP-SECRET-VALUE');
  });

  it('one app: only its resource group; unknown app → undefined; refused app → its errors', async () => {
    const w = world();
    await deployInitial(w);
    w.groups.calls.list = 0;
    const doc = await collectStatus(w.deps, { app: 'web' });
    expect(w.groups.calls.list).toBe(1);
    expect(doc.apps.map((a) => a.name)).toEqual(['web']);
    expect(doc.watched).toEqual([]);
    expect(selectApp(doc, 'web')).toMatchObject({ kind: 'app', app: { name: 'web' } });
    expect(selectApp(doc, 'nope')).toBeUndefined();
    expect(selectApp(doc, 'api')).toEqual({
      kind: 'refused',
      name: 'api',
      errors: ['apps[1] (api): health.port: expected a number'],
    });
  });

  it('a failing listing degrades to errors, not an exception', async () => {
    const w = world();
    await deployInitial(w);
    w.groups.listErrors.set('rg-apps', new Error('503 ServiceUnavailable'));
    const doc = await collectStatus(w.deps);
    expect(doc.errors).toContain('resource group rg-apps: 503 ServiceUnavailable');
    expect(doc.apps[0]).toMatchObject({
      activeGroup: 'web-blue',
      ip: null,
      secret: { inSync: false, problem: 'resource group listing failed' },
    });
  });

  it('before any deployment', async () => {
    const w = world();
    const app = (await collectStatus(w.deps)).apps[0]!;
    expect(app).toMatchObject({
      activeColor: null,
      activeGroup: null,
      ip: null,
      rollout: null,
      history: [],
      registry: 'contoso',
      secret: { inSync: false, problem: 'no active group yet' },
    });
  });
});
