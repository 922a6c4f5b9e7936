/**
 * Which tags an app deploys (semver range | regex | any, and the `extract` pattern when set) and downgrade
 * protection by the policy's order (semver, numerical, alphabetical; pushTime is event time, which the push
 * decision compares itself) against the versions that are active, in flight or queued.
 */
import semver from 'semver';
import { namedGroups, orderOf, type TagPolicy } from '../config/tagPolicyConfig.js';

export type TagDecision = { allowed: true } | { allowed: false; reason: string };

function semverOf(tag: string | undefined): string | null {
  if (tag === undefined) return null;
  return semver.valid(tag) ?? semver.valid(semver.clean(tag, { loose: true }));
}

/** A decimal number, as Flux's numerical policy reads one (a float; no hex, no empty text). */
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The part of a tag the policy's order compares: the `extract` group's text, else the whole tag. */
export function orderKey(policy: TagPolicy, tag: string): string | undefined {
  if (!policy.extract) return tag;
  const m = new RegExp(policy.extract).exec(tag);
  return m?.groups?.[namedGroups(policy.extract)[0]!];
}

type Comparable = { kind: 'semver'; v: string } | { kind: 'number'; n: number } | { kind: 'text'; s: string };

/** What the order compares for `tag`; undefined for pushTime (no key) or a tag the order cannot read. */
function comparable(policy: TagPolicy, tag: string | undefined): Comparable | undefined {
  const order = orderOf(policy);
  if (tag === undefined || order === 'pushTime') return undefined;
  const key = orderKey(policy, tag);
  if (key === undefined) return undefined;
  if (order === 'semver') {
    const v = semverOf(key);
    return v ? { kind: 'semver', v } : undefined;
  }
  if (order === 'numerical') return NUMBER.test(key) ? { kind: 'number', n: Number(key) } : undefined;
  return { kind: 'text', s: key };
}

function compare(a: Comparable, b: Comparable): number {
  if (a.kind === 'semver' && b.kind === 'semver') return semver.compare(a.v, b.v);
  if (a.kind === 'number' && b.kind === 'number') return Math.sign(a.n - b.n);
  if (a.kind === 'text' && b.kind === 'text') return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
  return 0;
}

/**
 * Order two tags by the policy (positive: `a` is higher). Tags the order cannot read, and every tag under pushTime,
 * compare equal: the caller breaks ties by push time.
 */
export function compareTags(policy: TagPolicy, a: string, b: string): number {
  const ca = comparable(policy, a);
  const cb = comparable(policy, b);
  return ca && cb ? compare(ca, cb) : 0;
}

function describeOrder(policy: TagPolicy): string {
  const order = orderOf(policy);
  return order === 'semver' && !policy.extract
    ? ''
    : ` (${order} order${policy.extract ? ` of the part ${policy.extract} extracts` : ''})`;
}

/** The order can read the tag's key (its extract group matched; a number for numerical, semver for semver). */
function checkKey(policy: TagPolicy, tag: string): TagDecision {
  const key = orderKey(policy, tag);
  if (key === undefined)
    return { allowed: false, reason: `tag "${tag}" does not match the extract pattern ${policy.extract}` };
  const order = orderOf(policy);
  if (order === 'numerical' && !NUMBER.test(key))
    return { allowed: false, reason: `tag "${tag}": "${key}" is not a number (order: numerical)` };
  if (order === 'semver' && !semverOf(key))
    return policy.type === 'semver'
      ? {
          allowed: false,
          reason: `tag "${tag}" is not a semantic version (policy: semver ${policy.range})`,
        }
      : { allowed: false, reason: `tag "${tag}": "${key}" is not a semantic version (order: semver)` };
  return { allowed: true };
}

/** Is this tag one the app deploys? */
export function checkTagAllowed(policy: TagPolicy, tag: string): TagDecision {
  if (policy.type === 'regex' && !new RegExp(`^(?:${policy.pattern})$`).test(tag))
    return { allowed: false, reason: `tag "${tag}" does not match the pattern ${policy.pattern}` };
  const key = checkKey(policy, tag);
  if (!key.allowed || policy.type !== 'semver') return key;
  const v = semverOf(orderKey(policy, tag))!;
  return semver.satisfies(v, policy.range, { includePrerelease: policy.includePrerelease })
    ? { allowed: true }
    : { allowed: false, reason: `tag "${tag}" is outside the semver range ${policy.range}` };
}

export interface VersionRef {
  /** 'active' | 'in-flight' | 'queued' */
  label: string;
  tag?: string;
}

/**
 * Refuse a tag lower, by the policy's order, than any of `against`, unless the policy allows downgrades or the app
 * is forced. Under pushTime (and for tags the order cannot read) event time decides instead (the push decision).
 */
export function checkNotDowngrade(
  policy: TagPolicy,
  force: boolean,
  tag: string,
  against: ReadonlyArray<VersionRef>,
): TagDecision {
  if (policy.allowDowngrade || force) return { allowed: true };
  const v = comparable(policy, tag);
  if (!v) return { allowed: true };
  for (const ref of against) {
    const other = comparable(policy, ref.tag);
    if (other && compare(v, other) < 0)
      return {
        allowed: false,
        reason: `stale: ${tag} is lower than the ${ref.label} version ${ref.tag}${describeOrder(policy)}`,
      };
  }
  return { allowed: true };
}

/**
 * With downgrade protection, is `tag` strictly higher, by the policy's order, than every comparable version in
 * `against` (and there is one)? Then the order, not event time, decides: the highest version wins however the
 * events were ordered.
 */
export function outranksAll(
  policy: TagPolicy,
  force: boolean,
  tag: string,
  against: ReadonlyArray<VersionRef>,
): boolean {
  if (policy.allowDowngrade || force) return false;
  const v = comparable(policy, tag);
  if (!v) return false;
  const others = against.map((r) => comparable(policy, r.tag)).filter((x) => x !== undefined);
  return others.length > 0 && others.every((o) => compare(v, o) > 0);
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
