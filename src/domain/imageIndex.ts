/**
 * Multi-platform images: when a push is an image index (OCI) or a manifest list (Docker), pick the manifest of the
 * app's platform, so the group is created with exactly the image that will run.
 *
 * Facts relied on:
 * - OCI image-spec `image-index.md`: `manifests[]` descriptors carry `platform { architecture, os, variant? }`;
 *   an unknown `mediaType` MUST be ignored; the variant table lists `arm64` only as `v8`, so `linux/arm64` and
 *   `linux/arm64/v8` name the same platform.
 * - Docker "Image attestation storage" (docs.docker.com/build/metadata/attestations/attestation-storage): buildx
 *   adds one attestation manifest per image to the index, with platform `unknown/unknown` and the annotation
 *   `vnd.docker.reference.type: attestation-manifest`. Those never run.
 */

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

/** Image manifests a platform entry may point at (a nested index is not followed). */
const IMAGE_MANIFESTS = new Set([OCI_MANIFEST, DOCKER_MANIFEST]);
const ATTESTATION_ANNOTATION = 'vnd.docker.reference.type';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** True for a pushed manifest that lists other manifests (one per platform) instead of being an image. */
export function isImageIndex(mediaType: string | undefined): boolean {
  const base = mediaType?.split(';')[0]?.trim().toLowerCase();
  return base === OCI_INDEX || base === DOCKER_MANIFEST_LIST;
}

const PLATFORM = /^([a-z0-9]+)\/([a-z0-9_]+)(?:\/([a-z0-9]+))?$/;

/** `os/architecture[/variant]`, e.g. `linux/amd64`, `linux/arm64/v8`. Undefined when it is not one. */
export function parsePlatform(text: string): Platform | undefined {
  const m = PLATFORM.exec(text.trim().toLowerCase());
  if (!m) return undefined;
  return { os: m[1]!, architecture: m[2]!, ...(m[3] ? { variant: m[3] } : {}) };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');
}

/** The variant a platform means when it names none (the image-spec table has one variant for arm64). */
function normalisedVariant(p: Platform): string | undefined {
  if (p.variant) return p.variant;
  return p.architecture === 'arm64' ? 'v8' : undefined;
}

function samePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && normalisedVariant(a) === normalisedVariant(b);
}

interface Descriptor {
  mediaType: string;
  digest: string;
  platform?: Platform;
  annotations: Record<string, string>;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function descriptorOf(raw: unknown): Descriptor | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const o = raw as Record<string, unknown>;
  const mediaType = str(o['mediaType']);
  const digest = str(o['digest']);
  if (!mediaType || !digest || !/^sha256:[0-9a-f]{64}$/.test(digest)) return undefined;
  const p = o['platform'] as Record<string, unknown> | undefined;
  const os = str(p?.['os'])?.toLowerCase();
  const architecture = str(p?.['architecture'])?.toLowerCase();
  const variant = str(p?.['variant'])?.toLowerCase();
  const annotations: Record<string, string> = {};
  const a = o['annotations'];
  if (a && typeof a === 'object')
    for (const [k, v] of Object.entries(a as Record<string, unknown>))
      if (typeof v === 'string') annotations[k] = v;
  return {
    mediaType,
    digest,
    ...(os && architecture ? { platform: { os, architecture, ...(variant ? { variant } : {}) } } : {}),
    annotations,
  };
}

/** An entry that is an image for some platform (not an attestation, not an unknown media type). */
function runnable(d: Descriptor): d is Descriptor & { platform: Platform } {
  if (!IMAGE_MANIFESTS.has(d.mediaType.split(';')[0]!.trim().toLowerCase())) return false;
  if (d.annotations[ATTESTATION_ANNOTATION] === 'attestation-manifest') return false;
  if (!d.platform || d.platform.os === 'unknown' || d.platform.architecture === 'unknown') return false;
  return true;
}

export type PlatformChoice =
  | { ok: true; digest: string; mediaType: string; platform: string }
  | { ok: false; message: string; available: string[] };

/**
 * The manifest of `wanted` in an index body (already parsed JSON). When none matches, the message names the
 * platforms the index has, so the fix (build for the platform, or set `template.platform`) is obvious.
 */
export function pickPlatformManifest(index: unknown, wanted: Platform): PlatformChoice {
  const manifests = (index as { manifests?: unknown } | null)?.manifests;
  if (!Array.isArray(manifests))
    return { ok: false, message: 'the image index has no "manifests" list', available: [] };
  const images = manifests
    .map(descriptorOf)
    .filter((d): d is Descriptor => d !== undefined)
    .filter(runnable);
  const available = [...new Set(images.map((d) => formatPlatform(d.platform)))];
  const match = images.find((d) => samePlatform(d.platform, wanted));
  if (match)
    return {
      ok: true,
      digest: match.digest,
      mediaType: match.mediaType,
      platform: formatPlatform(match.platform),
    };
  return {
    ok: false,
    message:
      available.length > 0
        ? `the image index has no manifest for ${formatPlatform(wanted)}; it has ${available.join(', ')}`
        : `the image index has no runnable manifest (only attestations or unknown media types)`,
    available,
  };
}
