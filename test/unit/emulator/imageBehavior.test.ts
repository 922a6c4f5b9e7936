/** Image behaviours as the registry's push control route reads them, and what a degrading container answers. */
import { describe, expect, it } from 'vitest';
import { parseBehavior } from '../../../emulator/src/containerRegistry/imageReference.js';
import { answerStatus } from '../../../emulator/src/containerInstance/network.js';

describe('image behaviours', () => {
  it('reads degrade:N and { mode: "degrade", afterSeconds, status? }', () => {
    expect(parseBehavior('degrade:30')).toEqual({ mode: 'degrade', afterSeconds: 30 });
    expect(parseBehavior('DEGRADE:0')).toEqual({ mode: 'degrade', afterSeconds: 0 });
    expect(parseBehavior({ mode: 'degrade', afterSeconds: 5 })).toEqual({
      mode: 'degrade',
      afterSeconds: 5,
      status: 503,
    });
    expect(parseBehavior({ mode: 'degrade', afterSeconds: '5', status: 500 })).toEqual({
      mode: 'degrade',
      afterSeconds: 5,
      status: 500,
    });
  });

  it('refuses a degrade without seconds or with bad ones, naming the field', () => {
    expect(() => parseBehavior('degrade')).toThrow(/degrade:<seconds>/);
    expect(() => parseBehavior('degrade:-1')).toThrow(
      /degrade:<seconds> must be an integer between 0 and 86400/,
    );
    expect(() => parseBehavior('degrade:1.5')).toThrow(/degrade:<seconds>/);
    expect(() => parseBehavior({ mode: 'degrade' })).toThrow(/afterSeconds must be an integer/);
    expect(() => parseBehavior({ mode: 'degrade', afterSeconds: 1, status: 700 })).toThrow(/status/);
    expect(() => parseBehavior('degrad:3')).toThrow(/Use healthy, .*degrade:<seconds>/);
  });
});

describe('what a running container answers', () => {
  const start = Date.parse('2026-01-01T00:00:00Z');

  it('a degrading image: 200 until N seconds after its start, then its failure status', () => {
    const degrade = { mode: 'degrade', afterSeconds: 10 } as const;
    expect(answerStatus(degrade, start, start)).toBe(200);
    expect(answerStatus(degrade, start, start + 9_999)).toBe(200);
    expect(answerStatus(degrade, start, start + 10_000)).toBe(503);
    expect(answerStatus(degrade, start, start + 3_600_000)).toBe(503);
    expect(answerStatus({ ...degrade, status: 500 }, start, start + 10_000)).toBe(500);
    // A restart is a new start: the clock counts from it.
    expect(answerStatus(degrade, start + 20_000, start + 25_000)).toBe(200);
  });

  it('other images: healthy 200, unhealthy its status whatever the time', () => {
    expect(answerStatus({ mode: 'healthy' }, start, start + 1e9)).toBe(200);
    expect(answerStatus({ mode: 'unhealthy' }, start, start)).toBe(503);
    expect(answerStatus({ mode: 'unhealthy', status: 500 }, start, start)).toBe(500);
  });
});
