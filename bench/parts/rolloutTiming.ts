/**
 * Where a rollout's time goes, from push to switch, read from two records: the rollout's timeline in the status API
 * (each entry is stamped with the start of the step run that ended the step: `goto` records `ctx.now`) and the
 * emulator's request log (when the group's create and the secret's write reached "Azure").
 *
 * push → switch is split into the waits the rollout is designed to make and the app's own time:
 * - emulated provisioning: the emulator's two phases (Pending, Creating) of `provisioningStepMs`, from the create;
 * - poll wait: from the group running to the poll that saw it (the app polls a group every 3 s, DEFAULT_OPTIONS);
 * - health waits: the gate's interval between its probes (one fewer than the probes it made);
 * - the app's own time (overhead): everything else, by step: the webhook's decision, the start of the run, each
 *   step's reads, writes and the compare-and-swap of the app's row.
 */
import type { RolloutView } from '../lib/appStatus.js';
import type { LoggedRequest } from '../lib/emulatorControl.js';

/** The app's own time, by step, in the order a rollout spends it. */
export const OWN_STEPS = [
  'webhook',
  'start',
  'accepted',
  'cleaningIdle',
  'creating',
  'waitingRunning',
  'healthGate',
  'switching',
] as const;
export type OwnStep = (typeof OWN_STEPS)[number];

/** What each step's own time covers (for the table and docs/benchmarks.md). */
export const STEP_MEANING: Record<OwnStep, string> = {
  webhook: 'delivery sent → rollout recorded (host, parse, row read, decision, compare-and-swap)',
  start: 'rollout recorded → first step runs (the run starts: housekeeping, row read)',
  accepted: 'registry read and pull preflight, row write',
  cleaningIdle: "idle colour's group read (404), row write",
  creating: 'group read, template secrets read, until the create reaches ACI',
  waitingRunning: 'the poll that saw the group Running: group read, row write',
  healthGate: 'group reads and probes of the gate (its interval waits left out), row writes',
  switching: 'group read, until the secret write returned',
};

export interface RolloutTiming {
  app: string;
  tag: string;
  pushToSwitchMs: number;
  /** Epoch ms the switch's secret write returned. */
  switchedAt: number;
  provisioningMs: number;
  pollWaitMs: number;
  healthWaitMs: number;
  /** push → switch minus the three waits: the sum of `steps`. */
  overheadMs: number;
  steps: Record<OwnStep, number>;
}

export interface TimingInput {
  app: string;
  /** Epoch ms the delivery was sent. */
  sentAt: number;
  rollout: RolloutView;
  /** The emulator's requests from before the delivery until after the switch. */
  requests: LoggedRequest[];
  secretName: string;
  /** The emulator's provisioning time of a group (2 × provisioningStepMs). */
  provisioningMs: number;
  healthIntervalMs: number;
}

const at = (iso: string) => Date.parse(iso);

function lastEntry(r: RolloutView, step: string): number {
  const entry = r.timeline.filter((e) => e.step === step).at(-1);
  if (!entry) throw new Error(`rollout ${r.id} has no timeline entry for ${step}`);
  return at(entry.at);
}

export function rolloutTiming(input: TimingInput): RolloutTiming {
  const { rollout: r, requests } = input;
  const decided = at(r.startedAt);
  const accepted = lastEntry(r, 'accepted');
  const cleaning = lastEntry(r, 'cleaningIdle');
  const creating = lastEntry(r, 'creating');
  const running = lastEntry(r, 'waitingRunning');
  const switching = lastEntry(r, 'switching');
  const groupPath = new RegExp(`/containerGroups/${r.group}$`);
  const create = requests.find(
    (q) => q.operation === 'ContainerGroups_CreateOrUpdate' && groupPath.test(q.path) && at(q.at) >= creating,
  );
  if (!create) throw new Error(`no create of ${r.group} in the request log`);
  // Group reads from the poll that saw it Running up to the switch: that poll's, then one per health run.
  const reads = requests.filter(
    (q) =>
      q.operation === 'ContainerGroups_Get' &&
      groupPath.test(q.path) &&
      at(q.at) >= running &&
      at(q.at) < switching,
  );
  const healthRuns = reads.length - 1;
  if (healthRuns < 1) throw new Error(`no health run of ${r.group} in the request log`);
  const healthStarted = at(reads[1]!.at);
  const secretPath = new RegExp(`/secrets/${input.secretName}$`);
  const write = requests.find(
    (q) =>
      q.operation === 'SetSecret' && q.status === 200 && secretPath.test(q.path) && at(q.at) >= switching,
  );
  if (!write) throw new Error(`no write of ${input.secretName} in the request log`);
  const switched = at(write.at) + write.durationMs;

  const healthWaitMs = (healthRuns - 1) * input.healthIntervalMs;
  const pollWaitMs = running - (at(create.at) + input.provisioningMs);
  const steps: Record<OwnStep, number> = {
    webhook: decided - input.sentAt,
    start: accepted - decided,
    accepted: cleaning - accepted,
    cleaningIdle: creating - cleaning,
    creating: at(create.at) - creating,
    waitingRunning: healthStarted - running,
    healthGate: switching - healthStarted - healthWaitMs,
    switching: switched - switching,
  };
  const pushToSwitchMs = switched - input.sentAt;
  return {
    app: input.app,
    tag: r.tag,
    pushToSwitchMs,
    switchedAt: switched,
    provisioningMs: input.provisioningMs,
    pollWaitMs,
    healthWaitMs,
    overheadMs: pushToSwitchMs - input.provisioningMs - pollWaitMs - healthWaitMs,
    steps,
  };
}
