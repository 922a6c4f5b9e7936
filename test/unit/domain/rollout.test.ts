import { describe, expect, it } from 'vitest';
import { TerminalError, TransientError } from '../../../src/domain/errors.js';
import {
  GROUP_TAGS,
  MANAGED_BY,
  ROLLOUT_STEPS,
  type AppState,
  type RolloutStep,
} from '../../../src/domain/model.js';
import { handleImagePushed } from '../../../src/domain/onImagePushed.js';
import { advance } from '../../../src/domain/rollout/runner.js';
import {
  LOCKED_ID,
  VAULT,
  budget,
  digestOf,
  makeConfig,
  makeWorld,
  pushEvent,
  webApp,
} from '../support/fakes.js';
import { assertServing, deployInitial, push, settle, watchServing } from '../support/scenario.js';

const steps = (s: AppState | undefined) => s?.rollout?.timeline.map((c) => c.step);

describe('rollout: happy path', () => {
  it('first deploy: creates web-blue by digest, gates on health, sets the secret, no drain', async () => {
    const w = makeWorld();
    watchServing(w);
    const r = await push(w, '1.0.0', 1);
    expect(r).toMatchObject({ outcome: 'started', app: 'web' });
    // Within the 20 s event budget: create, wait Running (4 s), 3 health probes 2 s apart, switch.
    expect(r.advance).toMatchObject({ status: 'finished', rolloutState: 'succeeded', step: 'succeeded' });
    const s = w.store.state('web')!;
    const spec = w.groups.createdSpecs[0]!;
    expect(spec).toMatchObject({
      name: 'web-blue',
      location: 'westeurope',
      osType: 'Linux',
      ports: [8080],
      registry: { server: 'contoso.azurecr.io', identity: expect.stringContaining('id-acr-pull') },
      tags: {
        app: 'web',
        colour: 'blue',
        digest: digestOf(1),
        tag: '1.0.0',
        'rollout-id': s.rollout!.id,
        'managed-by': MANAGED_BY,
      },
    });
    expect(spec.containers[0]).toMatchObject({
      image: `contoso.azurecr.io/web@${digestOf(1)}`,
      env: { LOG_LEVEL: 'info' },
      secureEnv: { DB_PASSWORD: 's3cr3t-db-password' },
    });
    const ip = w.groups.peek('rg-apps', 'web-blue')!.ip!;
    expect(w.secrets.secret(VAULT, 'web-ip')).toMatchObject({
      value: ip,
      tags: {
        ip,
        app: 'web',
        colour: 'blue',
        group: 'web-blue',
        digest: digestOf(1),
        'managed-by': MANAGED_BY,
      },
    });
    expect(steps(s)).toEqual([
      'accepted',
      'accepted',
      'cleaningIdle',
      'creating',
      'waitingRunning',
      'healthGate',
      'switching',
    ]);
    expect(w.probe.calls).toHaveLength(3);
    expect(w.probe.calls[0]).toBe(`http://${ip}:8080/healthz`);
    // Secure values never reach the stored state.
    expect([...w.store.rows.values()].map((r) => r.json).join()).not.toContain('s3cr3t');
    expect(w.notifier.events.map((e) => e.type)).toEqual(['rollout.started', 'rollout.succeeded']);
    expect(await w.store.listHistory('web', 10)).toMatchObject([
      { outcome: 'succeeded', tag: '1.0.0', group: 'web-blue' },
    ]);
  });

  it('blue → green: each pass moves one level; old group drains, then is deleted; secret always serves', async () => {
    const w = makeWorld();
    watchServing(w);
    await deployInitial(w);
    const blueIp = w.groups.peek('rg-apps', 'web-blue')!.ip!;

    const r = await push(w, '1.1.0', 2, 20);
    expect(r.outcome).toBe('started');
    expect(r.advance).toMatchObject({ status: 'waiting', step: 'draining' });
    const greenIp = w.groups.peek('rg-apps', 'web-green')!.ip!;
    expect(greenIp).not.toBe(blueIp);
    expect(w.secrets.value(VAULT, 'web-ip')).toBe(greenIp);
    expect(w.groups.names()).toEqual(['web-blue', 'web-green']); // blue drains, still there

    const seen: RolloutStep[] = [];
    await settle(w, {
      gapMs: 10_000,
      budgetSeconds: 1,
      each: (p) => {
        assertServing(w);
        seen.push(p.state!.rollout!.step);
        const drainUntil = Date.parse(p.state!.rollout!.drainUntil!);
        if (w.clock.now() < drainUntil) expect(w.groups.names()).toContain('web-blue');
      },
    });
    expect(seen.at(-1)).toBe('succeeded');
    expect(seen).toContain('draining');
    const s = w.store.state('web')!;
    expect(s.active).toMatchObject({
      group: 'web-green',
      colour: 'green',
      tag: '1.1.0',
      digest: digestOf(2),
    });
    expect(s.rollout).toMatchObject({ state: 'succeeded', fromGroup: 'web-blue' });
    expect(w.groups.names()).toEqual(['web-green']);
    expect(w.secrets.value(VAULT, 'web-ip')).toBe(greenIp);
    expect((await w.store.listHistory('web', 10)).map((h) => [h.tag, h.outcome])).toEqual([
      ['1.1.0', 'succeeded'],
      ['1.0.0', 'succeeded'],
    ]);
    // A further pass changes nothing.
    const writes = w.store.writes;
    const again = await advance('web', w.deps, budget(w, 5));
    expect(again.status).toBe('finished');
    expect(w.store.writes).toBe(writes);
  });

  it('third rollout goes back to blue', async () => {
    const w = makeWorld();
    await deployInitial(w);
    await push(w, '1.1.0', 2);
    await settle(w, { gapMs: 30_000 });
    await push(w, '1.2.0', 3);
    await settle(w, { gapMs: 30_000 });
    expect(w.store.state('web')!.active).toMatchObject({ group: 'web-blue', tag: '1.2.0' });
    expect(w.groups.names()).toEqual(['web-blue']);
  });
});

describe('rollout: failures keep the old group serving', () => {
  async function failWith(
    behaviour: 'pullFail' | 'crash' | 'unhealthy' | 'slow' | 'exit',
    appOverrides: Record<string, unknown> = {},
  ) {
    const w = makeWorld(makeConfig([webApp(appOverrides)]));
    watchServing(w);
    await deployInitial(w);
    const blueIp = w.groups.peek('rg-apps', 'web-blue')!.ip!;
    w.groups.behaviourByDigest.set(digestOf(2), behaviour);
    await push(w, '1.1.0', 2);
    await settle(w, { gapMs: 20_000, maxPasses: 100, each: () => assertServing(w) });
    const s = w.store.state('web')!;
    expect(s.rollout!.state).toBe('failed');
    expect(s.active).toMatchObject({ group: 'web-blue', tag: '1.0.0' });
    expect(w.secrets.value(VAULT, 'web-ip')).toBe(blueIp);
    expect(w.groups.peek('rg-apps', 'web-blue')!.state).toBe('Running');
    return { w, s };
  }

  it('image pull failure: the container event text is the reason; the new group is removed', async () => {
    const { w, s } = await failWith('pullFail');
    expect(s.rollout!.error).toEqual({
      step: 'waitingRunning',
      reason: 'ImagePullFailed',
      message: `image pull failed: Failed to pull image "contoso.azurecr.io/web@${digestOf(2)}": rpc error: code = NotFound desc = manifest unknown`,
    });
    expect(w.groups.names()).toEqual(['web-blue']);
    expect(w.notifier.events.at(-1)).toMatchObject({
      type: 'rollout.failed',
      message: expect.stringContaining('image pull failed'),
    });
    expect((await w.store.listHistory('web', 1))[0]).toMatchObject({
      outcome: 'failed',
      reason: 'ImagePullFailed',
    });
  });

  it('crash loop: exit code and restart count', async () => {
    const { w, s } = await failWith('crash');
    expect(s.rollout!.error!.reason).toBe('ContainerCrashed');
    expect(s.rollout!.error!.message).toBe('container crashed: exit code 1, restarted 3 times');
    expect(w.groups.names()).toEqual(['web-blue']);
  });

  it('unhealthy: health gate fails with the last response after the timeout', async () => {
    const { w, s } = await failWith('unhealthy');
    const ip = s.rollout!.ip!;
    expect(s.rollout!.error!.reason).toBe('HealthCheckFailed');
    expect(s.rollout!.error!.message).toMatch(
      new RegExp(
        `^health check failed: GET http://${ip.replace(/\./g, '\\.')}:8080/healthz → 503 \\(\\{"status":"starting"\\}\\) after 1[23]\\d s$`,
      ),
    );
    expect(w.groups.names()).toEqual(['web-blue']);
  });

  it('provisioning timeout names the state it was stuck in', async () => {
    const { s } = await failWith('slow', { provisioningTimeoutSeconds: 60 });
    expect(s.rollout!.error!.reason).toBe('ProvisioningTimeout');
    expect(s.rollout!.error!.message).toMatch(
      /^provisioning timeout: web-green not Running after \d+ s \(provisioningState Creating, state Pending, container web Waiting \(ContainerCreating\)\)$/,
    );
  });

  it('a container that exits is reported', async () => {
    const { s } = await failWith('exit');
    expect(s.rollout!.error).toMatchObject({
      reason: 'ContainerExited',
      message: 'group succeeded: container web exited with code 0',
    });
  });

  it('keepFailed keeps the failed group for diagnosis', async () => {
    const { w } = await failWith('crash', { keepFailed: true });
    expect(w.groups.names()).toEqual(['web-blue', 'web-green']);
  });

  // Issue 10: ACI pulls from a network-restricted registry with a managed identity when trusted services are
  // allowed (registryAccess.test.ts has the whole table); refused only when Azure would refuse the pull.
  it('a network-restricted registry that denies trusted services fails at once with cause and fix, creating nothing', async () => {
    const w = makeWorld(makeConfig([webApp({ registry: { resourceId: LOCKED_ID } })]));
    w.registries.registries.get(LOCKED_ID.toLowerCase())!.networkRuleBypassOptions = 'None';
    const ev = pushEvent({ tag: '1.0.0', digest: digestOf(1), topic: LOCKED_ID, host: 'locked.azurecr.io' });
    const r = await handleImagePushed(ev, w.deps, budget(w, 20));
    expect(r.outcome).toBe('started');
    const s = w.store.state('web')!;
    expect(s.rollout!.state).toBe('failed');
    expect(s.rollout!.error!.reason).toBe('RegistryNetworkRestricted');
    expect(s.rollout!.error!.message).toContain(
      'registry locked is network-restricted (public network access is Disabled',
    );
    expect(s.rollout!.error!.message).toContain(
      "locked denies trusted services (networkRuleBypassOptions=None). Fix: enable 'Allow trusted Microsoft services",
    );
    expect(w.groups.calls.create).toBe(0);
    expect(w.groups.names()).toEqual([]);
  });

  it('a registry firewall (default action Deny) that denies trusted services is also refused', async () => {
    const w = makeWorld();
    const reg = w.registries.registries.get([...w.registries.registries.keys()][0]!)!;
    reg.networkRuleSetDefaultAction = 'Deny';
    reg.networkRuleBypassOptions = 'None';
    await push(w, '1.0.0', 1);
    expect(w.store.state('web')!.rollout!.error!.message).toContain(
      'its firewall denies by default (networkRuleSet.defaultAction=Deny)',
    );
  });

  it('a missing secure env secret fails before creating anything', async () => {
    const w = makeWorld();
    w.secrets.vaults.get(VAULT)!.clear();
    await push(w, '1.0.0', 1);
    expect(w.store.state('web')!.rollout!.error).toMatchObject({
      reason: 'SecureEnvMissing',
      message: `secure env web.DB_PASSWORD: secret web-db-password not found in ${VAULT}`,
    });
    expect(w.groups.calls.create).toBe(0);
  });

  it('transient errors are retried; a terminal one fails with the Azure message', async () => {
    const w = makeWorld();
    w.groups.failNext.create = new TransientError('PUT web-blue: 503 ServiceUnavailable', {
      statusCode: 503,
    });
    await push(w, '1.0.0', 1);
    await settle(w);
    expect(w.store.state('web')!.rollout!.state).toBe('succeeded');
    expect(w.store.state('web')!.rollout!.timeline.map((c) => c.message)).toContain(
      'transient error, retrying: PUT web-blue: 503 ServiceUnavailable',
    );

    const w2 = makeWorld();
    w2.groups.failNext.create = new TerminalError('PUT web-blue: 400 InvalidParameter: bad cpu', {
      statusCode: 400,
      code: 'InvalidParameter',
    });
    await push(w2, '1.0.0', 1);
    expect(w2.store.state('web')!.rollout!.error).toMatchObject({
      reason: 'AzureError',
      message: 'creating: PUT web-blue: 400 InvalidParameter: bad cpu',
    });
  });

  it('Azure errors that never clear fail the rollout after transientGiveUpMs', async () => {
    const w = makeWorld(makeConfig(), { transientGiveUpMs: 60_000 });
    await deployInitial(w);
    const get = w.groups.get.bind(w.groups);
    w.groups.get = async (rg, name) => {
      if (name === 'web-green') throw new TransientError('GET: 500 InternalServerError', { statusCode: 500 });
      return get(rg, name);
    };
    await push(w, '1.1.0', 2);
    for (let i = 0; i < 20 && w.store.state('web')!.rollout!.state === 'inProgress'; i++) {
      w.clock.advance(20_000);
      await advance('web', w.deps, budget(w, 5));
    }
    const s = w.store.state('web')!;
    expect(s.rollout!.error!.reason).toBe('AzureError');
    expect(s.rollout!.error!.message).toMatch(
      /^Azure error persisted for \d+ s \(\d+ attempts\): GET: 500 InternalServerError$/,
    );
    expect(s.active!.group).toBe('web-blue');
  });

  it('refuses to delete a same-named group that is not ours', async () => {
    const w = makeWorld();
    w.groups.seed('rg-apps', 'web-blue', { tags: { owner: 'someone' } });
    await push(w, '1.0.0', 1);
    expect(w.store.state('web')!.rollout!.error).toMatchObject({
      reason: 'GroupNameTaken',
      message: expect.stringContaining('not managed by us'),
    });
    expect(w.groups.names()).toEqual(['web-blue']);
    expect(w.groups.calls.delete).toBe(0);
  });

  it('removes a leftover idle group of ours before re-creating it', async () => {
    const w = makeWorld();
    w.groups.deleteMs = 7_000;
    w.groups.seed('rg-apps', 'web-blue', {
      tags: { [GROUP_TAGS.managedBy]: MANAGED_BY, [GROUP_TAGS.rolloutId]: 'old', [GROUP_TAGS.app]: 'web' },
    });
    await push(w, '1.0.0', 1);
    await settle(w);
    const s = w.store.state('web')!;
    expect(s.rollout!.state).toBe('succeeded');
    expect(
      s.rollout!.timeline.some((c) => c.step === 'cleaningIdle' && c.message === 'no leftover web-blue'),
    ).toBe(true);
    expect(w.groups.peek('rg-apps', 'web-blue')!.tags['rollout-id']).toBe(s.rollout!.id);
  });
});

describe('rollout: adoption', () => {
  it('treats adoptGroup as active until the first rollout, then deletes it like any old group', async () => {
    const w = makeWorld(makeConfig([webApp({ adoptGroup: 'web-legacy' })]));
    w.groups.seed('rg-apps', 'web-legacy', { image: 'contoso.azurecr.io/web:0.9.0' });
    const legacyIp = w.groups.peek('rg-apps', 'web-legacy')!.ip!;
    w.secrets.seed(VAULT, 'web-ip', legacyIp);
    watchServing(w);
    const r = await push(w, '1.0.0', 1);
    expect(r.outcome).toBe('started');
    let s = w.store.state('web')!;
    expect(s.rollout!.group).toBe('web-blue');
    await settle(w, { gapMs: 10_000, each: () => assertServing(w) });
    s = w.store.state('web')!;
    expect(s.rollout).toMatchObject({ state: 'succeeded', fromGroup: 'web-legacy' });
    expect(w.groups.names()).toEqual(['web-blue']);
    expect(w.secrets.value(VAULT, 'web-ip')).toBe(w.groups.peek('rg-apps', 'web-blue')!.ip);
  });

  it('downgrade protection applies to the adopted version', async () => {
    const w = makeWorld(makeConfig([webApp({ adoptGroup: 'web-legacy' })]));
    w.groups.seed('rg-apps', 'web-legacy', { image: 'contoso.azurecr.io/web:2.0.0' });
    const r = await push(w, '1.5.0', 1);
    expect(r).toMatchObject({
      outcome: 'ignored',
      reason: 'stale: 1.5.0 is lower than the active version 2.0.0',
    });
  });
});

describe('rollout: crash between steps resumes from the store', () => {
  const targetSteps = ROLLOUT_STEPS.filter((s) => s !== 'accepted');

  async function crashScenario(step: RolloutStep, when: 'beforeWrite' | 'afterWrite') {
    // Manual promotion (promoting itself) and verify on, so the rollout passes through every step.
    const w = makeWorld(
      makeConfig([
        webApp({
          promotion: { mode: 'manual', autoPromoteAfterSeconds: 10 },
          verify: { intervalSeconds: 5, durationSeconds: 20, failureThreshold: 2 },
        }),
      ]),
    );
    watchServing(w);
    await deployInitial(w);
    const createsBefore = w.groups.calls.create;
    let crashed = false;
    // beforeWrite: the step's action happened, its write is lost. afterWrite: written, then the process died.
    w.store[when] = (_app, state) => {
      if (!crashed && state.rollout?.tag === '1.1.0' && state.rollout.step === step) {
        crashed = true;
        throw new Error(`simulated crash at ${step} (${when})`);
      }
    };
    // The hook stays installed: it fires once, wherever that step is reached (event run or a later pass).
    await push(w, '1.1.0', 2).catch(() => undefined);
    await settle(w, { gapMs: 10_000, each: () => assertServing(w) });
    expect(crashed).toBe(true);
    const s = w.store.state('web')!;
    expect(s.rollout).toMatchObject({ tag: '1.1.0', state: 'succeeded' });
    expect(s.active).toMatchObject({ group: 'web-green', digest: digestOf(2) });
    expect(w.groups.names()).toEqual(['web-green']);
    expect(w.secrets.value(VAULT, 'web-ip')).toBe(w.groups.peek('rg-apps', 'web-green')!.ip);
    expect(w.groups.calls.create - createsBefore).toBe(1);
    expect((await w.store.listHistory('web', 10)).filter((h) => h.tag === '1.1.0')).toHaveLength(1);
  }

  for (const step of targetSteps) {
    it(`crash after the write entering ${step}`, () => crashScenario(step, 'afterWrite'));
    it(`crash before the write entering ${step} (action done, write lost)`, () =>
      crashScenario(step, 'beforeWrite'));
  }

  it('crash while recording the push (accepted) loses nothing but the event, which Event Grid redelivers', async () => {
    const w = makeWorld();
    await deployInitial(w);
    w.store.beforeWrite = () => {
      throw new Error('simulated crash at accepted');
    };
    await expect(push(w, '1.1.0', 2, 20, { id: 'e-1', at: w.clock.now() })).rejects.toThrow(
      'simulated crash',
    );
    w.store.beforeWrite = undefined;
    expect(w.store.state('web')!.rollout!.tag).toBe('1.0.0');
    const again = await push(w, '1.1.0', 2, 20, { id: 'e-1', at: w.clock.now() - 1 });
    expect(again.outcome).toBe('started');
    await settle(w, { gapMs: 10_000 });
    expect(w.store.state('web')!.active!.tag).toBe('1.1.0');
  });
});

describe('rollout: time budget', () => {
  it('never runs past the budget and resumes on the next call', async () => {
    const w = makeWorld();
    const start = w.clock.now();
    const r = await push(w, '1.0.0', 1, 3);
    expect(w.clock.now() - start).toBeLessThanOrEqual(3_000);
    expect(r.advance!.status).toMatch(/waiting|budgetSpent/);
    expect(w.store.state('web')!.rollout!.state).toBe('inProgress');
    await settle(w, { budgetSeconds: 3, gapMs: 1_000 });
    expect(w.store.state('web')!.rollout!.state).toBe('succeeded');
  });
});
