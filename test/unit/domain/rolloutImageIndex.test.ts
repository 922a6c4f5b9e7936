/**
 * Issue 10 part 3 in the rollout: a pushed image index is deployed as its manifest for the app's platform,
 * resolved once through the registry's data plane; the pushed digest stays the rollout's identity.
 */
import { describe, expect, it } from 'vitest';
import { TerminalError, TransientError } from '../../../src/domain/errors.js';
import { handleImagePushed } from '../../../src/domain/onImagePushed.js';
import { collectStatus } from '../../../src/domain/status.js';
import {
  OCI_INDEX,
  budget,
  digestOf,
  makeConfig,
  makeWorld,
  pushEvent,
  webApp,
  type World,
} from '../support/fakes.js';
import { settle } from '../support/scenario.js';

function pushIndex(w: World, digest: string, tag = '1.0.0', id?: string) {
  return handleImagePushed(
    pushEvent({ tag, digest, mediaType: OCI_INDEX, at: w.clock.now(), ...(id ? { id } : {}) }),
    w.deps,
    budget(w, 20),
  );
}

describe('rollout of an image index', () => {
  it('creates the group with the platform manifest; the pushed digest stays the identity', async () => {
    const w = makeWorld();
    const index = w.manifests.addIndex(['linux/amd64', 'linux/arm64'], 'web-1');
    const r = await pushIndex(w, index.digest);
    expect(r).toMatchObject({ outcome: 'started' });
    await settle(w);
    const amd64 = index.byPlatform['linux/amd64']!;
    expect(w.groups.createdSpecs).toHaveLength(1);
    expect(w.groups.createdSpecs[0]!.containers[0]!.image).toBe(`contoso.azurecr.io/web@${amd64}`);
    expect(w.groups.createdSpecs[0]!.tags['digest']).toBe(index.digest);
    expect(w.manifests.calls).toEqual([
      { loginServer: 'contoso.azurecr.io', repository: 'web', digest: index.digest },
    ]);
    const s = w.store.state('web')!;
    expect(s.rollout).toMatchObject({
      state: 'succeeded',
      digest: index.digest,
      platformDigest: amd64,
      platform: 'linux/amd64',
    });
    expect(s.active).toMatchObject({ digest: index.digest, image: `contoso.azurecr.io/web@${amd64}` });

    // Status shows both digests: the pushed one and the one that runs.
    const doc = await collectStatus(w.deps);
    expect(doc.apps[0]).toMatchObject({ digest: index.digest, platformDigest: amd64 });
    expect(doc.apps[0]!.rollout).toMatchObject({ digest: index.digest, platformDigest: amd64 });

    // The same index delivered again (Event Grid at least once) is no second rollout.
    const again = await pushIndex(w, index.digest, '1.0.0', 'redelivered');
    expect(again).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('duplicate') });
    expect(w.groups.calls.create).toBe(1);
  });

  it('deploys template.platform (linux/arm64 finds the arm64 entry)', async () => {
    const w = makeWorld(
      makeConfig([webApp({ template: { ...(webApp()['template'] as object), platform: 'linux/arm64/v8' } })]),
    );
    const index = w.manifests.addIndex(['linux/amd64', 'linux/arm64'], 'web-arm');
    await pushIndex(w, index.digest);
    await settle(w);
    expect(w.groups.createdSpecs[0]!.containers[0]!.image).toBe(
      `contoso.azurecr.io/web@${index.byPlatform['linux/arm64']}`,
    );
  });

  it('an index without the platform fails at once, naming the platforms it has; nothing is created', async () => {
    const w = makeWorld();
    const index = w.manifests.addIndex(['linux/arm64', 'linux/s390x'], 'web-arm-only');
    await pushIndex(w, index.digest);
    await settle(w);
    const s = w.store.state('web')!;
    expect(s.rollout!.error).toMatchObject({ step: 'creating', reason: 'PlatformNotFound' });
    expect(s.rollout!.error!.message).toContain(
      'the image index has no manifest for linux/amd64; it has linux/arm64, linux/s390x',
    );
    expect(w.groups.calls.create).toBe(0);
  });

  it('access denied on the data plane fails naming the role once it has lasted pullFailureGraceSeconds', async () => {
    const w = makeWorld();
    const index = w.manifests.addIndex(['linux/amd64'], 'web-denied');
    w.manifests.error = new TerminalError(
      'contoso.azurecr.io token for web: 401 UNAUTHORIZED: authentication required. The function app identity needs the AcrPull role',
      { statusCode: 401, code: 'RegistryAccessDenied' },
    );
    const pushedAt = w.clock.now();
    await pushIndex(w, index.digest);
    // Within the grace (default 300 s) the rollout waits: the role may still be propagating.
    expect(w.store.state('web')!.rollout).toMatchObject({ state: 'inProgress', step: 'creating' });
    expect(w.store.state('web')!.rollout!.waiting?.message).toContain('refused; retrying');
    await settle(w, { gapMs: 30_000 });
    const r = w.store.state('web')!.rollout!;
    expect(r.error).toMatchObject({
      reason: 'RegistryAccessDenied',
      message: expect.stringContaining('AcrPull'),
    });
    expect(Date.parse(r.finishedAt!) - pushedAt).toBeGreaterThanOrEqual(300_000);
    expect(w.groups.calls.create).toBe(0);
  });

  it('access denied that clears within the grace (a role still propagating) deploys the platform manifest', async () => {
    const w = makeWorld();
    const index = w.manifests.addIndex(['linux/amd64'], 'web-propagating');
    w.manifests.error = new TerminalError(
      '401 UNAUTHORIZED: the function app identity needs the AcrPull role',
      {
        statusCode: 401,
        code: 'RegistryAccessDenied',
      },
    );
    await pushIndex(w, index.digest);
    expect(w.store.state('web')!.rollout).toMatchObject({ state: 'inProgress', step: 'creating' });
    w.clock.advance(60_000);
    delete w.manifests.error;
    await settle(w);
    const r = w.store.state('web')!.rollout!;
    expect(r).toMatchObject({ state: 'succeeded', platformDigest: index.byPlatform['linux/amd64'] });
    expect(r.accessDeniedSince).toBeUndefined();
    expect(w.groups.createdSpecs).toHaveLength(1);
  });

  it('throttling on the data plane is retried, then the rollout goes on', async () => {
    const w = makeWorld();
    const index = w.manifests.addIndex(['linux/amd64'], 'web-throttled');
    w.manifests.error = new TransientError('429 TOOMANYREQUESTS', { statusCode: 429, retryAfterMs: 2_000 });
    await pushIndex(w, index.digest);
    expect(w.store.state('web')!.rollout).toMatchObject({ state: 'inProgress', step: 'creating' });
    expect(w.store.state('web')!.rollout!.transient?.lastError).toContain('429');
    w.manifests.error = undefined;
    await settle(w);
    expect(w.store.state('web')!.rollout).toMatchObject({
      state: 'succeeded',
      platformDigest: index.byPlatform['linux/amd64'],
    });
  });

  it('a plain manifest needs no lookup', async () => {
    const w = makeWorld();
    await handleImagePushed(pushEvent({ tag: '1.0.0', digest: digestOf(1) }), w.deps, budget(w, 20));
    await settle(w);
    expect(w.manifests.calls).toEqual([]);
    expect(w.groups.createdSpecs[0]!.containers[0]!.image).toBe(`contoso.azurecr.io/web@${digestOf(1)}`);
  });
});
