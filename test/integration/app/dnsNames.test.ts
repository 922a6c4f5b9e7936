/**
 * Issue 17 acceptance on the local stack: the app `web` has the name web.apps.internal (the sample's zone, seeded
 * by the emulator). A caller that resolves that name through the emulator's DNS server, keeps each answer for its
 * TTL and calls every 200 ms sees no failed call across a blue/green; after a maintenance the first tick that starts
 * repairs the record, and the caller's first lookup after that tick gets the new address (it looks up again at most
 * a TTL after any moment, so it is back within the tick plus the TTL), with every call after it answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../support/waiting.js';
import { startDnsCaller, type DnsCaller } from '../support/dnsCaller.js';
import { rolloutFinished, startHarness, type Harness } from './reconcileHarness.js';

const NAME = 'web.apps.internal';
const TTL = 2;

describe('DNS names: web.apps.internal through the emulator DNS server', () => {
  let h: Harness;
  let dnsServer: string;
  const callers: DnsCaller[] = [];

  const record = async () => (await h.status()).apps.find((a) => a.name === 'web')!.dns;

  beforeAll(async () => {
    h = await startHarness({
      configure: (config) => {
        const web = config.apps[0]!;
        web['dns'] = { ...(web['dns'] as object), ttlSeconds: TTL, callerCacheSeconds: 0 };
      },
    });
    dnsServer = String(h.stack.stackJson['dnsServer']);
    await h.push('1.0.0');
    const first = await rolloutFinished(h, 'web', '1.0.0', 90_000);
    expect(first.rollout?.state).toBe('succeeded');
  });

  afterAll(async () => {
    for (const c of callers) await c.stop();
    await h?.stop();
  });

  it('the stack file says where the DNS server is, and web.apps.internal holds the active group', async () => {
    expect(dnsServer).toMatch(/^127\.0\.0\.1:\d+$/);
    const dns = await waitFor('web.apps.internal in sync', async () => {
      const d = await record();
      return d?.inSync ? d : undefined;
    });
    const web = (await h.status()).apps.find((a) => a.name === 'web')!;
    expect(dns).toMatchObject({ name: NAME, recordIp: web.ip, ttlSeconds: TTL, problem: null });
  });

  it('zero failed calls across a blue/green, for a caller that resolves the name every TTL', async () => {
    const caller = await startDnsCaller({ name: NAME, server: dnsServer, port: 8080 });
    callers.push(caller);
    const before = (await h.status()).apps.find((a) => a.name === 'web')!;
    expect(caller.lookups[0]).toMatchObject({ ip: before.ip, ttl: TTL });

    const { digest } = await h.push('1.1.0');
    const after = await rolloutFinished(h, 'web', '1.1.0', 90_000);
    expect(after.rollout?.state).toBe('succeeded');
    expect(after.activeGroup).toBe('web-green');
    // The drain covers the TTL: the old group answered until every cached answer had expired.
    expect(after.rollout!.timeline.find((c) => c.step === 'switching')!.message).toMatch(
      new RegExp(
        `^record ${NAME.replace(/\./g, '\\.')} = ${after.ip}, secret web-ip = ${after.ip} \\(web-green\\); web-blue drains for 5 s$`,
      ),
    );
    await waitFor('the caller to be answered by 1.1.0', () =>
      caller.calls.filter((c) => c.digest === digest).length >= 3 ? true : undefined,
    );
    await caller.stop();
    const failed = caller.calls.filter((c) => !c.ok);
    expect(failed).toEqual([]);
    const digests = [...new Set(caller.calls.map((c) => c.digest))];
    expect(digests).toEqual([before.digest, digest]);
    expect(caller.lookups.every((l) => l.error === undefined)).toBe(true);
    expect(caller.lookups.map((l) => l.ip)).toContain(after.ip);
  });

  it('after a maintenance the first tick repairs the record; the first lookup after it gets the new address', async () => {
    const caller = await startDnsCaller({ name: NAME, server: dnsServer, port: 8080 });
    callers.push(caller);
    const group = (await h.status()).apps.find((a) => a.name === 'web')!.activeGroup!;
    const movedAt = Date.now();
    const { newIp } = await h.maintenance('rg-apps', group);
    const tick = await h.tickAfter(movedAt, 30_000);
    expect(tick.errors).toEqual([]);
    expect(tick.changed).toContainEqual(
      expect.objectContaining({
        kind: 'dnsRecord',
        target: NAME,
        message: expect.stringContaining(`→ ${newIp}`),
      }),
    );
    const repairedBy = Date.parse(tick.at) + tick.durationMs;
    const recovered = await waitFor('a lookup after the repairing tick', () =>
      caller.lookups.find((l) => l.at >= repairedBy),
    );
    expect(recovered.ip).toBe(newIp);
    await waitFor('calls after the recovery', () =>
      caller.calls.filter((c) => c.at > recovered.at).length >= 5 ? true : undefined,
    );
    await caller.stop();
    const afterRecovery = caller.calls.filter((c) => c.at > recovered.at);
    expect(afterRecovery.every((c) => c.ok && c.ip === newIp)).toBe(true);
  });
});
