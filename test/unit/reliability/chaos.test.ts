/**
 * Issue 16, "keep it fixed": random interleavings of pushes (duplicates, reorders, redeliveries of failed
 * deliveries, image indexes, versions that fail the gate or degrade), operator actions, timer ticks, the clock,
 * ARM and Key Vault throttling (with and without Retry-After) and host kills just before or after a state write,
 * against the domain with its fakes. After every command: the secret names a Running group that passed a health
 * gate; only blue and green exist; a queued push waits only behind a switched rollout or a pause. Once faults stop
 * and the timer has run: exactly one active group, no orphan, every rollout in history, one push rollout per digest.
 *
 * Seeded and reproducible: the seed is printed; `CHAOS_SEED=<seed> npx vitest run test/unit/reliability/chaos.test.ts`
 * replays a run (fast-check also prints the failing command list, shrunk). `CHAOS_RUNS` sets how many.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OPERATOR_ACTIONS } from '../../../src/domain/model.js';
import { ChaosWorld, VERSIONS, type Command, type Flavour } from './chaosWorld.js';

const SEED = Number(process.env['CHAOS_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env['CHAOS_RUNS'] ?? 2_000);

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('push' as const),
      version: fc.integer({ min: 1, max: VERSIONS }),
      redelivery: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('action' as const),
      action: fc.constantFrom(...OPERATOR_ACTIONS),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'tick' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 0, max: 40 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('time' as const), seconds: fc.integer({ min: 1, max: 600 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        kind: fc.constant('fault' as const),
        service: fc.constantFrom('arm' as const, 'keyvault' as const),
        calls: fc.integer({ min: 1, max: 4 }),
        retryAfterMs: fc.integer({ min: 500, max: 5_000 }),
      },
      { requiredKeys: ['kind', 'service', 'calls'] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('kill' as const),
      at: fc.constantFrom('beforeWrite' as const, 'afterWrite' as const),
      afterWrites: fc.integer({ min: 0, max: 6 }),
    }),
  },
);

const flavour = fc.constantFrom<Flavour>('auto', 'verifyAndWindow', 'manual');

describe('chaos: random interleavings against the domain with fakes', () => {
  it(`keeps the invariants after every step and converges (seed ${SEED}, ${RUNS} runs)`, async () => {
    console.log(`chaos seed ${SEED} (${RUNS} runs): replay with CHAOS_SEED=${SEED}`);
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(flavour, fc.array(command, { minLength: 1, maxLength: 14 }), async (f, commands) => {
        runs++;
        const world = new ChaosWorld(f);
        for (const c of commands) await world.run(c);
        await world.converge();
        world.checkConverged();
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(runs).toBe(RUNS);
  }, 120_000);
});
