/**
 * Which tags an app deploys (semver range | regex | any) and downgrade protection against the versions that are
 * active, in flight or queued.
 */
import semver from 'semver';
import type { TagPolicy } from '../config/appsConfig.js';

export type TagDecision = { allowed: true } | { allowed: false; reason: string };

function semverOf(tag: string | undefined): string | null {
  if (tag === undefined) return null;
  return semver.valid(tag) ?? semver.valid(semver.clean(tag, { loose: true }));
}

/** Is this tag one the app deploys? */
export function checkTagAllowed(policy: TagPolicy, tag: string): TagDecision {
  switch (policy.type) {
    case 'any':
      return { allowed: true };
    case 'regex':
      return new RegExp(`^(?:${policy.pattern})$`).test(tag)
        ? { allowed: true }
        : { allowed: false, reason: `tag "${tag}" does not match the pattern ${policy.pattern}` };
    case 'semver': {
      const v = semverOf(tag);
      if (!v)
        return {
          allowed: false,
          reason: `tag "${tag}" is not a semantic version (policy: semver ${policy.range})`,
        };
      return semver.satisfies(v, policy.range, { includePrerelease: policy.includePrerelease })
        ? { allowed: true }
        : { allowed: false, reason: `tag "${tag}" is outside the semver range ${policy.range}` };
    }
  }
}

export interface VersionRef {
  /** 'active' | 'in-flight' | 'queued' */
  label: string;
  tag?: string;
}

/**
 * Refuse a lower semver than any of `against` unless the policy allows downgrades or the app is forced.
 * Only meaningful for semver policies; regex/any rely on event-time ordering instead.
 */
export function checkNotDowngrade(
  policy: TagPolicy,
  force: boolean,
  tag: string,
  against: ReadonlyArray<VersionRef>,
): TagDecision {
  if (policy.type !== 'semver' || policy.allowDowngrade || force) return { allowed: true };
  const v = semverOf(tag);
  if (!v) return { allowed: true };
  for (const ref of against) {
    const other = semverOf(ref.tag);
    if (other && semver.lt(v, other))
      return { allowed: false, reason: `stale: ${tag} is lower than the ${ref.label} version ${ref.tag}` };
  }
  return { allowed: true };
}

/**
 * For a semver policy with downgrade protection, is `tag` strictly higher than every comparable version in
 * `against` (and there is one)? Then version order, not event time, decides: the highest version wins however
 * the events were ordered.
 */
export function outranksAll(
  policy: TagPolicy,
  force: boolean,
  tag: string,
  against: ReadonlyArray<VersionRef>,
): boolean {
  if (policy.type !== 'semver' || policy.allowDowngrade || force) return false;
  const v = semverOf(tag);
  if (!v) return false;
  const others = against.map((r) => semverOf(r.tag)).filter((x): x is string => x !== null);
  return others.length > 0 && others.every((o) => semver.gt(v, o));
}

/** Tag of an image reference like `registry/repo:1.2.3` (undefined for digests-only references). */
export function tagOfImage(image: string): string | undefined {
  const at = image.indexOf('@');
  const ref = at >= 0 ? image.slice(0, at) : image;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(colon + 1) : undefined;
}

export function digestOfImage(image: string): string | undefined {
  const m = /@(sha256:[0-9a-f]{64})$/.exec(image);
  return m?.[1];
}
