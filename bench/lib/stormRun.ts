/**
 * Running an event storm (stormPlan.ts) against a host, for the `storm` benchmark part and the event-storm test
 * alike: send each wave with a bound on deliveries in flight, wait between the waves until every app's newest
 * rollout is recorded, then run the reconcile timer until every app has settled on its newest image. The outcome
 * check is `stormOutcome`: exactly one push rollout per app, of its newest allowed image, which serves.
 */
import type { AppStatusReader, AppView } from './appStatus.js';
import { settledOn } from './appStatus.js';
import { deliver, imagePushedEvent, type DeliveryAnswer, type RegistryRef } from './imagePushedEvent.js';
import type { StormDelivery, StormPlan } from './stormPlan.js';

export interface StormTarget extends AppStatusReader {
  webhookUrl: string;
  registry: RegistryRef;
  runTimer(): Promise<void>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends the deliveries in order, at most `concurrency` in flight; answers in the same order. */
export async function sendWave(
  target: StormTarget,
  wave: StormDelivery[],
  concurrency: number,
): Promise<DeliveryAnswer[]> {
  const answers: DeliveryAnswer[] = new Array<DeliveryAnswer>(wave.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < wave.length; i = next++) {
      const d = wave[i]!;
      answers[i] = await deliver(target.webhookUrl, [
        imagePushedEvent(d.id, d.image, target.registry, d.eventTime),
      ]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, wave.length) }, worker));
  return answers;
}

/** Polls status until every app's newest image has a rollout (or serves); false if `timeoutMs` passed first. */
export async function newestRecorded(target: StormTarget, plan: StormPlan, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const apps = await target.allStatus();
    const recorded = [...plan.newest].every(([name, image]) => {
      const a = apps.find((x) => x.name === name);
      return a && (a.rollout?.digest === image.digest || a.digest === image.digest);
    });
    if (recorded) return true;
    await pause(50);
  }
  return false;
}

/** Runs the timer until every app has settled on its newest image; the apps' last status either way. */
export async function settleStorm(
  target: StormTarget,
  plan: StormPlan,
  timeoutMs: number,
): Promise<{ settled: boolean; apps: AppView[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const apps = (await target.allStatus()).filter((a) => plan.newest.has(a.name));
    const settled = apps.every((a) => settledOn(a, plan.newest.get(a.name)!.digest));
    if ((settled && apps.length === plan.newest.size) || Date.now() > deadline) return { settled, apps };
    await target.runTimer();
    await pause(500);
  }
}

export interface AppStormOutcome {
  app: string;
  /** The push rollouts in history, oldest first: `tag outcome`. */
  pushRollouts: string[];
  servesNewest: boolean;
  /** The app's container groups left in Azure. */
  groups: string[];
  ok: boolean;
}

/**
 * Per app: exactly one push rollout, of the newest allowed image, succeeded; it serves; one group is left (the
 * first deploy has no old one). `groups` lists every container group's name in the app's resource group.
 */
export function stormOutcome(plan: StormPlan, apps: AppView[], groups: string[]): AppStormOutcome[] {
  return [...plan.newest].map(([name, image]) => {
    const a = apps.find((x) => x.name === name);
    const pushes = (a?.history ?? []).filter((h) => h.kind === 'push').reverse();
    const own = groups.filter((g) => g === `${name}-blue` || g === `${name}-green`);
    const servesNewest = a?.digest === image.digest && a.secret.inSync;
    const ok =
      pushes.length === 1 &&
      pushes[0]!.digest === image.digest &&
      pushes[0]!.outcome === 'succeeded' &&
      servesNewest &&
      own.length === 1 &&
      own[0] === a?.activeGroup;
    return {
      app: name,
      pushRollouts: pushes.map((h) => `${h.tag} ${h.outcome}`),
      servesNewest,
      groups: own,
      ok,
    };
  });
}
