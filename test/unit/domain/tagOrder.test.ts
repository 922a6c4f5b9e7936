import { describe, expect, it } from 'vitest';
import { parseAppsConfig } from '../../../src/config/appsConfig.js';
import type { TagPolicy } from '../../../src/config/tagPolicyConfig.js';
import { handleImagePushed } from '../../../src/domain/onImagePushed.js';
import {
  checkNotDowngrade,
  checkTagAllowed,
  compareTags,
  outranksAll,
} from '../../../src/domain/tagPolicy.js';
import { budget, digestOf, makeConfig, makeWorld, pushEvent, webApp } from '../support/fakes.js';
import { settle } from '../support/scenario.js';

const numerical: TagPolicy = {
  type: 'regex',
  pattern: 'build-[0-9]+',
  order: 'numerical',
  extract: '^build-(?<n>\\d+)$',
  allowDowngrade: false,
};
const alphabetical: TagPolicy = {
  type: 'any',
  order: 'alphabetical',
  extract: '^main-[0-9a-f]{7}-(?<ts>\\d{8}T\\d{6})$',
  allowDowngrade: false,
};

function policyErrors(tagPolicy: unknown): string[] {
  return parseAppsConfig({ apps: [webApp({ tagPolicy })] }).errors.map((e) => e.text);
}

describe('tag policy: order and extract (as Flux ImagePolicy)', () => {
  it('config: order and extract are checked, naming the field', () => {
    expect(policyErrors({ type: 'any', order: 'numerical', extract: '^b-(?<n>\\d+)$' })).toEqual([]);
    expect(policyErrors({ type: 'any', order: 'newest' })).toEqual([
      'apps[0] (web): tagPolicy.order: expected one of "semver", "numerical", "alphabetical", "pushTime"',
    ]);
    expect(policyErrors({ type: 'any', extract: '^b-(\\d+)$' })).toEqual([
      'apps[0] (web): tagPolicy.extract: must have exactly one named group, e.g. ^build-(?<n>\\d+)$ (its text is what the order compares)',
    ]);
    expect(policyErrors({ type: 'any', extract: '^b-(?<n>\\d+' })[0]).toMatch(
      /tagPolicy\.extract: not a valid regular expression/,
    );
    expect(policyErrors({ type: 'semver', order: 'alphabetical' })).toEqual([
      'apps[0] (web): tagPolicy.order: type "semver" orders by semver; use type "regex" or "any" for numerical, alphabetical or pushTime order',
    ]);
    const parsed = parseAppsConfig({ apps: [webApp({ tagPolicy: { type: 'any' } })] }).apps[0]!.tagPolicy;
    expect(parsed).toEqual({ type: 'any', order: 'pushTime', allowDowngrade: false });
  });

  it('numerical compares the extracted number, not the text: build-10 is above build-9', () => {
    expect(checkTagAllowed(numerical, 'build-1234')).toEqual({ allowed: true });
    expect(checkTagAllowed(numerical, 'build-x')).toEqual({
      allowed: false,
      reason: 'tag "build-x" does not match the pattern build-[0-9]+',
    });
    expect(compareTags(numerical, 'build-10', 'build-9')).toBe(1);
    expect(checkNotDowngrade(numerical, false, 'build-9', [{ label: 'active', tag: 'build-10' }])).toEqual({
      allowed: false,
      reason:
        'stale: build-9 is lower than the active version build-10 (numerical order of the part ^build-(?<n>\\d+)$ extracts)',
    });
    expect(checkNotDowngrade(numerical, false, 'build-11', [{ label: 'active', tag: 'build-10' }])).toEqual({
      allowed: true,
    });
    expect(
      checkNotDowngrade(numerical, true, 'build-9', [{ label: 'active', tag: 'build-10' }]).allowed,
    ).toBe(true);
    expect(
      checkNotDowngrade({ ...numerical, allowDowngrade: true }, false, 'build-9', [
        { label: 'active', tag: 'build-10' },
      ]).allowed,
    ).toBe(true);
    // A tag the extract does not read is not compared (an active tag from before the policy changed).
    expect(checkNotDowngrade(numerical, false, 'build-2', [{ label: 'active', tag: 'latest' }]).allowed).toBe(
      true,
    );
    expect(outranksAll(numerical, false, 'build-12', [{ label: 'active', tag: 'build-10' }])).toBe(true);
    expect(outranksAll(numerical, false, 'build-10', [{ label: 'active', tag: 'build-10' }])).toBe(false);
  });

  it('numerical without extract needs a number; alphabetical compares the extracted text', () => {
    const plain: TagPolicy = { type: 'any', order: 'numerical', allowDowngrade: false };
    expect(checkTagAllowed(plain, '2026.1130')).toEqual({ allowed: true });
    expect(checkTagAllowed(plain, 'v2')).toEqual({
      allowed: false,
      reason: 'tag "v2": "v2" is not a number (order: numerical)',
    });
    expect(checkTagAllowed(alphabetical, 'main-abc1234-20261130T101500')).toEqual({ allowed: true });
    expect(checkTagAllowed(alphabetical, 'main-abc1234')).toEqual({
      allowed: false,
      reason: 'tag "main-abc1234" does not match the extract pattern ^main-[0-9a-f]{7}-(?<ts>\\d{8}T\\d{6})$',
    });
    // The sha is not compared: the later timestamp wins although "0000000" < "fffffff".
    expect(compareTags(alphabetical, 'main-0000000-20261130T101500', 'main-fffffff-20261129T235959')).toBe(1);
    expect(
      checkNotDowngrade(alphabetical, false, 'main-fffffff-20261129T235959', [
        { label: 'in-flight', tag: 'main-0000000-20261130T101500' },
      ]).allowed,
    ).toBe(false);
  });

  it('pushTime compares no tags (event time decides in the push decision)', () => {
    const pushTime: TagPolicy = { type: 'any', order: 'pushTime', allowDowngrade: false };
    expect(compareTags(pushTime, 'b', 'a')).toBe(0);
    expect(checkNotDowngrade(pushTime, false, 'a', [{ label: 'active', tag: 'b' }]).allowed).toBe(true);
  });

  it('a push lower by the numerical order is refused as stale, whatever its event time; a higher one starts', async () => {
    const w = makeWorld(makeConfig([webApp({ tagPolicy: numerical })]));
    const first = await handleImagePushed(
      pushEvent({ tag: 'build-10', digest: digestOf(10), at: w.clock.now() }),
      w.deps,
      budget(w, 20),
    );
    expect(first.outcome).toBe('started');
    await settle(w);
    w.clock.advance(60_000);
    const lower = await handleImagePushed(
      pushEvent({ tag: 'build-9', digest: digestOf(9), at: w.clock.now() }),
      w.deps,
      budget(w, 20),
    );
    expect(lower).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringMatching(/^stale: build-9 is lower than the active version build-10 \(numerical/),
    });
    const higher = await handleImagePushed(
      pushEvent({ tag: 'build-11', digest: digestOf(11), at: w.clock.now() - 1000 }),
      w.deps,
      budget(w, 20),
    );
    expect(higher.outcome).toBe('started');
    expect(w.store.state('web')!.rollout).toMatchObject({ tag: 'build-11', digest: digestOf(11) });
  });
});
