/**
 * The manifest bodies the registry's data plane serves, content-addressed (digest = sha256 of the bytes, as the
 * OCI distribution-spec's "Content Digests" requires), and the image index `docker buildx` pushes:
 * - image manifests per the OCI image-spec (`manifest.md`) or Docker's schema 2 (one config, one layer);
 * - an OCI image index (`image-index.md`) whose `manifests[]` carry `platform { os, architecture, variant? }`;
 * - one attestation manifest per image, as buildx adds them by default (Docker, "Image attestation storage":
 *   platform `unknown/unknown`, annotations `vnd.docker.reference.type: attestation-manifest` and
 *   `vnd.docker.reference.digest: <image digest>`, an in-toto layer).
 * Config and layer digests are random: the emulator stores no blobs, only what a manifest says about them.
 */
import crypto from 'node:crypto';
import type { ImageBehavior } from '../core/context.js';
import { randomDigest } from './imageReference.js';
import {
  MANIFEST_MEDIA_TYPE,
  OCI_INDEX_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  type ManifestRecord,
} from './registryStore.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const PLATFORM = /^([a-z0-9]+)\/([a-z0-9_]+)(?:\/([a-z0-9]+))?$/;

export function parsePlatform(text: string): Platform | undefined {
  const m = PLATFORM.exec(text);
  if (!m) return undefined;
  return { os: m[1]!, architecture: m[2]!, ...(m[3] ? { variant: m[3] } : {}) };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');
}

function digestOf(content: string): string {
  return `sha256:${crypto.createHash('sha256').update(content).digest('hex')}`;
}

function record(
  mediaType: string,
  value: unknown,
  behavior: ImageBehavior,
  extra: Partial<ManifestRecord> = {},
): ManifestRecord {
  const content = JSON.stringify(value, null, 2);
  return {
    digest: digestOf(content),
    mediaType,
    size: Buffer.byteLength(content),
    behavior,
    pushedAt: new Date().toISOString(),
    content,
    ...extra,
  };
}

/** A plausible size from a digest (the emulator stores no blobs). */
function sizeFrom(digest: string, base: number, spread: number): number {
  return base + (parseInt(digest.slice(7, 13), 16) % spread);
}

/** A single-platform image as `docker push` writes it (Docker schema 2). */
export function dockerImageManifest(behavior: ImageBehavior): ManifestRecord {
  const config = randomDigest();
  const layer = randomDigest();
  return record(
    MANIFEST_MEDIA_TYPE,
    {
      schemaVersion: 2,
      mediaType: MANIFEST_MEDIA_TYPE,
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        size: sizeFrom(config, 1200, 2000),
        digest: config,
      },
      layers: [
        {
          mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
          size: sizeFrom(layer, 2_000_000, 30_000_000),
          digest: layer,
        },
      ],
    },
    behavior,
  );
}

function ociImageManifest(platform: Platform, behavior: ImageBehavior): ManifestRecord {
  const config = randomDigest();
  const layer = randomDigest();
  return record(
    OCI_MANIFEST_MEDIA_TYPE,
    {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        size: sizeFrom(config, 1200, 2000),
        digest: config,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          size: sizeFrom(layer, 2_000_000, 30_000_000),
          digest: layer,
        },
      ],
    },
    behavior,
    { platform },
  );
}

function attestationManifest(): ManifestRecord {
  const config = randomDigest();
  const statement = randomDigest();
  return record(
    OCI_MANIFEST_MEDIA_TYPE,
    {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: 167, digest: config },
      layers: [
        {
          mediaType: 'application/vnd.in-toto+json',
          size: sizeFrom(statement, 1500, 3000),
          digest: statement,
          annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' },
        },
      ],
    },
    // An attestation is no image: pulling it fails as for an unknown manifest.
    { mode: 'pullFailure', reason: 'notFound' },
  );
}

export interface PushedIndex {
  index: ManifestRecord;
  /** Per-platform images, in `platforms` order. */
  images: ManifestRecord[];
  attestations: ManifestRecord[];
}

/** An OCI index for `platforms` with one image and one attestation per platform, as buildx pushes it. */
export function buildxIndex(platforms: Platform[], behavior: ImageBehavior): PushedIndex {
  const images = platforms.map((p) => ociImageManifest(p, behavior));
  const attestations = images.map(() => attestationManifest());
  const descriptor = (m: ManifestRecord) => ({ mediaType: m.mediaType, digest: m.digest, size: m.size });
  const index = record(
    OCI_INDEX_MEDIA_TYPE,
    {
      schemaVersion: 2,
      mediaType: OCI_INDEX_MEDIA_TYPE,
      manifests: [
        ...images.map((m) => ({ ...descriptor(m), platform: m.platform })),
        ...attestations.map((a, i) => ({
          ...descriptor(a),
          annotations: {
            'vnd.docker.reference.digest': images[i]!.digest,
            'vnd.docker.reference.type': 'attestation-manifest',
          },
          platform: { architecture: 'unknown', os: 'unknown' },
        })),
      ],
    },
    behavior,
  );
  return { index, images, attestations };
}

/**
 * The body of a manifest without stored content (pushed with a caller-chosen digest): a schema 2 manifest that
 * does not hash to the digest. Clients that verify (as the spec asks) will refuse it; nothing else can be served.
 */
export function contentOf(m: ManifestRecord): string {
  if (m.content !== undefined) return m.content;
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 1469, digest: m.digest },
    layers: [],
  });
}

/** The index entry for `platform` (arm64 means arm64/v8, image-spec's variant table), attestations skipped. */
export function platformEntry(index: ManifestRecord, platform: Platform): string | undefined {
  let body: {
    manifests?: Array<{ digest?: string; platform?: Platform; annotations?: Record<string, string> }>;
  };
  try {
    body = JSON.parse(contentOf(index)) as typeof body;
  } catch {
    return undefined;
  }
  const variant = (p: Platform) => p.variant ?? (p.architecture === 'arm64' ? 'v8' : undefined);
  return body.manifests?.find(
    (e) =>
      e.platform &&
      e.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest' &&
      e.platform.os === platform.os &&
      e.platform.architecture === platform.architecture &&
      variant(e.platform) === variant(platform),
  )?.digest;
}
