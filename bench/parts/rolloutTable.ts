/** The `rollout` part's tables for the terminal: one rollout at a time by step, then all apps at once. */
import { spreadText, textTable, type Spread } from '../lib/figures.js';
import { OWN_STEPS, STEP_MEANING, type OwnStep } from './rolloutTiming.js';

interface Summary {
  measured: number;
  pushToSwitchMs: Spread;
  waitsMs: { provisioning: Spread; pollWait: Spread; healthWait: Spread };
  overheadMs: Spread;
  stepsMs: Record<OwnStep, Spread>;
}

interface Together {
  apps: number;
  allSwitchedMs: number;
  allSettledMs: number;
  hostRssMb: { before: number; peak: number; after: number };
  answers: Record<string, number>;
  pushToSwitchMs: Spread;
  overheadMs: Spread;
}

export function rolloutTable(one: Summary, together: Together): string {
  const rows: string[][] = [['ms, p50 / p95 / p99 / max', `${one.measured} rollouts, one at a time`, '']];
  rows.push(['push → switch', spreadText(one.pushToSwitchMs), '']);
  rows.push(['  − emulated provisioning', spreadText(one.waitsMs.provisioning), 'two emulator phases']);
  rows.push(['  − poll wait', spreadText(one.waitsMs.pollWait), 'Running → the 3 s poll that saw it']);
  rows.push(['  − health gate waits', spreadText(one.waitsMs.healthWait), 'interval between probes']);
  rows.push(['= overhead (own time)', spreadText(one.overheadMs), 'target p99 < 250']);
  for (const step of OWN_STEPS) rows.push([`  ${step}`, spreadText(one.stepsMs[step]), STEP_MEANING[step]]);
  const answers = Object.entries(together.answers)
    .map(([s, n]) => `${n} × ${s}`)
    .join(', ');
  const at = textTable([
    ['apps at once', 'all switched ms', 'all settled ms', 'host RSS MB (before / peak / after)', 'answers'],
    [
      String(together.apps),
      String(together.allSwitchedMs),
      String(together.allSettledMs),
      `${together.hostRssMb.before} / ${together.hostRssMb.peak} / ${together.hostRssMb.after}`,
      answers,
    ],
  ]);
  const under = `at once, per app (ms, p50 / p95 / p99 / max): push → switch ${spreadText(together.pushToSwitchMs)}; overhead ${spreadText(together.overheadMs)}`;
  return `${textTable(rows)}\n\n${at}\n${under}`;
}
