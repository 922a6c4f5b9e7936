/**
 * Part `rollout`: the app's own time in a rollout (issue 15, part 4). Azurite, the emulator and the functions host
 * run as child processes (bench/lib/benchStack.ts) with N apps of the tests' fast shape. After every app's first
 * deploy (all at once, not measured), `--rollouts` blue/green rollouts run one at a time, over the apps in turn:
 * push an image, deliver its `ImagePushed` to the webhook, and wait for the delivery's answer (the event-triggered
 * run carries the rollout to its end: switch, 1 s drain, delete). Each rollout's push → switch is split into the
 * designed waits and the app's own time by step (rolloutTiming.ts). Then every app is pushed at once: time until
 * all have switched and until all have settled, and the host's peak RSS.
 */
import path from 'node:path';
import { DEFAULT_OPTIONS } from '../../src/domain/deps.js';
import type { BenchContext, BenchPart } from '../lib/benchPart.js';
import { BENCH_TAG_RANGE, benchAppNames, benchAppsFor } from '../lib/benchApps.js';
import { settledOn } from '../lib/appStatus.js';
import { startBenchStack, type BenchStack } from '../lib/benchStack.js';
import { requestEntries, requestLog } from '../lib/emulatorControl.js';
import { rssMbOf, rssSampler, round, spread } from '../lib/figures.js';
import { countStatuses, deliver, failedAnswer, imagePushedEvent } from '../lib/imagePushedEvent.js';
import { rolloutTable } from './rolloutTable.js';
import { OWN_STEPS, rolloutTiming, type OwnStep, type RolloutTiming } from './rolloutTiming.js';

/** Emulated provisioning: two phases of this (Pending, Creating), 1 s in all; the app polls every 3 s. */
const PROVISIONING_STEP_MS = 500;
/** The fast app's health gate (test/integration/support/fastApp.ts): 2 probes, 250 ms apart. */
const HEALTH_INTERVAL_MS = 250;

interface Pushed {
  app: string;
  tag: string;
  digest: string;
}

export const rolloutPart: BenchPart = {
  name: 'rollout',
  summary: "a rollout's own time (push → switch minus provisioning and the health gate), and N apps at once",
  options: {
    rollouts: { default: '50', help: 'rollouts measured one at a time' },
    'apps-at-once': { default: '20', help: 'apps (the rollouts take them in turn), then all pushed at once' },
    'host-cpu-prof': {
      default: '',
      help: 'a directory: the host writes a V8 CPU profile of itself there (off when empty)',
    },
  },
  async run(context) {
    const rollouts = Math.max(1, Number(context.args['rollouts']) || 50);
    const appCount = Math.max(1, Number(context.args['apps-at-once']) || 20);
    const names = benchAppNames('ro', appCount);
    const profileDir = context.args['host-cpu-prof'] ? path.resolve(context.args['host-cpu-prof']) : '';
    const stack = await startBenchStack({
      root: context.root,
      tmp: context.tmp,
      appsConfig: benchAppsFor(names),
      timings: { provisioningStepMs: PROVISIONING_STEP_MS },
      ...(profileDir ? { hostEnv: profilingEnv(context.root, profileDir) } : {}),
    });
    try {
      context.log(`first deploy of ${appCount} apps… `);
      const first = await pushAll(stack, names, '1.0.0');
      await atOnce(stack, first);
      context.log(`done; ${rollouts} rollouts one at a time… `);
      const timings: RolloutTiming[] = [];
      const failed: string[] = [];
      for (let i = 0; i < rollouts; i++) {
        const app = names[i % appCount]!;
        const tag = `1.${1 + Math.floor(i / appCount)}.0`;
        const pushed = { app, tag, ...(await stack.push(app, tag)) };
        const outcome = await measuredRollout(stack, pushed);
        if (typeof outcome === 'string') failed.push(outcome);
        else timings.push(outcome);
        if ((i + 1) % 10 === 0) context.log(`${i + 1} `);
      }
      context.log(`done; ${appCount} apps at once… `);
      const round2 = `1.${1 + Math.ceil(rollouts / appCount)}.0`;
      const together = await atOnce(stack, await pushAll(stack, names, round2));
      context.log('done\n');
      failed.push(...together.failed);
      return outcomeOf(context, { appCount, rollouts, timings, failed, together });
    } finally {
      await stack.stop();
    }
  },
};

/** The host's environment for a CPU profile (bench/lib/hostCpuProfile.mjs). */
function profilingEnv(root: string, dir: string): Record<string, string> {
  const preload = path.join(root, 'bench/lib/hostCpuProfile.mjs');
  return { NODE_OPTIONS: `--import ${preload}`, BENCH_CPU_PROF_DIR: dir };
}

function pushAll(stack: BenchStack, names: string[], tag: string): Promise<Pushed[]> {
  return Promise.all(names.map(async (app) => ({ app, tag, ...(await stack.push(app, tag)) })));
}

const eventFor = (stack: BenchStack, p: Pushed) =>
  imagePushedEvent(`ro-${p.app}-${p.tag}`, { repository: p.app, ...p }, stack.registry, new Date());

/** Runs the timer until the app has settled on the digest (the delivery's budget may have left the end to it). */
async function settle(stack: BenchStack, p: Pushed) {
  for (let i = 0; i < 60; i++) {
    const s = await stack.appStatus(p.app);
    if (settledOn(s, p.digest)) return s;
    await stack.runTimer();
    await new Promise((r) => setTimeout(r, 500));
  }
  return stack.appStatus(p.app);
}

/** One rollout alone on the host: its timing, or why it could not be measured. */
async function measuredRollout(stack: BenchStack, p: Pushed): Promise<RolloutTiming | string> {
  const mark = (await requestLog(stack.control)).lastSeq;
  const answer = await deliver(stack.webhookUrl, [eventFor(stack, p)]);
  if (failedAnswer(answer)) return `${p.app} ${p.tag}: the delivery answered ${answer.status}`;
  return timingOf(stack, p, answer.sentAt, mark);
}

async function timingOf(stack: BenchStack, p: Pushed, sentAt: number, mark: number) {
  const s = await settle(stack, p);
  const r = s.rollout;
  if (!r || r.digest !== p.digest || r.state !== 'succeeded')
    return `${p.app} ${p.tag}: ${r ? `${r.tag} ${r.state} at ${r.step}` : 'no rollout'}`;
  return rolloutTiming({
    app: p.app,
    sentAt,
    rollout: r,
    requests: await requestEntries(stack.control, mark),
    secretName: `${p.app}-ip`,
    provisioningMs: 2 * PROVISIONING_STEP_MS,
    healthIntervalMs: HEALTH_INTERVAL_MS,
  });
}

export interface AtOnce {
  apps: number;
  allSwitchedMs: number;
  allSettledMs: number;
  hostRssMb: { before: number; peak: number; after: number };
  answers: Record<string, number>;
  timings: RolloutTiming[];
  failed: string[];
}

/** Every app's delivery at once; the timer finishes what the deliveries' budgets left. */
async function atOnce(stack: BenchStack, pushed: Pushed[]): Promise<AtOnce> {
  const mark = (await requestLog(stack.control)).lastSeq;
  const before = rssMbOf(stack.hostPid);
  const sampler = rssSampler(stack.hostPid, 50);
  const t0 = Date.now();
  const answers = await Promise.all(pushed.map((p) => deliver(stack.webhookUrl, [eventFor(stack, p)])));
  const outcomes = await Promise.all(pushed.map((p, i) => timingOf(stack, p, answers[i]!.sentAt, mark)));
  const allSettledMs = Date.now() - t0;
  const peak = sampler.stop();
  const timings = outcomes.filter((o): o is RolloutTiming => typeof o !== 'string');
  const failed = outcomes.filter((o): o is string => typeof o === 'string');
  failed.push(...answers.filter(failedAnswer).map((a) => `a delivery answered ${a.status}`));
  const sentAt = Math.min(...answers.map((a) => a.sentAt));
  return {
    apps: pushed.length,
    allSwitchedMs: Math.max(...timings.map((t) => t.switchedAt - sentAt)),
    allSettledMs,
    hostRssMb: { before: round(before, 0), peak: round(peak, 0), after: round(rssMbOf(stack.hostPid), 0) },
    answers: countStatuses(answers),
    timings,
    failed,
  };
}

interface Measured {
  appCount: number;
  rollouts: number;
  timings: RolloutTiming[];
  failed: string[];
  together: AtOnce;
}

function summary(timings: RolloutTiming[]) {
  const pick = (f: (t: RolloutTiming) => number) => spread(timings.map(f));
  return {
    measured: timings.length,
    pushToSwitchMs: pick((t) => t.pushToSwitchMs),
    waitsMs: {
      provisioning: pick((t) => t.provisioningMs),
      pollWait: pick((t) => t.pollWaitMs),
      healthWait: pick((t) => t.healthWaitMs),
    },
    overheadMs: pick((t) => t.overheadMs),
    stepsMs: Object.fromEntries(OWN_STEPS.map((s) => [s, pick((t) => t.steps[s])])) as Record<
      OwnStep,
      ReturnType<typeof spread>
    >,
  };
}

function outcomeOf(context: BenchContext, m: Measured) {
  const oneAtATime = summary(m.timings);
  const { apps, allSwitchedMs, allSettledMs, hostRssMb, answers } = m.together;
  const concurrent = summary(m.together.timings);
  const figures = {
    setup: {
      apps: m.appCount,
      rolloutsAskedFor: m.rollouts,
      provisioningStepMs: PROVISIONING_STEP_MS,
      appPollIntervalMs: DEFAULT_OPTIONS.pollIntervalMs,
      healthGate: { probes: 2, intervalMs: HEALTH_INTERVAL_MS },
      tagRange: BENCH_TAG_RANGE,
      drainSeconds: 1,
    },
    oneAtATime,
    atOnce: {
      apps,
      allSwitchedMs,
      allSettledMs,
      hostRssMb,
      answers,
      pushToSwitchMs: concurrent.pushToSwitchMs,
      overheadMs: concurrent.overheadMs,
      stepsMs: concurrent.stepsMs,
    },
    failed: m.failed,
  };
  if (m.failed.length) context.log(`failed: ${m.failed.join('; ')}\n`);
  return {
    ok: m.failed.length === 0 && m.timings.length === m.rollouts,
    figures,
    table: rolloutTable(oneAtATime, figures.atOnce),
  };
}
