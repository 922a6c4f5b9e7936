/**
 * An event storm (issue 15, part 5), as a list of deliveries: for each app seven pushed tags, of which one is the
 * newest the app's policy allows (`1.3.0` under BENCH_TAG_RANGE); three are older allowed ones, three are newer
 * but not allowed (`2.0.0` outside the range, the pre-release `1.4.0-rc.1`, `latest`). Deliveries come in two
 * waves, each sent concurrently and shuffled:
 *
 * 1. per app: the newest tag's push, a second push of the same digest (a new event id), and a tag not allowed;
 * 2. the rest: redeliveries (an event already sent, same id, as Event Grid's at-least-once delivery repeats it),
 *    new events for the newest digest, older tags (out of order: they arrive after the newer one), tags not allowed.
 *
 * The second wave is sent once each app's newest rollout is recorded: an older tag decided before the newest would
 * rightly start a rollout the newest then supersedes, which is not the "one rollout per app" this storm checks.
 * Seeded, so a run can be replayed.
 */
import { seededRandom } from '../../emulator/src/core/faults.js';
import type { PushedImage } from './imagePushedEvent.js';

export const STORM_NEWEST = '1.3.0';
export const STORM_OLDER = ['1.0.0', '1.1.0', '1.2.0'] as const;
export const STORM_NOT_ALLOWED = ['2.0.0', '1.4.0-rc.1', 'latest'] as const;
/** Every tag a storm pushes for an app, oldest first. */
export const STORM_TAGS = [...STORM_OLDER, STORM_NEWEST, ...STORM_NOT_ALLOWED] as const;

export type StormKind = 'newest' | 'sameDigest' | 'redelivery' | 'older' | 'notAllowed';

export interface StormDelivery {
  /** The event id (a redelivery repeats one). */
  id: string;
  kind: StormKind;
  image: PushedImage;
  /** The push's time: older tags were pushed earlier. */
  eventTime: Date;
}

export interface StormPlan {
  first: StormDelivery[];
  second: StormDelivery[];
  /** Each app's newest allowed image: the one it must end on, with exactly one push rollout. */
  newest: Map<string, PushedImage>;
  seed: number;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** The second wave's mix: what share of its deliveries are of each kind. */
const SECOND_WAVE: Array<[Exclude<StormKind, 'newest'>, number]> = [
  ['redelivery', 0.35],
  ['older', 0.3],
  ['sameDigest', 0.2],
  ['notAllowed', 0.15],
];

/**
 * `images` maps each app to its pushed images by tag (all of STORM_TAGS); `deliveries` is the storm's size (at
 * least three per app: the first wave).
 */
export function stormPlan(
  images: Map<string, Map<string, PushedImage>>,
  deliveries: number,
  seed: number,
): StormPlan {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const base = Date.parse('2026-12-01T10:00:00Z');
  let seq = 0;
  const event = (app: string, tag: string, kind: StormKind): StormDelivery => {
    const image = images.get(app)?.get(tag);
    if (!image) throw new Error(`no pushed image ${app}:${tag}`);
    const order = STORM_TAGS.indexOf(tag as (typeof STORM_TAGS)[number]);
    return { id: `storm-${seed}-${++seq}`, kind, image, eventTime: new Date(base + order * 60_000) };
  };
  const apps = [...images.keys()];
  const first = shuffle(
    apps.flatMap((app) => [
      event(app, STORM_NEWEST, 'newest'),
      event(app, STORM_NEWEST, 'sameDigest'),
      event(app, pick(STORM_NOT_ALLOWED), 'notAllowed'),
    ]),
    random,
  );
  const sent = [...first];
  const second: StormDelivery[] = [];
  while (first.length + second.length < deliveries) {
    const app = pick(apps);
    let r = random();
    const kind = SECOND_WAVE.find(([, share]) => (r -= share) < 0)?.[0] ?? 'redelivery';
    const next =
      kind === 'redelivery'
        ? { ...pick(sent), kind }
        : event(
            app,
            kind === 'older'
              ? pick(STORM_OLDER)
              : kind === 'notAllowed'
                ? pick(STORM_NOT_ALLOWED)
                : STORM_NEWEST,
            kind,
          );
    second.push(next);
    if (kind !== 'redelivery') sent.push(next);
  }
  const newest = new Map(apps.map((app) => [app, images.get(app)!.get(STORM_NEWEST)!]));
  return { first, second: shuffle(second, random), newest, seed };
}
