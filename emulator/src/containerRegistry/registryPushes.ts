/**
 * A push through the control API, as `docker push` or `docker buildx build --push` would leave the registry: a
 * content-addressed manifest (or one under a caller-chosen digest), or an OCI index with its per-platform images
 * and attestations; the tag moved; one ImagePushed event emitted.
 */
import type { EmulatorContext } from '../core/context.js';
import { controlErrors } from '../core/controlErrors.js';
import type { EmuResponse } from '../core/router.js';
import {
  buildxIndex,
  dockerImageManifest,
  formatPlatform,
  parsePlatform,
  type Platform,
} from './dataPlaneManifests.js';
import { DIGEST_PATTERN, parseBehavior, REPOSITORY_PATTERN, TAG_PATTERN } from './imageReference.js';
import type { RegistryEventFeed } from './registryEventFeed.js';
import { registryErrors } from './registryErrors.js';
import { imagePushedEvent } from './registryEvents.js';
import {
  loginServerOf,
  MANIFEST_MEDIA_TYPE,
  type ManifestRecord,
  type RegistryRecord,
  type RepositoryRecord,
  type RegistryStore,
} from './registryStore.js';

type Behavior = ManifestRecord['behavior'];

export class RegistryPushes {
  constructor(
    private readonly ctx: EmulatorContext,
    private readonly store: RegistryStore,
    private readonly events: RegistryEventFeed,
  ) {}

  push(r: RegistryRecord, body: Record<string, unknown>): EmuResponse {
    const repository = body['repository'];
    const tag = body['tag'];
    if (typeof repository !== 'string' || !REPOSITORY_PATTERN.test(repository))
      throw registryErrors.control.repositoryInvalid(repository);
    if (typeof tag !== 'string' || !TAG_PATTERN.test(tag))
      throw registryErrors.control.tagInvalid(TAG_PATTERN.source, tag);
    let behavior: Behavior;
    try {
      behavior = parseBehavior(body['behavior']);
    } catch (err) {
      throw controlErrors.badRequest((err as Error).message);
    }
    if (body['platforms'] !== undefined) {
      if (body['digest'] !== undefined)
        throw controlErrors.badRequest(
          "'platforms' pushes a new index; it cannot be combined with 'digest'.",
        );
      return this.pushIndex(r, repository, tag, platformsOf(body['platforms']), behavior, body);
    }
    const manifest = this.manifestFor(r, repository, behavior, body);
    const now = new Date().toISOString();
    const repo = r.repositories[repository] ?? { name: repository, tags: {}, manifests: {}, createdAt: now };
    repo.manifests[manifest.digest] = manifest;
    moveTag(repo, tag, manifest.digest, now);
    r.repositories[repository] = repo;
    this.store.changed();
    this.events.emit(
      imagePushedEvent(this.ctx.options.subscriptionId, r, repository, tag, manifest, userAgentOf(body)),
    );
    this.ctx.log(
      `push ${loginServerOf(r)}/${repository}:${tag} → ${manifest.digest} (${manifest.behavior.mode})`,
    );
    return {
      status: 200,
      body: {
        repository,
        tag,
        digest: manifest.digest,
        loginServer: loginServerOf(r),
        mediaType: manifest.mediaType,
        image: `${loginServerOf(r)}/${repository}@${manifest.digest}`,
        behavior: manifest.behavior,
      },
    };
  }

  /** The manifest a single-image push stores: under the given digest (immutable), or content-addressed. */
  private manifestFor(
    r: RegistryRecord,
    repository: string,
    behavior: Behavior,
    body: Record<string, unknown>,
  ): ManifestRecord {
    if (body['digest'] === undefined) {
      // Content-addressed, as a registry is: the digest is the sha256 of the manifest the data plane serves.
      return dockerImageManifest(behavior);
    }
    const digest = body['digest'];
    if (typeof digest !== 'string' || !DIGEST_PATTERN.test(digest))
      throw registryErrors.control.digestInvalid();
    const manifest = r.repositories[repository]?.manifests[digest];
    if (
      manifest &&
      body['behavior'] !== undefined &&
      JSON.stringify(manifest.behavior) !== JSON.stringify(behavior)
    ) {
      throw registryErrors.control.manifestImmutable(digest, repository, manifest.behavior);
    }
    return manifest ?? newManifest(digest, behavior);
  }

  /**
   * `docker buildx build --platform … --push`: the per-platform images and their attestations are pushed untagged,
   * then the OCI index the tag points at. One ImagePushed is emitted, for the tagged index (the emulator does not
   * emit events for the untagged manifests; the app ignores tagless pushes anyway).
   */
  private pushIndex(
    r: RegistryRecord,
    repository: string,
    tag: string,
    platforms: Platform[],
    behavior: Behavior,
    body: Record<string, unknown>,
  ): EmuResponse {
    const pushed = buildxIndex(platforms, behavior);
    const now = new Date().toISOString();
    const repo = r.repositories[repository] ?? { name: repository, tags: {}, manifests: {}, createdAt: now };
    for (const m of [...pushed.images, ...pushed.attestations, pushed.index]) repo.manifests[m.digest] = m;
    moveTag(repo, tag, pushed.index.digest, now);
    r.repositories[repository] = repo;
    this.store.changed();
    this.events.emit(
      imagePushedEvent(this.ctx.options.subscriptionId, r, repository, tag, pushed.index, userAgentOf(body)),
    );
    this.ctx.log(
      `push ${loginServerOf(r)}/${repository}:${tag} → index ${pushed.index.digest} (${platforms.map(formatPlatform).join(', ')})`,
    );
    return {
      status: 200,
      body: {
        repository,
        tag,
        digest: pushed.index.digest,
        mediaType: pushed.index.mediaType,
        loginServer: loginServerOf(r),
        image: `${loginServerOf(r)}/${repository}@${pushed.index.digest}`,
        behavior,
        manifests: pushed.images.map((m) => ({
          platform: formatPlatform(m.platform!),
          digest: m.digest,
          mediaType: m.mediaType,
        })),
        attestations: pushed.attestations.map((m) => m.digest),
      },
    };
  }
}

/** Point the tag at `digest`: its creation time stays, its last update time is now (as ACR keeps them). */
function moveTag(repo: RepositoryRecord, tag: string, digest: string, now: string): void {
  repo.tags[tag] = digest;
  const times = (repo.tagTimes ??= {});
  times[tag] = { createdTime: times[tag]?.createdTime ?? now, lastUpdateTime: now };
}

const userAgentOf = (body: Record<string, unknown>): string | undefined =>
  typeof body['userAgent'] === 'string' ? body['userAgent'] : undefined;

/** `platforms` of a push body: 1-8 distinct `os/architecture[/variant]` strings. */
function platformsOf(value: unknown): Platform[] {
  const list = Array.isArray(value) ? value : undefined;
  const parsed = list?.map((p) => (typeof p === 'string' ? parsePlatform(p) : undefined));
  if (!list || list.length === 0 || list.length > 8 || !parsed || parsed.some((p) => p === undefined))
    throw controlErrors.badRequest(
      `'platforms' must be 1-8 platforms such as ["linux/amd64","linux/arm64/v8"], got ${JSON.stringify(value)}.`,
    );
  const platforms = parsed as Platform[];
  if (new Set(platforms.map(formatPlatform)).size !== platforms.length)
    throw controlErrors.badRequest(`'platforms' lists a platform twice: ${JSON.stringify(value)}.`);
  return platforms;
}

/**
 * A manifest pushed under a caller-chosen digest (no content the emulator could hash to it): a plausible size from
 * the digest (ACR reports the manifest's byte length).
 */
function newManifest(digest: string, behavior: Behavior): ManifestRecord {
  const size = 1024 + (parseInt(digest.slice(7, 11), 16) % 8192);
  return { digest, mediaType: MANIFEST_MEDIA_TYPE, size, behavior, pushedAt: new Date().toISOString() };
}
