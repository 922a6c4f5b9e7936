import { describe, expect, it } from 'vitest';
import { TransientError } from '../../../src/domain/errors.js';
import { handleImagePushed, nonPushOutcome } from '../../../src/domain/onImagePushed.js';
import { advance } from '../../../src/domain/rollout/runner.js';
import { parseRegistryEvent } from '../../../src/events/imagePushed.js';
import {
  REGISTRY_ID,
  SUB,
  VAULT,
  budget,
  digestOf,
  makeConfig,
  makeWorld,
  pushEvent,
  webApp,
} from '../support/fakes.js';
import { assertServing, deployInitial, push, settle, watchServing } from '../support/scenario.js';

describe('onImagePushed: what is accepted', () => {
  it.each([
    [
      'an unknown registry',
      { topic: REGISTRY_ID.replace('contoso', 'fabrikam') },
      `no app is configured for registry ${REGISTRY_ID.replace('contoso', 'fabrikam')}`,
    ],
    [
      'an unknown repository',
      { repository: 'api' },
      `repository api is not configured for registry ${REGISTRY_ID}`,
    ],
    ['a tag outside the range', { tag: '0.9.0' }, 'tag "0.9.0" is outside the semver range >=1.0.0'],
    [
      'a non-semver tag',
      { tag: 'latest' },
      'tag "latest" is not a semantic version (policy: semver >=1.0.0)',
    ],
    [
      'a foreign login server',
      { host: 'evil.azurecr.io' },
      'login server evil.azurecr.io does not match registry contoso (contoso.azurecr.io)',
    ],
  ])('rejects %s with a reason and no rollout', async (_n, override, reason) => {
    const w = makeWorld();
    const r = await handleImagePushed(
      pushEvent({ tag: '1.0.0', digest: digestOf(1), ...override }),
      w.deps,
      budget(w, 20),
    );
    expect(r).toMatchObject({ outcome: 'rejected', reason });
    expect(w.store.rows.size).toBe(0);
    expect(w.groups.calls.create).toBe(0);
  });

  it('matches the topic case-insensitively', async () => {
    const w = makeWorld();
    const r = await handleImagePushed(
      pushEvent({ tag: '1.0.0', digest: digestOf(1), topic: REGISTRY_ID.toLowerCase() }),
      w.deps,
      budget(w, 20),
    );
    expect(r.outcome).toBe('started');
  });

  it('regex and any policies', async () => {
    const w = makeWorld(makeConfig([webApp({ tagPolicy: { type: 'regex', pattern: 'release-\\d+' } })]));
    expect((await push(w, 'release-12x', 1)).outcome).toBe('rejected');
    expect((await push(w, 'release-12', 1)).outcome).toBe('started');
    const w2 = makeWorld(makeConfig([webApp({ tagPolicy: { type: 'any' } })]));
    expect((await push(w2, 'main-abc', 1)).outcome).toBe('started');
  });

  it('an app refused by config is answered with its config error', async () => {
    const w = makeWorld(makeConfig([webApp({ health: { port: 'x' } })]));
    const r = await push(w, '1.0.0', 1);
    expect(r).toMatchObject({
      outcome: 'rejected',
      reason: 'app web has config errors: apps[0] (web): health.port: expected a number',
    });
  });

  it('malformed and ignored events come back as outcomes, not throws', () => {
    const malformed = parseRegistryEvent({ hello: 1 });
    expect(malformed.kind).toBe('malformed');
    if (malformed.kind === 'imagePushed') throw new Error('parsed as a push');
    expect(nonPushOutcome(malformed)).toMatchObject({
      outcome: 'rejected',
      reason: expect.stringContaining('malformed event'),
    });
    const deleted = parseRegistryEvent({
      id: 'x',
      topic: 't',
      eventType: 'Microsoft.ContainerRegistry.ImageDeleted',
      eventTime: '2026-01-01T00:00:00Z',
      data: {},
    });
    if (deleted.kind === 'imagePushed') throw new Error('parsed as a push');
    expect(nonPushOutcome(deleted)).toMatchObject({ outcome: 'ignored', eventId: 'x' });
  });

  it('a transient registry error propagates so Event Grid redelivers', async () => {
    const w = makeWorld();
    w.registries.get = async () => {
      throw new TransientError('GET registry: 429', { statusCode: 429 });
    };
    await expect(push(w, '1.0.0', 1)).rejects.toBeInstanceOf(TransientError);
    expect(w.store.rows.size).toBe(0);
  });
});

describe('onImagePushed: decisions are stamped after the state they are made against', () => {
  it('a push decided while another instance supersedes the rollout never starts before that rollout ended (rollout.test concurrency flake)', async () => {
    const w = makeWorld();
    w.groups.startupMs = 60_000; // rollouts stay in flight
    await push(w, '1.0.0', 1, 0.5);
    // The delivery of 1.2.0 reads the app's row; just before its read returns, another instance (5 s later on
    // the clock) supersedes 1.0.0 with 1.1.0. The old code took its timestamp before the read.
    const read = w.store.get.bind(w.store);
    let interleaved = false;
    w.store.get = async (app: string) => {
      if (!interleaved) {
        interleaved = true;
        w.clock.advance(5_000);
        await push(w, '1.1.0', 2, 0.5);
        w.clock.advance(-5_000); // this instance's clock is behind the other's
      }
      return read(app);
    };
    await push(w, '1.2.0', 3, 0.5);
    const s = w.store.state('web')!;
    const byTag = new Map(s.recent.map((r) => [r.tag, r]));
    expect(s.rollout?.tag).toBe('1.2.0');
    expect([...byTag.keys()].sort()).toEqual(['1.0.0', '1.1.0']);
    for (const r of s.recent)
      expect(Date.parse(r.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(r.startedAt));
    expect(Date.parse(s.rollout!.startedAt)).toBeGreaterThanOrEqual(
      Date.parse(byTag.get('1.1.0')!.finishedAt!),
    );
    expect(Date.parse(byTag.get('1.1.0')!.startedAt)).toBeGreaterThanOrEqual(
      Date.parse(byTag.get('1.0.0')!.finishedAt!),
    );
  });
});

describe('onImagePushed: duplicates and stale events', () => {
  it('the same event delivered twice: one rollout', async () => {
    const w = makeWorld();
    const ev = pushEvent({ tag: '1.0.0', digest: digestOf(1), at: w.clock.now() });
    const a = await handleImagePushed(ev, w.deps, budget(w, 2));
    const b = await handleImagePushed(ev, w.deps, budget(w, 2));
    expect(a.outcome).toBe('started');
    expect(b).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringMatching(/^duplicate: digest [0-9a-f]{12} is already being rolled out/),
    });
    await settle(w);
    const c = await handleImagePushed(ev, w.deps, budget(w, 2));
    expect(c).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringContaining('is already active in web-blue'),
    });
    expect(w.groups.calls.create).toBe(1);
  });

  it('the same digest pushed under two tags: one rollout', async () => {
    const w = makeWorld(makeConfig([webApp({ tagPolicy: { type: 'any' } })]));
    expect((await push(w, '1.0.0', 7, 2)).outcome).toBe('started');
    expect((await push(w, 'stable', 7, 2)).outcome).toBe('ignored');
    await settle(w);
    expect((await push(w, 'prod', 7, 2)).outcome).toBe('ignored');
    expect(w.groups.calls.create).toBe(1);
  });

  it('a digest from history is ignored, even when its rollout failed, unless forced', async () => {
    const w = makeWorld();
    w.groups.behaviourByDigest.set(digestOf(1), 'crash');
    await push(w, '1.0.0', 1);
    await settle(w, { gapMs: 20_000 });
    expect(w.store.state('web')!.rollout!.state).toBe('failed');
    expect(await push(w, '1.0.1', 1)).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringContaining('(failed); set "force" to redeploy it'),
    });

    const forced = makeWorld(makeConfig([webApp({ force: true })]));
    forced.groups.behaviourByDigest.set(digestOf(1), 'crash');
    await push(forced, '1.0.0', 1);
    await settle(forced, { gapMs: 20_000 });
    forced.groups.behaviourByDigest.delete(digestOf(1));
    expect((await push(forced, '1.0.1', 1)).outcome).toBe('started');
  });

  it('1.2.0 then 1.1.0 delivered in the wrong order ends on 1.2.0; 1.1.0 ignored with a reason', async () => {
    const w = makeWorld();
    await deployInitial(w);
    const t = w.clock.now();
    const e110 = pushEvent({ tag: '1.1.0', digest: digestOf(2), at: t + 1 });
    const e120 = pushEvent({ tag: '1.2.0', digest: digestOf(3), at: t + 2 });
    expect((await handleImagePushed(e120, w.deps, budget(w, 20))).outcome).toBe('started');
    const late = await handleImagePushed(e110, w.deps, budget(w, 20));
    expect(late).toMatchObject({
      outcome: 'ignored',
      reason: 'stale: 1.1.0 is lower than the active version 1.2.0',
    });
    await settle(w, { gapMs: 30_000 });
    expect(w.store.state('web')!.active!.tag).toBe('1.2.0');
    // A newer event for a lower version is refused by downgrade protection.
    const lower = await handleImagePushed(
      pushEvent({ tag: '1.1.5', digest: digestOf(4), at: w.clock.now() + 5 }),
      w.deps,
      budget(w, 20),
    );
    expect(lower).toMatchObject({
      outcome: 'ignored',
      reason: 'stale: 1.1.5 is lower than the active version 1.2.0',
    });
  });

  it('with a semver policy the highest version wins, whatever the event order', async () => {
    const w = makeWorld();
    await deployInitial(w);
    const t = w.clock.now();
    const e130 = pushEvent({ tag: '1.3.0', digest: digestOf(5), at: t + 1 });
    const e121 = pushEvent({ tag: '1.2.1', digest: digestOf(6), at: t + 2 }); // a later hotfix of an older line
    expect((await handleImagePushed(e121, w.deps, budget(w, 2))).outcome).toBe('started');
    expect((await handleImagePushed(e130, w.deps, budget(w, 2))).outcome).toBe('superseded');
    expect((await handleImagePushed(e121, w.deps, budget(w, 2))).outcome).toBe('ignored');
    await settle(w, { gapMs: 30_000 });
    expect(w.store.state('web')!.active!.tag).toBe('1.3.0');
  });

  it('with a regex policy the newest event wins', async () => {
    const w = makeWorld(makeConfig([webApp({ tagPolicy: { type: 'regex', pattern: 'main-\\d+' } })]));
    const t = w.clock.now();
    expect(
      (
        await handleImagePushed(
          pushEvent({ tag: 'main-2', digest: digestOf(2), at: t + 2 }),
          w.deps,
          budget(w, 2),
        )
      ).outcome,
    ).toBe('started');
    expect(
      await handleImagePushed(
        pushEvent({ tag: 'main-9', digest: digestOf(9), at: t + 1 }),
        w.deps,
        budget(w, 2),
      ),
    ).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringMatching(/^stale: event time/),
    });
  });

  it('force and allowDowngrade allow a lower version', async () => {
    for (const app of [
      webApp({ force: true }),
      webApp({ tagPolicy: { type: 'semver', range: '*', allowDowngrade: true } }),
    ]) {
      const w = makeWorld(makeConfig([app]));
      await push(w, '2.0.0', 1);
      await settle(w);
      expect((await push(w, '1.0.0', 2)).outcome).toBe('started');
    }
  });
});

describe('onImagePushed: a newer push during a rollout', () => {
  it('supersedes it before the switch: ends on the newest, no group left behind', async () => {
    const w = makeWorld();
    watchServing(w);
    await deployInitial(w);
    const a = await push(w, '1.1.0', 2, 2); // stops while web-green is coming up
    expect(a.advance!.step).toBe('waitingRunning');
    const b = await push(w, '1.2.0', 3, 20);
    expect(b).toMatchObject({
      outcome: 'superseded',
      reason: `1.2.0 supersedes the rollout of 1.1.0 (${a.rolloutId})`,
    });
    await settle(w, { gapMs: 10_000, each: () => assertServing(w) });
    const s = w.store.state('web')!;
    expect(s.active).toMatchObject({ group: 'web-green', tag: '1.2.0', digest: digestOf(3) });
    expect(w.groups.names()).toEqual(['web-green']);
    expect(w.groups.peek('rg-apps', 'web-green')!.tags['rollout-id']).toBe(b.rolloutId);
    const history = await w.store.listHistory('web', 10);
    expect(history.find((h) => h.rolloutId === a.rolloutId)).toMatchObject({
      outcome: 'superseded',
      message: `superseded by 1.2.0 (${b.rolloutId})`,
    });
    expect(w.notifier.events.map((e) => `${'tag' in e ? e.tag : ''}:${e.type}`)).toContain(
      '1.1.0:rollout.superseded',
    );
  });

  it('cleanup of the superseded group never deletes its successor, which reuses the name', async () => {
    const w = makeWorld();
    watchServing(w);
    await deployInitial(w);
    await push(w, '1.1.0', 2, 2);
    const b = await push(w, '1.2.0', 3, 2); // the successor stops while its web-green comes up
    expect(b.outcome).toBe('superseded');
    expect(w.store.state('web')!.rollout!.step).toBe('waitingRunning');
    await settle(w, { gapMs: 3_000, each: () => assertServing(w) });
    expect(w.store.state('web')!.active).toMatchObject({ group: 'web-green', tag: '1.2.0' });
    expect(w.groups.calls.create).toBe(3); // blue, 1.1.0's green, 1.2.0's green: never re-created
    expect(w.store.state('web')!.rollout!.recreations).toBe(0);
  });

  it('a superseded rollout whose successor fails at once still leaves no group behind', async () => {
    const w = makeWorld();
    await deployInitial(w);
    await push(w, '1.1.0', 2, 6);
    expect(w.groups.names()).toEqual(['web-blue', 'web-green']);
    // Closed to ACI's pulls (issue 10: public access off and trusted services denied).
    w.registries.registries.get(REGISTRY_ID.toLowerCase())!.publicNetworkAccess = 'Disabled';
    w.registries.registries.get(REGISTRY_ID.toLowerCase())!.networkRuleBypassOptions = 'None';
    const b = await push(w, '1.2.0', 3, 20);
    expect(b.outcome).toBe('superseded');
    await settle(w);
    expect(w.store.state('web')!.rollout!.error!.reason).toBe('RegistryNetworkRestricted');
    expect(w.groups.names()).toEqual(['web-blue']);
  });

  it('after the switch it is queued, never cutting the drain short; then it runs', async () => {
    const w = makeWorld();
    watchServing(w);
    await deployInitial(w);
    const a = await push(w, '1.1.0', 2, 20);
    expect(a.advance!.step).toBe('draining');
    const b = await push(w, '1.2.0', 3, 20);
    expect(b).toMatchObject({
      outcome: 'queued',
      reason: expect.stringContaining('has already switched (draining)'),
    });
    expect(w.groups.names()).toEqual(['web-blue', 'web-green']);
    await settle(w, { gapMs: 10_000, each: () => assertServing(w) });
    const s = w.store.state('web')!;
    expect(s.active).toMatchObject({ group: 'web-blue', tag: '1.2.0' });
    expect(w.groups.names()).toEqual(['web-blue']);
    expect((await w.store.listHistory('web', 10)).map((h) => `${h.tag}:${h.outcome}`)).toEqual([
      '1.2.0:succeeded',
      '1.1.0:succeeded',
      '1.0.0:succeeded',
    ]);
  });
});

describe('onImagePushed: concurrency (CAS)', () => {
  it('two concurrent deliveries of one event: one rollout', async () => {
    const w = makeWorld();
    await deployInitial(w);
    const ev = pushEvent({ tag: '1.1.0', digest: digestOf(2), at: w.clock.now() + 1 });
    const results = await Promise.all([
      handleImagePushed(ev, w.deps, budget(w, 20)),
      handleImagePushed(ev, w.deps, budget(w, 20)),
    ]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['ignored', 'started']);
    await settle(w, { gapMs: 10_000 });
    expect(w.groups.calls.create).toBe(2); // blue (initial) + green once
    expect(w.store.state('web')!.active!.tag).toBe('1.1.0');
    expect(w.groups.names()).toEqual(['web-green']);
  });

  it('two concurrent pushes of different versions never run two rollouts; the newest wins', async () => {
    const w = makeWorld();
    await deployInitial(w);
    const t = w.clock.now();
    const results = await Promise.all([
      handleImagePushed(pushEvent({ tag: '1.1.0', digest: digestOf(2), at: t + 1 }), w.deps, budget(w, 20)),
      handleImagePushed(pushEvent({ tag: '1.2.0', digest: digestOf(3), at: t + 2 }), w.deps, budget(w, 20)),
    ]);
    expect(results.filter((r) => r.outcome === 'started')).toHaveLength(1);
    await settle(w, { gapMs: 10_000 });
    expect(w.store.state('web')!.active!.tag).toBe('1.2.0');
    expect(w.groups.names()).toHaveLength(1);
  });

  it('two instances advancing the same rollout create its group once', async () => {
    const w = makeWorld();
    await deployInitial(w);
    await push(w, '1.1.0', 2, 0.001); // recorded, not advanced
    expect(w.store.state('web')!.rollout!.step).toBe('accepted');
    const [x, y] = await Promise.all([
      advance('web', { ...w.deps }, budget(w, 20)),
      advance('web', { ...w.deps }, budget(w, 20)),
    ]);
    expect([x.status, y.status]).toContain('conflict');
    await settle(w, { gapMs: 10_000 });
    expect(w.groups.calls.create).toBe(2);
    expect(w.store.state('web')!.active!.tag).toBe('1.1.0');
  });
});

describe('onImagePushed: the secret and config', () => {
  it('writes the secret to the configured vault with tags', async () => {
    const w = makeWorld(
      makeConfig([
        webApp({ secret: { vaultUrl: 'https://kv-other.vault.azure.net/', name: 'web-endpoint' } }),
      ]),
    );
    await push(w, '1.0.0', 1);
    expect(w.secrets.secret('https://kv-other.vault.azure.net', 'web-endpoint')!.tags).toMatchObject({
      app: 'web',
      group: 'web-blue',
    });
    expect(w.secrets.value(VAULT, 'web-ip')).toBeUndefined();
    expect(SUB).toBeTruthy();
  });
});

describe('onImagePushed: logging the decision', () => {
  function recordingLogger(w: ReturnType<typeof makeWorld>) {
    const logged: Array<{ text: string; at: number; props?: Record<string, unknown> }> = [];
    const log = (text: string, props?: Record<string, unknown>) =>
      logged.push({ text, at: w.clock.now(), ...(props ? { props } : {}) });
    w.deps.logger = { debug: () => {}, info: log, warn: log, error: log };
    return logged;
  }

  it('logs started (reason, app, tag, digest) when it decides, not when the advance ends 20 s later', async () => {
    const w = makeWorld();
    const logged = recordingLogger(w);
    const started = w.clock.now();
    const r = await push(w, '1.1.0', 2, 20);
    expect(r.outcome).toBe('started');
    expect(w.clock.now() - started).toBeGreaterThan(4_000); // the advance slept (group starting, health gate)
    const decisions = logged.filter((l) => l.text.startsWith('ImagePushed '));
    expect(decisions).toEqual([
      {
        text: `ImagePushed web:1.1.0 (${r.eventId}): started: ${r.reason} (app web, digest ${digestOf(2)})`,
        at: started,
        props: { app: 'web', tag: '1.1.0', digest: digestOf(2), rolloutId: r.rolloutId },
      },
    ]);
  });

  it('logs ignored and rejected pushes with their reason, tag and digest', async () => {
    const w = makeWorld();
    await deployInitial(w);
    const logged = recordingLogger(w);
    const dup = await push(w, '1.0.1', 1);
    const foreign = await handleImagePushed(
      pushEvent({ tag: '2.0.0', digest: digestOf(7), repository: 'api' }),
      w.deps,
      budget(w, 20),
    );
    expect(dup.outcome).toBe('ignored');
    expect(foreign.outcome).toBe('rejected');
    expect(logged.map((l) => l.text)).toEqual([
      `ImagePushed web:1.0.1 (${dup.eventId}): ignored: ${dup.reason} (app web, digest ${digestOf(1)})`,
      `ImagePushed api:2.0.0 (${foreign.eventId}): rejected: ${foreign.reason} (digest ${digestOf(7)})`,
    ]);
    expect(logged[0]!.props).toEqual({ app: 'web', tag: '1.0.1', digest: digestOf(1) });
  });

  it('says when this delivery’s rollout was superseded by another while it advanced', async () => {
    const w = makeWorld();
    await deployInitial(w);
    const a = push(w, '1.1.0', 2, 20);
    // Let the first delivery decide and start advancing, then a newer push arrives.
    while (w.store.state('web')?.rollout?.tag !== '1.1.0') await new Promise((r) => setImmediate(r));
    const b = await push(w, '1.2.0', 3, 20);
    const first = await a;
    expect(b.outcome).toBe('superseded');
    expect(first).toMatchObject({ outcome: 'started', supersededBy: b.rolloutId });
    expect(b.supersededBy).toBeUndefined();
  });
});

describe('onImagePushed: pushes that start no rollout are kept for status', () => {
  it('records duplicates and disallowed tags in the app state (CAS, newest first, at most 10); a redelivery is not recorded twice', async () => {
    const w = makeWorld();
    await deployInitial(w);
    const dup = await push(w, '1.0.1', 1, 20, { id: 'evt-dup' });
    expect(dup.outcome).toBe('ignored');
    expect(w.store.state('web')!.ignored).toEqual([
      {
        at: new Date(w.clock.now()).toISOString(),
        eventId: 'evt-dup',
        tag: '1.0.1',
        digest: digestOf(1),
        outcome: 'ignored',
        reason: dup.reason,
      },
    ]);
    const writes = w.store.writes;
    expect((await push(w, '1.0.1', 1, 20, { id: 'evt-dup' })).outcome).toBe('ignored');
    expect(w.store.writes).toBe(writes);
    expect(w.store.state('web')!.ignored).toHaveLength(1);

    const bad = await handleImagePushed(
      pushEvent({ tag: 'latest', digest: digestOf(5), id: 'evt-latest' }),
      w.deps,
      budget(w, 20),
    );
    expect(bad.outcome).toBe('rejected');
    expect(w.store.state('web')!.ignored![0]).toMatchObject({
      eventId: 'evt-latest',
      tag: 'latest',
      digest: digestOf(5),
      outcome: 'rejected',
      reason: bad.reason,
    });

    for (let i = 0; i < 12; i++) await push(w, `1.0.${i + 2}`, 1, 20, { id: `evt-${i}` });
    const ignored = w.store.state('web')!.ignored!;
    expect(ignored).toHaveLength(10);
    expect(ignored.map((x) => x.eventId)).toEqual(Array.from({ length: 10 }, (_, k) => `evt-${11 - k}`));
    // The rollout state is untouched by all this.
    expect(w.store.state('web')!.active).toMatchObject({ tag: '1.0.0', digest: digestOf(1) });
  });

  it('writes nothing for events that are not for a configured app', async () => {
    const w = makeWorld();
    await deployInitial(w);
    const writes = w.store.writes;
    const before = w.store.state('web');
    for (const event of [
      pushEvent({ tag: '1.0.0', digest: digestOf(8), repository: 'api' }),
      pushEvent({ tag: '1.0.0', digest: digestOf(9), topic: REGISTRY_ID.replace('contoso', 'fabrikam') }),
    ])
      expect((await handleImagePushed(event, w.deps, budget(w, 20))).outcome).toBe('rejected');
    expect(w.store.writes).toBe(writes);
    expect(w.store.state('web')).toEqual(before);
    expect(w.store.state('api')).toBeUndefined();
  });

  it('a store failure while recording does not fail the delivery', async () => {
    const w = makeWorld();
    await deployInitial(w);
    const replace = w.store.replace.bind(w.store);
    w.store.replace = async () => {
      throw new TransientError('table storage unavailable');
    };
    const r = await push(w, '1.0.1', 1);
    w.store.replace = replace;
    expect(r.outcome).toBe('ignored');
    expect(w.store.state('web')!.ignored).toBeUndefined();
  });
});

describe('onImagePushed: a concurrent write does not stop the delivery’s advance', () => {
  it('an ignored push recorded while the rollout flushes its outbox: the advance re-reads and carries on', async () => {
    const w = makeWorld();
    await deployInitial(w);
    let injected = false;
    w.store.beforeWrite = (app, state) => {
      if (injected || state.rollout?.tag !== '1.1.0' || state.outbox.length > 0) return;
      injected = true;
      // Another delivery (a duplicate) records itself in the row first.
      const row = w.store.rows.get(app)!;
      const other = JSON.parse(row.json) as typeof state;
      other.ignored = [
        {
          at: new Date(w.clock.now()).toISOString(),
          eventId: 'evt-concurrent',
          tag: '1.0.1',
          digest: digestOf(1),
          outcome: 'ignored',
          reason: 'duplicate',
        },
      ];
      w.store.rows.set(app, { json: JSON.stringify(other), etag: 'W/"concurrent"' });
    };
    const r = await push(w, '1.1.0', 2, 20);
    expect(injected).toBe(true);
    expect(r.advance?.status).not.toBe('conflict');
    const s = w.store.state('web')!;
    expect(s.rollout).toMatchObject({ tag: '1.1.0', state: 'inProgress' });
    expect(['accepted', 'cleaningIdle', 'creating']).not.toContain(s.rollout!.step);
    expect(s.ignored?.map((x) => x.eventId)).toEqual(['evt-concurrent']);
  });
});
