/**
 * Part `storm`: an event storm over many apps (issue 15, part 5). Azurite, the emulator and the functions host run
 * as child processes (bench/lib/benchStack.ts) with `--storm-apps` apps; every app's seven tags are pushed to the
 * emulated registry, then `--deliveries` Event Grid deliveries (bench/lib/stormPlan.ts: duplicates, redeliveries,
 * older tags after the newest, tags the policy refuses) go to the webhook in two concurrent waves, and the timer
 * settles what the deliveries left.
 *
 * Reported: answers by status, answer latency, time to send and to settle, the host's RSS (before, peak, after),
 * Azure calls by operation, and the outcome (stormRun.ts `stormOutcome`): exactly one push rollout per app, of its
 * newest allowed tag, which serves, one group left. `ok: false` otherwise, or on any 5xx.
 */
import type { BenchPart } from '../lib/benchPart.js';
import { benchAppNames, benchAppsFor } from '../lib/benchApps.js';
import { startBenchStack, type BenchStack } from '../lib/benchStack.js';
import { azureCalls, requestLog } from '../lib/emulatorControl.js';
import { rssMbOf, rssSampler, round, spread, spreadText, textTable } from '../lib/figures.js';
import { countStatuses, failedAnswer, type PushedImage } from '../lib/imagePushedEvent.js';
import { STORM_TAGS, stormPlan, type StormPlan } from '../lib/stormPlan.js';
import { newestRecorded, sendWave, settleStorm, stormOutcome } from '../lib/stormRun.js';

/** Deliveries in flight at once (Event Grid sends many in parallel; this bounds the bench's sockets). */
const CONCURRENCY = 50;

export const stormPart: BenchPart = {
  name: 'storm',
  summary: 'an event storm: duplicates and out-of-order pushes over many apps; one rollout per app',
  options: {
    deliveries: { default: '1000', help: 'webhook deliveries in the storm' },
    'storm-apps': { default: '20', help: 'apps the storm is spread over' },
    'storm-seed': { default: 'random', help: 'seed of the storm (printed; replays a run)' },
  },
  async run({ root, tmp, args, log }) {
    const appCount = Math.max(1, Number(args['storm-apps']) || 20);
    const deliveries = Math.max(3 * appCount, Number(args['deliveries']) || 1000);
    const seedArg = Number(args['storm-seed']);
    const seed = Number.isInteger(seedArg) ? seedArg : Math.floor(Math.random() * 2 ** 31);
    const names = benchAppNames('st', appCount);
    const stack = await startBenchStack({
      root,
      tmp,
      appsConfig: benchAppsFor(names),
      timings: { provisioningStepMs: 500 },
    });
    try {
      const plan = stormPlan(await pushTags(stack, names), deliveries, seed);
      log(`seed ${seed}: ${deliveries} deliveries over ${appCount} apps… `);
      const figures = await storm(stack, plan);
      log(`settled: ${figures.settled}\n`);
      const ok = figures.settled && figures.outcome.every((o) => o.ok) && figures.failedAnswers === 0;
      return {
        ok,
        figures: {
          setup: { apps: appCount, deliveries, seed, concurrency: CONCURRENCY, tags: STORM_TAGS },
          ...figures,
        },
        table: stormTable(figures),
      };
    } finally {
      await stack.stop();
    }
  },
};

async function pushTags(stack: BenchStack, names: string[]) {
  const images = new Map<string, Map<string, PushedImage>>();
  for (const app of names) {
    const tags = new Map<string, PushedImage>();
    for (const tag of STORM_TAGS) tags.set(tag, { repository: app, tag, ...(await stack.push(app, tag)) });
    images.set(app, tags);
  }
  return images;
}

async function storm(stack: BenchStack, plan: StormPlan) {
  const mark = (await requestLog(stack.control)).lastSeq;
  const before = rssMbOf(stack.hostPid);
  const sampler = rssSampler(stack.hostPid, 50);
  const t0 = Date.now();
  const firstWave = sendWave(stack, plan.first, CONCURRENCY);
  const recorded = await newestRecorded(stack, plan, 60_000);
  const secondWave = sendWave(stack, plan.second, CONCURRENCY);
  const answers = [...(await firstWave), ...(await secondWave)];
  const sentMs = Date.now() - t0;
  const { settled, apps } = await settleStorm(stack, plan, 120_000);
  const settleMs = Date.now() - t0;
  const peak = sampler.stop();
  const calls = azureCalls(await requestLog(stack.control, mark));
  const groups = await stack.control.call<{ value: Array<{ name: string }> }>(
    'GET',
    '/_emulator/containerGroups',
  );
  const outcome = stormOutcome(
    plan,
    apps,
    groups.body.value.map((g) => g.name),
  );
  const byKind: Record<string, number> = {};
  for (const d of [...plan.first, ...plan.second]) byKind[d.kind] = (byKind[d.kind] ?? 0) + 1;
  return {
    waves: { first: plan.first.length, second: plan.second.length, newestRecordedFirst: recorded, byKind },
    answers: countStatuses(answers),
    failedAnswers: answers.filter(failedAnswer).length,
    latencyMs: spread(answers.map((a) => a.ms)),
    sentMs,
    settleMs,
    settled,
    hostRssMb: { before: round(before, 0), peak: round(peak, 0), after: round(rssMbOf(stack.hostPid), 0) },
    azureCalls: calls,
    appsOk: outcome.filter((o) => o.ok).length,
    outcome,
    failures: stack.failures,
  };
}

type StormFigures = Awaited<ReturnType<typeof storm>>;

function stormTable(f: StormFigures): string {
  const answers = Object.entries(f.answers)
    .map(([s, n]) => `${n} × ${s}`)
    .join(', ');
  const rollouts = f.outcome.map((o) => o.pushRollouts.length);
  const table = textTable([
    [
      'deliveries',
      'answers',
      'latency ms p50/p95/p99/max',
      'sent ms',
      'settled ms',
      'host RSS MB (before/peak/after)',
      'apps ok',
    ],
    [
      String(f.waves.first + f.waves.second),
      answers,
      spreadText(f.latencyMs),
      String(f.sentMs),
      String(f.settleMs),
      `${f.hostRssMb.before} / ${f.hostRssMb.peak} / ${f.hostRssMb.after}`,
      `${f.appsOk} / ${f.outcome.length}`,
    ],
  ]);
  const wrong = f.outcome
    .filter((o) => !o.ok)
    .map((o) => `${o.app}: ${o.pushRollouts.join(', ')}; groups ${o.groups.join(', ')}`);
  return [
    table,
    `push rollouts per app: min ${Math.min(...rollouts)}, max ${Math.max(...rollouts)}; Azure calls: ${Object.entries(
      f.azureCalls,
    )
      .map(([op, n]) => `${op} ${n}`)
      .join(', ')}`,
    ...(wrong.length ? [`wrong: ${wrong.join(' | ')}`] : []),
  ].join('\n');
}
