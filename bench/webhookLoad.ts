/**
 * `npm run bench:load`: the webhook under load (issue 16). Azurite, the emulator and the functions host (the built
 * app, the sample configuration) run as child processes; this process sends Event Grid deliveries straight to the
 * host's webhook at a fixed rate (default 100 per second for 30 s), one event per delivery as the subscription
 * sends them. A new version of `web` is pushed every few seconds (its image really exists in the emulated
 * registry); every other delivery repeats one already sent: half of them the same event again (a redelivery),
 * half a new event for the same digest (a second push of the tag). Then the reconcile timer runs until nothing is
 * left to do.
 *
 * Reported: answers by status, answer latency (median, p99, max), the host's resident memory (before, peak,
 * after), the ARM `Registries_Get` calls (duplicates should make none), and the outcome: every version started at
 * most one rollout, none was lost (the newest serves), no group left over. Writes bench/results/webhook-load.json.
 * A measurement, not a test: it fails only when the outcome is wrong (lost push, doubled rollout, 5xx).
 *
 *   npm run bench:load [-- --rate 100 --seconds 30 --versions 5]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import { ensureCa } from '../emulator/src/core/ca.js';
import { installLocalhostResolver } from '../emulator/src/localhostDns.js';
import { startLocalStack, type EmulatorReady } from '../scripts/lib/localStack.js';
import { readyLine, startService, stopAllServices } from '../scripts/lib/services.js';
import { controlClient, requestLog } from './lib/emulatorControl.js';

const ROOT = path.resolve('.');
const REEXEC_MARKER = 'BENCH_REEXEC';
const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '30' },
    versions: { type: 'string', default: '5' },
    out: { type: 'string', default: 'bench/results/webhook-load.json' },
  },
});

const ca = ensureCa(path.join(ROOT, '.local/ca'));
if (process.env['NODE_EXTRA_CA_CERTS'] !== ca.certPath && !process.env[REEXEC_MARKER]) {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: ca.certPath, [REEXEC_MARKER]: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  await main();
}

function rssMb(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;
}

interface AppView {
  digest: string | null;
  rollout: { state: string } | null;
  history: Array<{ digest: string; kind: string; outcome: string; tag: string }>;
  ignored: Array<{ tag: string; reason: string }>;
  pendingDeletions: unknown[];
  queued: unknown;
}

interface Version {
  tag: string;
  digest: string;
  /** Ids of the events sent for it, for redeliveries. */
  ids: string[];
}

function imagePushed(
  id: string,
  v: Version,
  registry: { resourceId: string; loginServer: string },
  at: Date,
): unknown {
  return {
    id,
    topic: registry.resourceId,
    subject: `web:${v.tag}`,
    eventType: 'Microsoft.ContainerRegistry.ImagePushed',
    eventTime: at.toISOString(),
    dataVersion: '2.0',
    metadataVersion: '1',
    data: {
      id,
      timestamp: at.toISOString(),
      action: 'push',
      target: {
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        digest: v.digest,
        repository: 'web',
        tag: v.tag,
      },
      request: { id, host: registry.loginServer, method: 'PUT', useragent: 'bench' },
    },
  };
}

async function main(): Promise<void> {
  const rate = Math.max(1, Number(args.rate) || 100);
  const seconds = Math.max(1, Number(args.seconds) || 30);
  const versionCount = Math.max(1, Number(args.versions) || 5);
  installLocalhostResolver();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aci-load-'));
  const quiet = () => {};
  /** Host lines about failed deliveries (kept for the report: they say why a delivery answered 5xx). */
  const failures: string[] = [];
  const onLine = (service: string, line: string) => {
    if (
      service === 'host' &&
      /transient failure|unexpected failure|failed, not retried/.test(line) &&
      failures.length < 10
    )
      failures.push(line);
  };
  try {
    const local = await startLocalStack({
      rootDir: ROOT,
      azurite: {},
      emulator: async () => {
        const service = await startService<{ stack: EmulatorReady }>({
          name: 'emulator',
          command: process.execPath,
          args: ['--import', 'tsx', 'bench/lib/emulatorProcess.ts', path.join(tmp, 'emulator')],
          cwd: ROOT,
          ready: readyLine('BENCH_EMULATOR_READY'),
          onLine: quiet,
          readyTimeoutMs: 60_000,
        });
        return {
          ready: service.ready.stack,
          pid: service.pid,
          stop: async () => void (await service.stop()),
        };
      },
      host: {
        port: 0,
        stateDir: path.join(tmp, 'host'),
        settingsFile: path.join(tmp, 'local.settings.json'),
        emptySettings: true,
      },
      reconcileSchedule: '0 0 0 1 1 *',
      subscribe: false,
      onLine,
    });
    const emu = local.emulator.ready;
    const control = controlClient(emu.emulatorUrl);
    const registry = {
      resourceId: String(emu['registryResourceId']),
      loginServer: String(emu['registryLoginServer']),
    };
    const host = local.host.ready;
    const webhook = `${host.baseUrl}/runtime/webhooks/eventgrid?functionName=onImagePushed&code=${encodeURIComponent(host.systemKey)}`;
    const runTimer = () =>
      fetch(`${host.baseUrl}/admin/functions/reconcile`, {
        method: 'POST',
        headers: { 'x-functions-key': host.masterKey, 'content-type': 'application/json' },
        body: '{}',
      });

    // Deploy 1.0.0 first (no subscription: this bench sends every delivery itself).
    const versions: Version[] = [];
    for (let i = 0; i <= versionCount; i++) {
      const res = await control.call<{ digest: string }>(
        'POST',
        `/_emulator/registries/${String(emu['registryName'])}/push`,
        { repository: 'web', tag: `1.${i}.0` },
      );
      if (res.status !== 200) throw new Error(`push 1.${i}.0: ${res.status}`);
      versions.push({ tag: `1.${i}.0`, digest: res.body.digest, ids: [] });
    }
    let seq = 0;
    const send = async (v: Version, redelivery: boolean) => {
      const id =
        redelivery && v.ids.length ? v.ids[Math.floor(Math.random() * v.ids.length)]! : `load-${++seq}`;
      if (!redelivery || !v.ids.length) v.ids.push(id);
      const started = performance.now();
      const res = await fetch(webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
        body: JSON.stringify([imagePushed(id, v, registry, new Date())]),
      });
      await res.arrayBuffer();
      return { status: res.status, ms: performance.now() - started };
    };
    const appStatus = async () => {
      const res = await fetch(`${host.baseUrl}/api/status/web`, {
        headers: { 'x-functions-key': host.functionKey ?? '' },
      });
      return (await res.json()) as AppView;
    };
    const first = await send(versions[0]!, false);
    if (first.status >= 300) throw new Error(`first delivery answered ${first.status}`);
    for (let i = 0; i < 60 && (await appStatus()).rollout?.state !== 'succeeded'; i++) {
      await runTimer();
      await new Promise((r) => setTimeout(r, 1_000));
    }

    const hostPid = local.host.pid;
    const rssBefore = rssMb(hostPid);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMb(hostPid))), 200);
    const since = (await requestLog(control)).lastSeq;
    const total = rate * seconds;
    const every = Math.max(1, Math.floor(total / versionCount));
    const results: Array<Promise<{ status: number; ms: number }>> = [];
    const t0 = performance.now();
    process.stdout.write(
      `sending ${total} deliveries at ${rate}/s (${versionCount} new versions, the rest duplicates)… `,
    );
    for (let n = 0; n < total; n++) {
      const due = t0 + (n * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const introduced = Math.min(versionCount, Math.floor(n / every)) + 1;
      const fresh = n % every === 0 && n / every < versionCount;
      const v = fresh ? versions[introduced]! : versions[Math.floor(Math.random() * introduced)]!;
      results.push(send(v, !fresh && Math.random() < 0.5).catch(() => ({ status: 0, ms: 0 })));
    }
    const answered = await Promise.all(results);
    const sendSeconds = (performance.now() - t0) / 1000;
    console.log(`done in ${sendSeconds.toFixed(1)} s`);

    // The timer finishes what the deliveries' budgets left.
    const newest = versions.at(-1)!;
    let app: AppView | undefined;
    for (let i = 0; i < 120; i++) {
      await runTimer();
      await new Promise((r) => setTimeout(r, 1_000));
      app = await appStatus();
      if (
        app.digest === newest.digest &&
        app.rollout?.state !== 'inProgress' &&
        !app.queued &&
        app.pendingDeletions.length === 0
      )
        break;
    }
    // History rows are written just after the rollout ends (its outbox): until the newest is there.
    for (let i = 0; i < 20 && !app?.history.some((h) => h.digest === newest.digest); i++) {
      await runTimer();
      await new Promise((r) => setTimeout(r, 1_000));
      app = await appStatus();
    }
    clearInterval(sampler);
    const rssAfter = rssMb(hostPid);
    const log = await requestLog(control, since);
    const statuses: Record<string, number> = {};
    for (const a of answered) statuses[String(a.status)] = (statuses[String(a.status)] ?? 0) + 1;
    const ms = answered.map((a) => a.ms).sort((a, b) => a - b);
    const pushRollouts = (app?.history ?? []).filter((h) => h.kind === 'push');
    const perDigest = new Map<string, number>();
    for (const h of pushRollouts) perDigest.set(h.digest, (perDigest.get(h.digest) ?? 0) + 1);
    const groups = await control.call<{ value: Array<{ name: string }> }>(
      'GET',
      '/_emulator/containerGroups',
    );
    const webGroups = groups.body.value.map((g) => g.name).filter((n) => n.startsWith('web-'));
    const output = {
      generatedAt: new Date().toISOString(),
      command: `npm run bench:load${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      machine: { node: process.version, platform: `${os.platform()} ${os.arch()}`, cpus: os.cpus().length },
      load: {
        rate,
        seconds,
        deliveries: total,
        newVersions: versionCount,
        sendSeconds: Number(sendSeconds.toFixed(1)),
      },
      answers: statuses,
      latencyMs: {
        median: Math.round(percentile(ms, 50)),
        p99: Math.round(percentile(ms, 99)),
        max: Math.round(ms.at(-1) ?? 0),
      },
      hostRssMb: { before: Math.round(rssBefore), peak: Math.round(rssPeak), after: Math.round(rssAfter) },
      registriesGet: log.counts['Registries_Get'] ?? 0,
      outcome: {
        newestServes: app?.digest === newest.digest,
        pushRollouts: pushRollouts.length,
        maxRolloutsPerDigest: Math.max(0, ...perDigest.values()),
        groups: webGroups,
        history: (app?.history ?? []).map((h) => `${h.tag} ${h.kind} ${h.outcome}`),
        ignored: (app?.ignored ?? []).map((i) => `${i.tag}: ${i.reason}`.slice(0, 160)),
      },
      failures,
    };
    console.log(JSON.stringify(output, null, 2));
    const out = path.resolve(args.out);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const options = (await prettier.resolveConfig(out)) ?? {};
    fs.writeFileSync(out, await prettier.format(JSON.stringify(output), { ...options, parser: 'json' }));
    const wrong =
      !output.outcome.newestServes ||
      output.outcome.maxRolloutsPerDigest > 1 ||
      Object.keys(statuses).some((s) => Number(s) >= 500 || s === '0');
    if (wrong) {
      console.error('the outcome is wrong: a push was lost or doubled, or a delivery failed');
      process.exitCode = 1;
    }
    await local.stop();
  } finally {
    await stopAllServices();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
