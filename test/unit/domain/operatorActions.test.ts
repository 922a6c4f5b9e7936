/**
 * Operator actions and the steps they add (manual promotion, verify, rollback window), driven through the domain
 * with fakes and a fake clock: every test runs the real decisions and steps, pass after pass, checking that
 * callers always reach a Running group.
 */
import { describe, expect, it } from 'vitest';
import { handleOperatorAction, type ActionResult } from '../../../src/domain/actions/handleAction.js';
import { TerminalError } from '../../../src/domain/errors.js';
import type { OperatorAction } from '../../../src/domain/model.js';
import { operatorStatus } from '../../../src/domain/operatorStatus.js';
import { advance } from '../../../src/domain/rollout/runner.js';
import { parsePrivateDnsZoneId } from '../../../src/config/dnsConfig.js';
import { VAULT, budget, digestOf, makeConfig, makeWorld, webApp, type World } from '../support/fakes.js';
import { ZONE_ID } from '../support/fakeDns.js';
import { deployInitial, push, settle, watchServing } from '../support/scenario.js';

const VERIFY = { intervalSeconds: 2, durationSeconds: 30, failureThreshold: 3 };

function world(overrides: Record<string, unknown> = {}): World {
  const w = makeWorld(makeConfig([webApp({ drainSeconds: 5, ...overrides })]));
  watchServing(w);
  return w;
}

function act(
  w: World,
  action: OperatorAction,
  extra: { to?: string; reason?: string; actor?: string; app?: string } = {},
): Promise<ActionResult> {
  const { actor = 'alice@contoso.com', app = 'web', ...rest } = extra;
  // As the binding does: answer at the first wait (maxSleepMs 0), leave the rest to the timer.
  return handleOperatorAction({ app, action, actor, ...rest }, w.deps, { ...budget(w, 10), maxSleepMs: 0 });
}

const ipOf = (w: World, group: string) => w.groups.peek('rg-apps', group)?.ip;
const secret = (w: World, name = 'web-ip') => w.secrets.value(VAULT, name);
const state = (w: World) => w.store.state('web')!;

/** Advance a few passes without requiring the rollout to settle (it may wait for an operator). */
async function passes(w: World, n: number, gapMs = 2_000): Promise<void> {
  for (let i = 0; i < n; i++) {
    await advance('web', w.deps, budget(w, 20));
    w.clock.advance(gapMs);
  }
}

describe('verify: the check after the switch', () => {
  it('reverts a version that degrades after the health gate: callers back on the old group, digest turned away', async () => {
    const w = world({ verify: VERIFY });
    await deployInitial(w);
    const blueIp = ipOf(w, 'web-blue');
    w.groups.behaviourByDigest.set(digestOf(2), 'degrade');
    w.groups.degradeAfterMs = 12_000; // past the health gate (3 probes 2 s apart), inside verify
    await push(w, '1.1.0', 2);
    const greenIp = state(w).rollout!.ip;
    await settle(w, { gapMs: 1_000 });

    const s = state(w);
    expect(s.rollout).toMatchObject({ tag: '1.1.0', state: 'rolledBack', error: { reason: 'VerifyFailed' } });
    expect(s.rollout!.error!.message).toContain('3 consecutive');
    expect(s.active).toMatchObject({ group: 'web-blue', digest: digestOf(1) });
    expect(secret(w)).toBe(blueIp);
    expect(w.groups.names()).toEqual(['web-blue']);
    expect(s.rejected?.[0]).toMatchObject({ digest: digestOf(2), tag: '1.1.0' });

    // Moved back within interval × threshold of the first failing probe (fake clock: the runner held it).
    const firstFail = w.probe.log.find((p) => p.url.includes(greenIp!) && p.status === 503)!.at;
    const reverted = Date.parse(s.rollout!.timeline.find((c) => c.step === 'rolledBack')!.at);
    expect(reverted - firstFail).toBeLessThanOrEqual(VERIFY.intervalSeconds * 1000 * VERIFY.failureThreshold);
    expect(reverted).toBeGreaterThan(firstFail);

    const again = await push(w, '1.1.0', 2);
    expect(again).toMatchObject({ outcome: 'ignored' });
    expect(again.reason).toContain('turned away');
  });

  it('passes a healthy version and deletes the old group only after both verify and drain are over', async () => {
    const w = world({ verify: { ...VERIFY, durationSeconds: 20 } });
    await deployInitial(w);
    await push(w, '1.1.0', 2);
    await settle(w, {
      gapMs: 1_000,
      each: (p) => {
        if (p.state?.rollout?.step === 'verifying') expect(w.groups.names()).toContain('web-blue');
      },
    });
    const s = state(w);
    expect(s.rollout).toMatchObject({ state: 'succeeded', verify: { failures: 0 } });
    expect(s.rollout!.verify!.probes).toBeGreaterThanOrEqual(10);
    expect(s.rollout!.timeline.map((c) => c.step)).toContain('verifying');
    expect(w.groups.names()).toEqual(['web-green']);
    expect(secret(w)).toBe(ipOf(w, 'web-green'));
  });
});

describe('rollback', () => {
  it('inside the window: moves callers back to the kept group at once, creating nothing', async () => {
    const w = world({ rollbackWindowSeconds: 600 });
    await deployInitial(w);
    await push(w, '1.1.0', 2);
    await passes(w, 4); // not settle(): the kept group's deletion waits for the window
    expect(state(w).rollout).toMatchObject({ tag: '1.1.0', state: 'succeeded' });
    expect(state(w).rollbackTarget).toMatchObject({ group: 'web-blue', digest: digestOf(1) });
    expect(w.groups.names().sort()).toEqual(['web-blue', 'web-green']);
    const creates = w.groups.calls.create;

    const before = w.clock.now();
    const res = await act(w, 'rollback', { reason: 'bad release' });
    // Answered right after the switch: the drain is the timer's.
    expect(res).toMatchObject({ outcome: 'accepted', action: 'rollback', step: 'draining' });
    expect(w.clock.now()).toBe(before);
    expect(secret(w)).toBe(ipOf(w, 'web-blue'));
    expect(w.groups.calls.create).toBe(creates);

    await settle(w);
    const s = state(w);
    expect(s.active).toMatchObject({ group: 'web-blue', digest: digestOf(1) });
    expect(s.rollout).toMatchObject({
      kind: 'rollback',
      state: 'succeeded',
      requestedBy: { actor: 'alice@contoso.com' },
    });
    expect(s.rollbackTarget).toBeUndefined();
    expect(w.groups.names()).toEqual(['web-blue']);
    expect(s.rejected?.map((x) => x.digest)).toEqual([digestOf(2)]);
    expect(s.actions?.[0]).toMatchObject({
      action: 'rollback',
      actor: 'alice@contoso.com',
      reason: 'bad release',
    });
    const history = await w.store.listHistory('web', 10);
    expect(history[0]).toMatchObject({ kind: 'rollback', requestedBy: { reason: 'bad release' } });
    expect(w.notifier.events.map((e) => e.type)).toContain('operator.rollback');
  });

  it('the window closes: the kept group is deleted and a later rollback redeploys the previous digest', async () => {
    const w = world({ rollbackWindowSeconds: 60 });
    await deployInitial(w);
    await push(w, '1.1.0', 2);
    await settle(w);
    w.clock.advance(61_000);
    await settle(w);
    expect(w.groups.names()).toEqual(['web-green']);
    expect(state(w).rollbackTarget).toBeUndefined();

    const creates = w.groups.calls.create;
    const res = await act(w, 'rollback');
    expect(res).toMatchObject({ outcome: 'accepted' });
    await settle(w);
    expect(w.groups.calls.create).toBe(creates + 1);
    expect(w.groups.createdSpecs.at(-1)!.containers[0]!.image).toContain(digestOf(1));
    expect(state(w).active).toMatchObject({ group: 'web-blue', digest: digestOf(1), tag: '1.0.0' });
  });

  it('without a window it is a blue/green to the previous digest; retry then deploys the turned-away one', async () => {
    const w = world();
    await deployInitial(w);
    await push(w, '1.1.0', 2);
    await settle(w);
    expect(await act(w, 'rollback')).toMatchObject({ outcome: 'accepted' });
    await settle(w);
    expect(state(w).active).toMatchObject({ digest: digestOf(1), group: 'web-blue' });
    expect((await push(w, '1.1.0', 2)).outcome).toBe('ignored');

    const retried = await act(w, 'retry', { reason: 'registry permission fixed' });
    expect(retried).toMatchObject({ outcome: 'accepted', action: 'retry' });
    await settle(w);
    expect(state(w).active).toMatchObject({ digest: digestOf(2), group: 'web-green' });
    expect(state(w).rollout).toMatchObject({ kind: 'retry', state: 'succeeded' });
    expect(state(w).rejected ?? []).toEqual([]);
  });

  it('during verify an operator moves callers back at once', async () => {
    const w = world({ verify: { ...VERIFY, durationSeconds: 120 } });
    await deployInitial(w);
    await push(w, '1.1.0', 2);
    expect(state(w).rollout!.step).toBe('verifying');
    const res = await act(w, 'rollback', { reason: 'error rate up' });
    expect(res).toMatchObject({ outcome: 'accepted', rolloutState: 'rolledBack' });
    expect(secret(w)).toBe(ipOf(w, 'web-blue'));
    expect(state(w).rollout!.error).toMatchObject({ reason: 'RolledBackByOperator' });
    await settle(w);
    expect(w.groups.names()).toEqual(['web-blue']);
  });
});

describe('with a DNS name, every move of callers moves the record too (pointCallers)', () => {
  const zone = parsePrivateDnsZoneId(ZONE_ID)!;
  const record = (w: World) => w.dns.record(zone, 'web')?.ips[0];

  it('a verify revert and a rollback inside the window put the record back with the secret', async () => {
    const w = world({ verify: VERIFY, rollbackWindowSeconds: 600, dns: { zoneId: ZONE_ID } });
    await deployInitial(w);
    const blueIp = ipOf(w, 'web-blue');
    w.groups.behaviourByDigest.set(digestOf(2), 'degrade');
    w.groups.degradeAfterMs = 12_000;
    await push(w, '1.1.0', 2);
    await settle(w, { gapMs: 1_000 });
    expect(state(w).rollout!.state).toBe('rolledBack');
    expect(record(w)).toBe(blueIp);
    expect(secret(w)).toBe(blueIp);

    await push(w, '1.2.0', 3);
    await passes(w, 12, 3_000);
    expect(state(w).active).toMatchObject({ group: 'web-green', digest: digestOf(3) });
    expect(record(w)).toBe(ipOf(w, 'web-green'));
    await act(w, 'rollback');
    expect(record(w)).toBe(blueIp);
    expect(secret(w)).toBe(blueIp);
  });
});

describe('manual promotion', () => {
  it('the first deploy promotes itself; later ones wait with a preview secret until promoted', async () => {
    const w = world({ promotion: { mode: 'manual' } });
    await deployInitial(w);
    expect(state(w).rollout!.timeline.map((c) => c.step)).not.toContain('awaitingPromotion');

    await push(w, '1.1.0', 2);
    await passes(w, 3);
    expect(state(w).rollout).toMatchObject({ state: 'inProgress', step: 'awaitingPromotion' });
    expect(secret(w, 'web-ip-preview')).toBe(ipOf(w, 'web-green'));
    expect(secret(w)).toBe(ipOf(w, 'web-blue'));
    const status = operatorStatus(w.deps.config.apps[0]!, state(w), w.clock.now());
    expect(status).toMatchObject({ previewIp: ipOf(w, 'web-green'), previewSecret: 'web-ip-preview' });
    expect(status.availableActions).toEqual(expect.arrayContaining(['promote', 'abort']));

    const res = await act(w, 'promote');
    expect(res).toMatchObject({ outcome: 'accepted', action: 'promote' });
    expect(secret(w)).toBe(ipOf(w, 'web-green'));
    await settle(w);
    expect(state(w).active).toMatchObject({ group: 'web-green', digest: digestOf(2) });
    expect(
      state(w)
        .rollout!.timeline.map((c) => c.message)
        .join('\n'),
    ).toContain('promoted by alice@contoso.com');
  });

  it('abort removes the waiting group; the old one never stopped serving', async () => {
    const w = world({ promotion: { mode: 'manual' } });
    await deployInitial(w);
    await push(w, '1.1.0', 2);
    await passes(w, 2);
    expect(await act(w, 'abort', { reason: 'not today' })).toMatchObject({ outcome: 'accepted' });
    await settle(w);
    expect(state(w).rollout).toMatchObject({ state: 'aborted', error: { reason: 'AbortedByOperator' } });
    expect(w.groups.names()).toEqual(['web-blue']);
    expect(secret(w)).toBe(ipOf(w, 'web-blue'));
    expect(await act(w, 'abort')).toMatchObject({ outcome: 'notApplicable' });
  });

  it('a newer push replaces the waiting preview', async () => {
    const w = world({ promotion: { mode: 'manual' } });
    await deployInitial(w);
    await push(w, '1.1.0', 2);
    await passes(w, 2);
    const firstPreview = secret(w, 'web-ip-preview');
    expect((await push(w, '1.2.0', 3)).outcome).toBe('superseded');
    await passes(w, 3);
    expect(state(w).rollout).toMatchObject({ tag: '1.2.0', step: 'awaitingPromotion' });
    expect(secret(w, 'web-ip-preview')).toBe(ipOf(w, 'web-green'));
    expect(secret(w, 'web-ip-preview')).not.toBe(firstPreview);
  });

  it('autoPromoteAfterSeconds promotes without an operator', async () => {
    const w = world({ promotion: { mode: 'manual', autoPromoteAfterSeconds: 30 } });
    await deployInitial(w);
    await push(w, '1.1.0', 2);
    await settle(w, { gapMs: 10_000 });
    expect(state(w).active).toMatchObject({ digest: digestOf(2) });
    expect(
      state(w)
        .rollout!.timeline.map((c) => c.message)
        .join('\n'),
    ).toContain('promoted automatically');
  });
});

describe('pause and resume', () => {
  it('pause + 3 pushes + resume runs exactly one rollout, to the newest', async () => {
    const w = world();
    await deployInitial(w);
    expect(await act(w, 'pause', { reason: 'release freeze' })).toMatchObject({ outcome: 'accepted' });
    const creates = w.groups.calls.create;
    for (const [tag, n] of [
      ['1.1.0', 2],
      ['1.3.0', 4],
      ['1.2.0', 3],
    ] as const) {
      const r = await push(w, tag, n);
      expect(r.outcome === 'queued' || r.outcome === 'ignored').toBe(true);
    }
    await passes(w, 2);
    expect(w.groups.calls.create).toBe(creates);
    expect(state(w).queued).toMatchObject({ tag: '1.3.0' });
    expect(operatorStatus(w.deps.config.apps[0]!, state(w), w.clock.now()).paused).toMatchObject({
      actor: 'alice@contoso.com',
      reason: 'release freeze',
    });

    const resumed = await act(w, 'resume');
    expect(resumed).toMatchObject({ outcome: 'accepted', action: 'resume' });
    expect(resumed.outcome === 'accepted' && resumed.rolloutId).toBeTruthy();
    await settle(w);
    expect(w.groups.calls.create).toBe(creates + 1);
    expect(state(w).active).toMatchObject({ tag: '1.3.0' });
    expect(state(w).paused).toBeUndefined();
  });
});

describe('redeploy and refusals', () => {
  it('redeploy runs a fresh blue/green of the active digest', async () => {
    const w = world();
    await deployInitial(w);
    expect(await act(w, 'redeploy', { reason: 'move off a bad host' })).toMatchObject({
      outcome: 'accepted',
    });
    await settle(w);
    expect(state(w).active).toMatchObject({ group: 'web-green', digest: digestOf(1) });
    expect(state(w).rollout).toMatchObject({ kind: 'redeploy', state: 'succeeded' });
  });

  it('refuses what does not apply now, with the reason, and records nothing', async () => {
    const w = world();
    expect(await act(w, 'redeploy')).toMatchObject({ outcome: 'notApplicable' });
    await deployInitial(w);
    const before = JSON.stringify(state(w));
    const refusals: Array<[OperatorAction, RegExp]> = [
      ['promote', /awaits promotion/],
      ['abort', /no rollout .* in progress/],
      ['resume', /not paused/],
      ['rollback', /no earlier successful version/],
      ['retry', /no failed or rolled-back version/],
    ];
    for (const [action, reason] of refusals) {
      const r = await act(w, action);
      expect(r.outcome, action).toBe('notApplicable');
      expect(r.outcome === 'notApplicable' && r.reason).toMatch(reason);
    }
    expect(JSON.stringify(state(w))).toBe(before);
    expect(await act(w, 'pause', { app: 'nope' })).toMatchObject({ outcome: 'unknownApp' });
  });

  it('abort after the switch is refused: callers already moved, rollback is the way back', async () => {
    const w = world({ drainSeconds: 60 });
    await deployInitial(w);
    await push(w, '1.1.0', 2);
    expect(state(w).rollout!.step).toBe('draining');
    const r = await act(w, 'abort');
    expect(r).toMatchObject({ outcome: 'notApplicable' });
    expect(r.outcome === 'notApplicable' && r.reason).toContain('use rollback');
  });
});

describe('a switch that Azure refuses', () => {
  it('fails the rollout instead of calling it succeeded: callers stay on the old group, the new one goes', async () => {
    const w = world();
    await deployInitial(w);
    const set = w.secrets.set.bind(w.secrets);
    w.secrets.set = async (vault, name, value, tags) => {
      if (name === 'web-ip' && value !== ipOf(w, 'web-blue'))
        throw new TerminalError('Forbidden: no Key Vault Secrets Officer');
      return set(vault, name, value, tags);
    };
    await push(w, '1.1.0', 2);
    await settle(w);
    expect(state(w).rollout).toMatchObject({
      state: 'failed',
      step: 'switching',
      error: { reason: 'AzureError' },
    });
    expect(state(w).active).toMatchObject({ group: 'web-blue', digest: digestOf(1) });
    expect(secret(w)).toBe(ipOf(w, 'web-blue'));
    expect(w.groups.names()).toEqual(['web-blue']);
  });
});
