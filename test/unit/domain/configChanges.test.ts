/**
 * Config-change rollouts through the domain with fakes: a changed template (or, with rolloutOnSecretChange, a new
 * version of a secret it uses) makes the reconcile tick start one blue/green of the active digest; opting out
 * reports the drift; a group without a config-hash tag is "unknown" and starts nothing; a config rollout that
 * failed, or one an operator rolled back from, is not started again by itself.
 */
import { describe, expect, it } from 'vitest';
import { handleOperatorAction } from '../../../src/domain/actions/handleAction.js';
import { configHash, desiredConfigHash } from '../../../src/domain/configHash.js';
import { effectiveTemplate } from '../../../src/domain/effectiveTemplate.js';
import { GROUP_TAGS, type ReconcileResult } from '../../../src/domain/model.js';
import { reconcile } from '../../../src/domain/reconcile.js';
import { collectStatus } from '../../../src/domain/status.js';
import {
  IDENTITY_ID,
  VAULT,
  budget,
  digestOf,
  makeConfig,
  makeWorld,
  webApp,
  type World,
} from '../support/fakes.js';
import { deployInitial, push, settle, watchServing } from '../support/scenario.js';

const template = (memoryInGB: number) => ({
  osType: 'Linux',
  imagePullIdentity: IDENTITY_ID,
  containers: [
    {
      name: 'web',
      cpu: 0.5,
      memoryInGB,
      ports: [8080],
      env: { LOG_LEVEL: 'info' },
      secureEnvFromKeyVault: { DB_PASSWORD: { vaultUrl: VAULT, secretName: 'web-db-password' } },
    },
  ],
});

function world(extra: Record<string, unknown> = {}): World {
  const w = makeWorld(makeConfig([webApp({ drainSeconds: 5, template: template(1), ...extra })]));
  watchServing(w);
  return w;
}

/** The host restarted with a new APPS_CONFIG. */
function reconfigure(w: World, extra: Record<string, unknown>): void {
  w.deps.config = makeConfig([webApp({ drainSeconds: 5, template: template(1), ...extra })]);
}

const tick = (w: World): Promise<ReconcileResult> =>
  reconcile({ ...w.deps }, budget(w, 60), { rolloutSliceSeconds: 20 });
const state = (w: World) => w.store.state('web')!;
const status = async (w: World) => (await collectStatus(w.deps, { app: 'web' })).apps[0]!;

describe('config-change rollouts', () => {
  it('stamps the config hash on the group; a changed memory starts one blue/green of the same digest', async () => {
    const w = world();
    await deployInitial(w);
    const hash = configHash(effectiveTemplate(w.deps.config.apps[0]!).template!);
    expect(hash).toMatch(/^v1-[0-9a-f]{16}$/);
    expect(w.groups.find('rg-apps', 'web-blue')!.tags[GROUP_TAGS.configHash]).toBe(hash);
    expect((await tick(w)).changed).toEqual([]);
    expect((await status(w)).config).toMatchObject({ state: 'inSync', desiredHash: hash, activeHash: hash });

    reconfigure(w, { template: template(2) });
    const desired = desiredConfigHash(w.deps.config.apps[0]!, undefined)!;
    expect((await status(w)).config).toMatchObject({
      state: 'drift',
      changes: [`template changed (${hash} → ${desired})`],
      message: expect.stringContaining('the next reconcile tick starts a blue/green of 1.0.0'),
    });
    const r = await tick(w);
    expect(r.changed.filter((c) => c.kind === 'rollout')[0]!.message).toContain(
      `config change: template changed (${hash} → ${desired})`,
    );
    await settle(w);
    const s = state(w);
    expect(s.rollout).toMatchObject({ kind: 'configChanged', state: 'succeeded', digest: digestOf(1) });
    expect(s.rollout!.requestedBy).toMatchObject({ actor: 'reconcile' });
    expect(s.active).toMatchObject({ group: 'web-green', digest: digestOf(1), tag: '1.0.0' });
    expect(w.groups.createdSpecs.at(-1)!.containers[0]!.memoryInGB).toBe(2);
    expect(w.groups.find('rg-apps', 'web-green')!.tags[GROUP_TAGS.configHash]).toBe(desired);
    expect(w.groups.names()).toEqual(['web-green']);

    // Level-triggered and idempotent: the next ticks find it in sync.
    const creates = w.groups.calls.create;
    await tick(w);
    await tick(w);
    expect(w.groups.calls.create).toBe(creates);
    expect((await status(w)).config!.state).toBe('inSync');
  });

  it('rolloutOnConfigChange false: reports the drift, starts nothing', async () => {
    const w = world({ rolloutOnConfigChange: false });
    await deployInitial(w);
    reconfigure(w, { rolloutOnConfigChange: false, template: template(2) });
    const r = await tick(w);
    expect(r.warnings.map((x) => x.message)).toEqual([
      expect.stringMatching(
        /^config drift: template changed \(v1-\w+ → v1-\w+\); rolloutOnConfigChange is false: redeploy to apply it$/,
      ),
    ]);
    expect(w.groups.calls.create).toBe(1);
    expect((await status(w)).config).toMatchObject({ state: 'drift', rolloutOnConfigChange: false });
  });

  it('a group without the config-hash tag (made before this version) is unknown: nothing starts', async () => {
    const w = world();
    await deployInitial(w);
    delete w.groups.find('rg-apps', 'web-blue')!.tags[GROUP_TAGS.configHash];
    reconfigure(w, { template: template(2) });
    const r = await tick(w);
    expect(r.changed).toEqual([]);
    expect(w.groups.calls.create).toBe(1);
    expect((await status(w)).config).toMatchObject({
      state: 'unknown',
      activeHash: null,
      message: expect.stringContaining('web-blue has no config-hash tag of this version'),
    });
    // The next rollout of any kind records it.
    await push(w, '1.1.0', 2);
    await settle(w);
    expect((await status(w)).config!.state).toBe('inSync');
  });

  it('rolloutOnSecretChange: a new version of a referenced secret rolls out; its version is kept, never its value', async () => {
    const w = world({ rolloutOnSecretChange: true });
    await deployInitial(w);
    expect(state(w).active!.secretVersions).toEqual([
      { vaultUrl: VAULT, name: 'web-db-password', version: 'v1', createdOn: expect.any(String) },
    ]);
    expect((await tick(w)).changed).toEqual([]);
    w.clock.advance(60_000);
    await w.secrets.set(VAULT, 'web-db-password', 'rotated-password-value', {});
    const s1 = await status(w);
    expect(s1.config).toMatchObject({
      state: 'drift',
      secrets: [{ name: 'web-db-password', version: 'v1', changed: true }],
    });
    await tick(w);
    await settle(w);
    const s = state(w);
    expect(s.rollout).toMatchObject({ kind: 'configChanged', state: 'succeeded', digest: digestOf(1) });
    expect(s.active!.secretVersions![0]).toMatchObject({ name: 'web-db-password', version: 'v2' });
    expect(w.groups.createdSpecs.at(-1)!.containers[0]!.secureEnv).toEqual({
      DB_PASSWORD: 'rotated-password-value',
    });
    expect(JSON.stringify(w.store.rows.get('web'))).not.toContain('rotated-password-value');
    expect((await tick(w)).changed).toEqual([]);
  });

  it('without rolloutOnSecretChange a new secret version starts nothing', async () => {
    const w = world();
    await deployInitial(w);
    w.clock.advance(60_000);
    await w.secrets.set(VAULT, 'web-db-password', 'rotated', {});
    expect((await tick(w)).changed).toEqual([]);
    expect(w.groups.calls.create).toBe(1);
  });

  it('a config rollout that failed is not started again by itself; waits under a freeze; not after a rollback', async () => {
    const w = world({ rollbackWindowSeconds: 600 });
    await deployInitial(w);
    reconfigure(w, { rollbackWindowSeconds: 600, template: template(2) });
    w.deps.deployFreeze = {};
    const frozen = await tick(w);
    expect(frozen.warnings.map((x) => x.message)).toEqual([expect.stringContaining('waits: held: freeze')]);
    expect(w.groups.calls.create).toBe(1);
    delete w.deps.deployFreeze;

    w.groups.behaviourByDigest.set(digestOf(1), 'crash');
    await tick(w);
    await settle(w);
    expect(state(w).rollout).toMatchObject({ kind: 'configChanged', state: 'failed' });
    const creates = w.groups.calls.create;
    const again = await tick(w);
    expect(w.groups.calls.create).toBe(creates);
    expect(again.warnings.map((x) => x.message)).toEqual([expect.stringMatching(/ended failed .*redeploy/)]);

    // A working config after a push; then the operator rolls back to the kept group (old config): nothing starts.
    w.groups.behaviourByDigest.delete(digestOf(1));
    await push(w, '1.1.0', 2);
    for (let i = 0; i < 8; i++) {
      await tick(w);
      w.clock.advance(5_000);
    }
    expect(state(w).active).toMatchObject({ tag: '1.1.0' });
    reconfigure(w, { rollbackWindowSeconds: 600, template: template(3) });
    const rolledBack = await handleOperatorAction({ app: 'web', action: 'rollback', actor: 'bob' }, w.deps, {
      ...budget(w, 10),
      maxSleepMs: 0,
    });
    expect(rolledBack.outcome).toBe('accepted');
    for (let i = 0; i < 4; i++) {
      await tick(w);
      w.clock.advance(5_000);
    }
    expect(state(w).rollout).toMatchObject({ kind: 'rollback', state: 'succeeded' });
    expect((await status(w)).config!.message).toContain('not rolled out by itself after the rollback');
  });
});
