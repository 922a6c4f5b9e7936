/** Issue 10 part 3: picking the app's platform from an OCI image index or a Docker manifest list. */
import { describe, expect, it } from 'vitest';
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  OCI_INDEX,
  OCI_MANIFEST,
  isImageIndex,
  parsePlatform,
  pickPlatformManifest,
} from '../../../src/domain/imageIndex.js';

const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

function entry(digest: string, platform: Record<string, string>, extra: Record<string, unknown> = {}) {
  return { mediaType: OCI_MANIFEST, digest, size: 700, platform, ...extra };
}

/** As `docker buildx build --platform linux/amd64,linux/arm64 --push` writes it (attestations on by default). */
const buildxIndex = {
  schemaVersion: 2,
  mediaType: OCI_INDEX,
  manifests: [
    entry(d(1), { architecture: 'amd64', os: 'linux' }),
    entry(d(2), { architecture: 'arm64', os: 'linux' }),
    entry(
      d(3),
      { architecture: 'unknown', os: 'unknown' },
      {
        annotations: {
          'vnd.docker.reference.digest': d(1),
          'vnd.docker.reference.type': 'attestation-manifest',
        },
      },
    ),
    entry(
      d(4),
      { architecture: 'unknown', os: 'unknown' },
      {
        annotations: {
          'vnd.docker.reference.digest': d(2),
          'vnd.docker.reference.type': 'attestation-manifest',
        },
      },
    ),
  ],
};

describe('image index: picking a platform', () => {
  it('picks the platform manifest and never an attestation', () => {
    expect(pickPlatformManifest(buildxIndex, parsePlatform('linux/amd64')!)).toEqual({
      ok: true,
      digest: d(1),
      mediaType: OCI_MANIFEST,
      platform: 'linux/amd64',
    });
    // An attestation is skipped by its annotation even when it names a real platform.
    const annotatedFirst = {
      manifests: [
        entry(
          d(5),
          { architecture: 'amd64', os: 'linux' },
          { annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } },
        ),
        entry(d(1), { architecture: 'amd64', os: 'linux' }),
      ],
    };
    expect(pickPlatformManifest(annotatedFirst, parsePlatform('linux/amd64')!)).toMatchObject({
      digest: d(1),
    });
    const none = pickPlatformManifest(buildxIndex, parsePlatform('unknown/unknown')!);
    expect(none).toMatchObject({ ok: false, available: ['linux/amd64', 'linux/arm64'] });
  });

  it('arm64 means arm64/v8 both ways (the image-spec variant table has one arm64 variant)', () => {
    expect(pickPlatformManifest(buildxIndex, parsePlatform('linux/arm64/v8')!)).toMatchObject({
      ok: true,
      digest: d(2),
    });
    const withVariant = {
      manifests: [entry(d(5), { architecture: 'arm64', os: 'linux', variant: 'v8' })],
    };
    expect(pickPlatformManifest(withVariant, parsePlatform('linux/arm64')!)).toMatchObject({
      ok: true,
      digest: d(5),
      platform: 'linux/arm64/v8',
    });
    // 32-bit arm variants are distinct: v7 is not v6.
    const arm = { manifests: [entry(d(6), { architecture: 'arm', os: 'linux', variant: 'v7' })] };
    expect(pickPlatformManifest(arm, parsePlatform('linux/arm/v6')!)).toMatchObject({ ok: false });
    expect(pickPlatformManifest(arm, parsePlatform('linux/arm/v7')!)).toMatchObject({
      ok: true,
      digest: d(6),
    });
  });

  it('a missing platform is named with the platforms the index has', () => {
    expect(pickPlatformManifest(buildxIndex, parsePlatform('linux/s390x')!)).toEqual({
      ok: false,
      message: 'the image index has no manifest for linux/s390x; it has linux/amd64, linux/arm64',
      available: ['linux/amd64', 'linux/arm64'],
    });
  });

  it('ignores unknown media types and nested indexes; reads Docker manifest lists', () => {
    const list = {
      mediaType: DOCKER_MANIFEST_LIST,
      manifests: [
        {
          mediaType: 'application/vnd.example.unknown+json',
          digest: d(7),
          platform: { os: 'linux', architecture: 'amd64' },
        },
        { mediaType: OCI_INDEX, digest: d(8), platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: DOCKER_MANIFEST, digest: d(9), platform: { os: 'linux', architecture: 'amd64' } },
      ],
    };
    expect(pickPlatformManifest(list, parsePlatform('linux/amd64')!)).toMatchObject({
      ok: true,
      digest: d(9),
    });
    expect(pickPlatformManifest({ manifests: [list.manifests[0]] }, parsePlatform('linux/amd64')!)).toEqual({
      ok: false,
      message: 'the image index has no runnable manifest (only attestations or unknown media types)',
      available: [],
    });
    expect(pickPlatformManifest({}, parsePlatform('linux/amd64')!)).toMatchObject({ ok: false });
  });

  it('knows index media types and platform strings', () => {
    expect(isImageIndex(OCI_INDEX)).toBe(true);
    expect(isImageIndex(DOCKER_MANIFEST_LIST)).toBe(true);
    expect(isImageIndex(DOCKER_MANIFEST)).toBe(false);
    expect(isImageIndex(undefined)).toBe(false);
    expect(parsePlatform('linux/arm64/v8')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(parsePlatform('linux')).toBeUndefined();
  });
});
