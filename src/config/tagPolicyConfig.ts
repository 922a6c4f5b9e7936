/**
 * `tagPolicy`: which tags an app deploys and how tags are ordered, so a lower one is refused as a downgrade.
 *
 * The ordering follows Flux's ImagePolicy (fluxcd.io/flux/components/image/imagepolicies: `policy.semver`,
 * `policy.numerical`, `policy.alphabetical`, and `filterTags.pattern` with `extract` naming the capture group to
 * compare): `order` is `semver`, `numerical` (the compared part read as a number), `alphabetical` (compared as
 * text, character by character) or `pushTime` (the registry's push time: the event's time, the tag's
 * `lastUpdateTime` when listed). `extract` is a regular expression with one named group; a tag must match it and
 * the group's text is what the order compares (`^build-(?<n>\d+)$` compares `1234` of `build-1234`).
 */
import semver from 'semver';
import { z } from 'zod';

export const TAG_ORDERS = ['semver', 'numerical', 'alphabetical', 'pushTime'] as const;
export type TagOrder = (typeof TAG_ORDERS)[number];

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/** Names of the named groups of a pattern: `(?<name>…)`, not the lookbehinds `(?<=…)` / `(?<!…)`. */
export function namedGroups(pattern: string): string[] {
  return [...pattern.matchAll(/(?<!\\)\(\?<([A-Za-z_$][\w$]*)>/g)].map((m) => m[1]!);
}

const pattern = z.string().refine(compiles, { message: 'not a valid regular expression' });

const extract = z
  .string()
  .refine(compiles, { message: 'not a valid regular expression' })
  .refine((p) => !compiles(p) || namedGroups(p).length === 1, {
    message:
      'must have exactly one named group, e.g. ^build-(?<n>\\d+)$ (its text is what the order compares)',
  });

const order = z.enum(TAG_ORDERS, {
  message: `expected one of ${TAG_ORDERS.map((o) => `"${o}"`).join(', ')}`,
});

/** Shared by every type: the part compared, and whether a lower tag may replace a higher one. */
const orderingFields = {
  extract: extract.optional(),
  allowDowngrade: z.boolean().default(false),
};

export const tagPolicySchema = z.discriminatedUnion('type', [
  z
    .strictObject({
      type: z.literal('semver'),
      range: z
        .string()
        .default('*')
        .refine((r) => semver.validRange(r) !== null, { message: 'not a valid semver range' }),
      includePrerelease: z.boolean().default(false),
      order: order.optional(),
      ...orderingFields,
    })
    .refine((p) => p.order === undefined || p.order === 'semver', {
      path: ['order'],
      message:
        'type "semver" orders by semver; use type "regex" or "any" for numerical, alphabetical or pushTime order',
    }),
  z.strictObject({
    type: z.literal('regex'),
    /** Matched against the whole tag. */
    pattern,
    order: order.default('pushTime'),
    ...orderingFields,
  }),
  z.strictObject({ type: z.literal('any'), order: order.default('pushTime'), ...orderingFields }),
]);

export type TagPolicy = z.output<typeof tagPolicySchema>;

/** The order a policy compares tags by: semver for a semver policy, else as configured (pushTime by default). */
export function orderOf(policy: TagPolicy): TagOrder {
  // A policy built by hand (not parsed) may lack the default.
  return policy.type === 'semver' ? 'semver' : (policy.order ?? 'pushTime');
}

export const DEFAULT_TAG_POLICY: TagPolicy = {
  type: 'semver',
  range: '*',
  allowDowngrade: false,
  includePrerelease: false,
};
