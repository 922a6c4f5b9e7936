/**
 * Part `load`: the webhook under load (issue 16). Azurite, the emulator and the functions host (the built app, the
 * sample configuration) run as child processes (bench/lib/benchStack.ts); this process sends Event Grid deliveries
 * straight to the host's webhook at a fixed rate (default 100 per second for 30 s), one event per delivery as the
 * subscription sends them. A new version of `web` is pushed every few seconds (its image really exists in the
 * emulated registry); every other delivery repeats one already sent: half of them the same event again (a
 * redelivery), half a new event for the same digest (a second push of the tag). Then the reconcile timer runs until
 * nothing is left to do.
 *
 * Reported: answers by status, answer latency (median, p99, max), the host's resident memory (before, peak,
 * after), the ARM `Registries_Get` calls (duplicates should make none), and the outcome: every version started at
 * most one rollout, none was lost (the newest serves), no group left over. `ok: false` when the outcome is wrong
 * (lost push, doubled rollout, 5xx).
 */
import type { BenchPart } from '../lib/benchPart.js';
import { settledOn, type AppView } from '../lib/appStatus.js';
import { startBenchStack, type BenchStack } from '../lib/benchStack.js';
import { requestLog } from '../lib/emulatorControl.js';
import { percentile, rssMbOf, rssSampler, round, textTable } from '../lib/figures.js';
import {
  countStatuses,
  deliver,
  failedAnswer,
  imagePushedEvent,
  type DeliveryAnswer,
  type PushedImage,
} from '../lib/imagePushedEvent.js';

interface Version extends PushedImage {
  /** Ids of the events sent for it, for redeliveries. */
  ids: string[];
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const loadPart: BenchPart = {
  name: 'load',
  summary: 'the webhook under load: deliveries at a fixed rate, most of them duplicates',
  options: {
    rate: { default: '100', help: 'deliveries per second' },
    seconds: { default: '30', help: 'how long to send' },
    versions: { default: '5', help: 'new versions of web pushed during the load' },
  },
  async run({ root, tmp, args, log }) {
    const rate = Math.max(1, Number(args['rate']) || 100);
    const seconds = Math.max(1, Number(args['seconds']) || 30);
    const versionCount = Math.max(1, Number(args['versions']) || 5);
    const stack = await startBenchStack({ root, tmp });
    try {
      // 1.0.0 first, deployed before the load; then one new version every total/versions deliveries, its image
      // pushed just before its first event (pushed earlier, the timer's catch-up would find it first).
      const versions: Version[] = Array.from({ length: versionCount + 1 }, (_, i) => ({
        repository: 'web',
        tag: `1.${i}.0`,
        digest: '',
        ids: [],
      }));
      const pushImage = async (v: Version) => void (v.digest = (await stack.push('web', v.tag)).digest);
      await pushImage(versions[0]!);
      const send = sender(stack);
      const first = await send(versions[0]!, false);
      if (first.status >= 300) throw new Error(`first delivery answered ${first.status}`);
      await settle(stack, versions[0]!.digest, 60);

      const hostPid = stack.hostPid;
      const rssBefore = rssMbOf(hostPid);
      const sampler = rssSampler(hostPid, 200);
      const since = (await requestLog(stack.control)).lastSeq;
      const total = rate * seconds;
      log(`sending ${total} deliveries at ${rate}/s (${versionCount} new versions, the rest duplicates)… `);
      const t0 = performance.now();
      const answered = await sendAtRate(send, pushImage, versions, total, rate);
      const sendSeconds = (performance.now() - t0) / 1000;
      log(`done in ${sendSeconds.toFixed(1)} s\n`);

      const newest = versions.at(-1)!;
      const app = await settle(stack, newest.digest, 140);
      const rssPeak = sampler.stop();
      const calls = await requestLog(stack.control, since);
      const figures = {
        load: {
          rate,
          seconds,
          deliveries: total,
          newVersions: versionCount,
          sendSeconds: round(sendSeconds),
        },
        answers: countStatuses(answered),
        latencyMs: latency(answered),
        hostRssMb: {
          before: round(rssBefore, 0),
          peak: round(rssPeak, 0),
          after: round(rssMbOf(hostPid), 0),
        },
        registriesGet: calls.counts['Registries_Get'] ?? 0,
        outcome: await outcomeOf(stack, app, newest),
        failures: stack.failures,
      };
      const ok =
        figures.outcome.newestServes &&
        figures.outcome.maxRolloutsPerDigest <= 1 &&
        !answered.some(failedAnswer);
      return { ok, figures, table: loadTable(figures) };
    } finally {
      await stack.stop();
    }
  },
};

/** One delivery of `v`: a new event, or (redelivery) one of its events again. */
function sender(stack: BenchStack) {
  let seq = 0;
  return (v: Version, redelivery: boolean): Promise<DeliveryAnswer> => {
    const again = redelivery && v.ids.length > 0;
    const id = again ? v.ids[Math.floor(Math.random() * v.ids.length)]! : `load-${++seq}`;
    if (!again) v.ids.push(id);
    return deliver(stack.webhookUrl, [imagePushedEvent(id, v, stack.registry, new Date())]);
  };
}

async function sendAtRate(
  send: ReturnType<typeof sender>,
  pushImage: (v: Version) => Promise<void>,
  versions: Version[],
  total: number,
  rate: number,
): Promise<DeliveryAnswer[]> {
  const versionCount = versions.length - 1;
  const every = Math.max(1, Math.floor(total / versionCount));
  const results: Array<Promise<DeliveryAnswer>> = [];
  const t0 = performance.now();
  for (let n = 0; n < total; n++) {
    const wait = t0 + (n * 1000) / rate - performance.now();
    if (wait > 0) await pause(wait);
    const introduced = Math.min(versionCount, Math.floor(n / every)) + 1;
    const fresh = n % every === 0 && n / every < versionCount;
    const v = fresh ? versions[introduced]! : versions[Math.floor(Math.random() * introduced)]!;
    if (fresh) await pushImage(v);
    results.push(send(v, !fresh && Math.random() < 0.5));
  }
  return Promise.all(results);
}

/** The timer finishes what the deliveries' budgets left: until `web` has settled on the digest. */
async function settle(stack: BenchStack, digest: string, tries: number): Promise<AppView> {
  let app = await stack.appStatus('web');
  for (let i = 0; i < tries && !settledOn(app, digest); i++) {
    await stack.runTimer();
    await pause(1_000);
    app = await stack.appStatus('web');
  }
  return app;
}

function latency(answered: DeliveryAnswer[]) {
  const ms = answered.map((a) => a.ms);
  return {
    median: Math.round(percentile(ms, 50)),
    p99: Math.round(percentile(ms, 99)),
    max: Math.round(Math.max(0, ...ms)),
  };
}

async function outcomeOf(stack: BenchStack, app: AppView, newest: Version) {
  const pushRollouts = app.history.filter((h) => h.kind === 'push');
  const perDigest = new Map<string, number>();
  for (const h of pushRollouts) perDigest.set(h.digest, (perDigest.get(h.digest) ?? 0) + 1);
  const groups = await stack.control.call<{ value: Array<{ name: string }> }>(
    'GET',
    '/_emulator/containerGroups',
  );
  return {
    newestServes: app.digest === newest.digest,
    pushRollouts: pushRollouts.length,
    maxRolloutsPerDigest: Math.max(0, ...perDigest.values()),
    groups: groups.body.value.map((g) => g.name).filter((n) => n.startsWith('web-')),
    history: app.history.map((h) => `${h.tag} ${h.kind} ${h.outcome}`),
    ignored: app.ignored.map((i) => `${i.tag}: ${i.reason}`.slice(0, 160)),
  };
}

type LoadFigures = {
  load: { deliveries: number; sendSeconds: number };
  answers: Record<string, number>;
  latencyMs: { median: number; p99: number; max: number };
  hostRssMb: { before: number; peak: number; after: number };
  registriesGet: number;
  outcome: Awaited<ReturnType<typeof outcomeOf>>;
};

function loadTable(f: LoadFigures): string {
  const answers = Object.entries(f.answers)
    .map(([s, n]) => `${n} × ${s}`)
    .join(', ');
  return [
    textTable([
      [
        'deliveries',
        'answers',
        'latency ms (median / p99 / max)',
        'host RSS MB (before / peak / after)',
        'Registries_Get',
      ],
      [
        `${f.load.deliveries} in ${f.load.sendSeconds} s`,
        answers,
        `${f.latencyMs.median} / ${f.latencyMs.p99} / ${f.latencyMs.max}`,
        `${f.hostRssMb.before} / ${f.hostRssMb.peak} / ${f.hostRssMb.after}`,
        String(f.registriesGet),
      ],
    ]),
    `newest serves: ${f.outcome.newestServes}; push rollouts ${f.outcome.pushRollouts} (at most ${f.outcome.maxRolloutsPerDigest} per digest); history: ${f.outcome.history.join(', ')}; groups: ${f.outcome.groups.join(', ')}`,
  ].join('\n');
}
