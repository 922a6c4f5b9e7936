/**
 * Blue/green with a DNS name (issue 17): the switch points the app's A record and then its secret at the new group
 * (callerPointers.ts), the old group drains for at least TTL + the callers' cache, and a record that cannot be
 * written yet leaves both pointers on the old group while the step retries.
 */
import { describe, expect, it } from 'vitest';
import { parsePrivateDnsZoneId } from '../../../src/config/dnsConfig.js';
import { drainSecondsOf, pointCallers, rolloutOwnsCallers } from '../../../src/domain/callerPointers.js';
import { TransientError } from '../../../src/domain/errors.js';
import { ms } from '../../../src/domain/model.js';
import { VAULT, makeConfig, makeWorld, webApp, type World } from '../support/fakes.js';
import { ZONE_ID } from '../support/fakeDns.js';
import { deployInitial, push, settle } from '../support/scenario.js';

const ZONE = parsePrivateDnsZoneId(ZONE_ID)!;

function dnsWorld(dns: Record<string, unknown> = {}, app: Record<string, unknown> = {}): World {
  return makeWorld(makeConfig([webApp({ dns: { zoneId: ZONE_ID, ...dns }, ...app })]));
}

/** Record every pointer write, in order, in `w.dns.log` (the fake DNS logs its own puts there). */
function logSecretWrites(w: World): string[] {
  const set = w.secrets.set.bind(w.secrets);
  w.secrets.set = async (vault, name, value, tags) => {
    await set(vault, name, value, tags);
    w.dns.log.push(`set ${name} ${value}`);
  };
  return w.dns.log;
}

/** Callers that resolve the name reach a Running group at every observation. */
function assertRecordServing(w: World): void {
  const ip = w.dns.record(ZONE, 'web')?.ips[0];
  if (ip === undefined) return;
  const g = w.groups.peekByIp(ip);
  expect(g?.state, `web.apps.internal=${ip} points to ${g?.name ?? 'no group'}`).toBe('Running');
}

describe('switch with a DNS name', () => {
  it('writes the record, then the secret, at every switch; DNS callers always reach a Running group', async () => {
    const w = dnsWorld();
    const log = logSecretWrites(w);
    w.clock.onSleep = () => assertRecordServing(w);
    await deployInitial(w);
    const blue = w.groups.peek('rg-apps', 'web-blue')!.ip!;
    expect(log).toEqual([`put web.apps.internal ${blue}`, `set web-ip ${blue}`]);

    log.length = 0;
    expect((await push(w, '1.1.0', 2)).outcome).toBe('started');
    await settle(w, { each: () => assertRecordServing(w) });
    const green = w.groups.peek('rg-apps', 'web-green')!.ip!;
    expect(log).toEqual([`put web.apps.internal ${green}`, `set web-ip ${green}`]);
    expect(w.dns.record(ZONE, 'web')).toMatchObject({
      ips: [green],
      ttlSeconds: 10,
      metadata: { app: 'web', colour: 'green', group: 'web-green' },
    });
    const s = w.store.state('web')!;
    expect(s.rollout!.timeline.find((c) => c.step === 'switching')!.message).toBe(
      `record web.apps.internal = ${green}, secret web-ip = ${green} (web-green); web-blue drains for 40 s`,
    );
  });

  it('drains for at least TTL + the callers cache, counted from the writes', async () => {
    const w = dnsWorld({ ttlSeconds: 20, callerCacheSeconds: 30 }, { drainSeconds: 5 });
    expect(drainSecondsOf(w.deps.config.apps[0]!)).toBe(50);
    await deployInitial(w);
    await push(w, '1.1.0', 2);
    let drain: { switchedAt: number; drainUntil: number } | undefined;
    await settle(w, {
      each: (p) => {
        const r = p.state?.rollout;
        if (r?.drainUntil && r.switchedAt && !drain)
          drain = { switchedAt: ms(r.switchedAt)!, drainUntil: ms(r.drainUntil)! };
        if (r && drain && w.clock.now() < drain.drainUntil) expect(w.groups.names()).toContain('web-blue');
      },
    });
    expect(drain!.drainUntil - drain!.switchedAt).toBeGreaterThanOrEqual(50_000);
    expect(w.groups.names()).toEqual(['web-green']);
    // Without DNS the app's own drainSeconds holds, as before.
    expect(drainSecondsOf(makeConfig([webApp({ drainSeconds: 5 })]).apps[0]!)).toBe(5);
    expect(
      drainSecondsOf(makeConfig([webApp({ drainSeconds: 90, dns: { zoneId: ZONE_ID } })]).apps[0]!),
    ).toBe(90);
  });

  it('a record write that fails leaves the secret alone; the step retries and both follow the new group', async () => {
    const w = dnsWorld();
    const log = logSecretWrites(w);
    await deployInitial(w);
    const blue = w.groups.peek('rg-apps', 'web-blue')!.ip!;
    let refusals = 0;
    w.dns.fault = (op) =>
      op === 'put' && refusals++ < 2
        ? new TransientError('put: 403 AuthorizationFailed', { statusCode: 403, code: 'AuthorizationFailed' })
        : undefined;
    log.length = 0;
    await push(w, '1.1.0', 2);
    await settle(w, {
      each: () => {
        // Until the record is written, the secret still says web-blue.
        if (w.dns.record(ZONE, 'web')!.ips[0] === blue) expect(w.secrets.value(VAULT, 'web-ip')).toBe(blue);
      },
    });
    const green = w.groups.peek('rg-apps', 'web-green')!.ip!;
    expect(refusals).toBeGreaterThanOrEqual(2);
    expect(log).toEqual([`put web.apps.internal ${green}`, `set web-ip ${green}`]);
    expect(w.store.state('web')!.rollout!.state).toBe('succeeded');
  });

  it('a concurrent write between read and write (412) is read again, not overwritten blindly', async () => {
    const w = dnsWorld();
    await deployInitial(w);
    let raced = false;
    w.dns.beforePut = (zone, name) => {
      if (raced) return;
      raced = true;
      w.dns.seed(zone, name, ['10.9.9.9']);
    };
    await push(w, '1.1.0', 2);
    await settle(w);
    expect(raced).toBe(true);
    expect(w.dns.record(ZONE, 'web')!.ips).toEqual([w.groups.peek('rg-apps', 'web-green')!.ip]);
    const switching = w.store.state('web')!.rollout!.timeline.filter((c) => c.step === 'switching');
    expect(switching.map((c) => c.message).join('\n')).toMatch(/transient error, retrying: .*412/);
  });

  it('pointCallers writes nothing to a record that already holds the IP, and only the secret for an app without DNS', async () => {
    const w = dnsWorld();
    await deployInitial(w);
    const app = w.deps.config.apps[0]!;
    const active = w.store.state('web')!.active!;
    const ip = w.groups.peek('rg-apps', 'web-blue')!.ip!;
    w.dns.calls = { list: 0, get: 0, put: 0 };
    expect(await pointCallers(w.deps, app, active, ip)).toEqual([
      `record web.apps.internal = ${ip}`,
      `secret web-ip = ${ip}`,
    ]);
    expect(w.dns.calls).toEqual({ list: 0, get: 1, put: 0 });
    const plain = makeConfig([webApp()]).apps[0]!;
    expect(await pointCallers(w.deps, plain, active, ip)).toEqual([`secret web-ip = ${ip}`]);
    expect(w.dns.calls.get).toBe(1);
    expect(rolloutOwnsCallers(w.store.state('web'))).toBe(false);
  });
});
