/**
 * The local stack as the webhook benchmarks run it (parts `load`, `rollout`, `storm`): Azurite, the emulator
 * (bench/lib/emulatorProcess.ts, its own process, so the figures of the host are the host's) and the functions host
 * running the built app, all child processes on free ports. No Event Grid subscription: the benchmark delivers
 * every event to the webhook itself, so it knows when each was sent. Timers never fire by themselves; `runTimer`
 * runs the reconcile timer when the benchmark wants it.
 */
import path from 'node:path';
import { startLocalStack, type EmulatorReady, type HostReady } from '../../scripts/lib/localStack.js';
import { readyLine, startService } from '../../scripts/lib/services.js';
import { appStatusReader, type AppStatusReader } from './appStatus.js';
import { controlClient, type Control } from './emulatorControl.js';
import type { RegistryRef } from './imagePushedEvent.js';

/** A schedule that never fires (1 January, midnight): the benchmark runs the timer itself. */
const NEVER = '0 0 0 1 1 *';

export interface BenchStackOptions {
  root: string;
  tmp: string;
  /** APPS_CONFIG for the started emulator (vault URLs carry its port); default the sample (`web`, `api`). */
  appsConfig?: (emulator: EmulatorReady) => unknown;
  /** Emulator timings to override (e.g. `{ provisioningStepMs: 500 }`). */
  timings?: Record<string, number>;
  /** Settings added to the host's environment (e.g. `NODE_OPTIONS: '--cpu-prof'` to profile it). */
  hostEnv?: Record<string, string>;
  /** Host lines about failed invocations land here (the first `keepFailures`), to say why a delivery got a 5xx. */
  keepFailures?: number;
}

export interface BenchStack extends AppStatusReader {
  emulator: EmulatorReady;
  /** The emulator's timings as it runs with them. */
  timings: Record<string, number>;
  control: Control;
  registry: RegistryRef;
  host: HostReady;
  hostPid: number;
  /** The Event Grid webhook of `onImagePushed`, with the extension's system key. */
  webhookUrl: string;
  /** Host lines reporting failed invocations (see `keepFailures`). */
  failures: string[];
  /** Runs the reconcile timer now (`POST /admin/functions/reconcile`, master key), unless a tick is running. */
  runTimer(): Promise<void>;
  /** Pushes an image to the emulated registry (no event is delivered: there is no subscription). */
  push(repository: string, tag: string): Promise<{ digest: string }>;
  stop(): Promise<void>;
}

const FAILURE_LINE = /transient failure|unexpected failure|failed, not retried|Executed .*\(Failed/;

export async function startBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  const { root, tmp } = options;
  const failures: string[] = [];
  const keep = options.keepFailures ?? 10;
  let timings: Record<string, number> = {};
  const local = await startLocalStack({
    rootDir: root,
    azurite: {},
    emulator: async () => {
      const args = ['--import', 'tsx', 'bench/lib/emulatorProcess.ts', path.join(tmp, 'emulator')];
      if (options.timings) args.push(JSON.stringify(options.timings));
      const service = await startService<{ stack: EmulatorReady; timings: Record<string, number> }>({
        name: 'emulator',
        command: process.execPath,
        args,
        cwd: root,
        ready: readyLine('BENCH_EMULATOR_READY'),
        onLine: () => {},
        readyTimeoutMs: 60_000,
      });
      timings = service.ready.timings;
      return { ready: service.ready.stack, pid: service.pid, stop: async () => void (await service.stop()) };
    },
    host: {
      port: 0,
      stateDir: path.join(tmp, 'host'),
      settingsFile: path.join(tmp, 'local.settings.json'),
      emptySettings: true,
    },
    ...(options.appsConfig ? { appsConfig: options.appsConfig } : {}),
    reconcileSchedule: NEVER,
    ...(options.hostEnv ? { env: () => options.hostEnv! } : {}),
    subscribe: false,
    onLine: (service, line) => {
      if (service === 'host' && FAILURE_LINE.test(line) && failures.length < keep) failures.push(line);
    },
  });
  const emulator = local.emulator.ready;
  const control = controlClient(emulator.emulatorUrl);
  const registryName = String(emulator['registryName']);
  const host = local.host.ready;
  return {
    emulator,
    timings,
    control,
    registry: {
      name: registryName,
      resourceId: String(emulator['registryResourceId']),
      loginServer: String(emulator['registryLoginServer']),
    },
    host,
    hostPid: local.host.pid,
    webhookUrl: `${host.baseUrl}/runtime/webhooks/eventgrid?functionName=onImagePushed&code=${encodeURIComponent(host.systemKey)}`,
    failures,
    ...appStatusReader(host.baseUrl, host.functionKey ?? ''),
    async runTimer() {
      const res = await fetch(`${host.baseUrl}/admin/functions/reconcile`, {
        method: 'POST',
        headers: { 'x-functions-key': host.masterKey, 'content-type': 'application/json' },
        body: '{}',
      });
      await res.arrayBuffer();
      // 409: a tick is running already (one at a time, as the timer's lease makes it in Azure): as good.
      if (res.status !== 202 && res.status !== 409) throw new Error(`reconcile timer: ${res.status}`);
    },
    async push(repository, tag) {
      const res = await control.call<{ digest: string }>(
        'POST',
        `/_emulator/registries/${registryName}/push`,
        { repository, tag },
      );
      if (res.status !== 200) throw new Error(`push ${repository}:${tag}: ${res.status}`);
      return res.body;
    },
    stop: () => local.stop(),
  };
}
