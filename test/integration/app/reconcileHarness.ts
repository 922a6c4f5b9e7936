/**
 * What the reconcile acceptance tests (reconcile*.test.ts) share: the local stack (support/stack.ts) running the
 * built app with a chosen APPS_CONFIG and RECONCILE_SCHEDULE, the test's own SDK clients (ACI, Key Vault) with the
 * emulator's managed identity, the status API, and ways to wait for timer ticks.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { ContainerInstanceManagementClient, type ContainerGroup } from '@azure/arm-containerinstance';
import { TableClient } from '@azure/data-tables';
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { sampleAppsConfig } from '../../../scripts/lib/sampleConfig.js';
import { TableRolloutStore } from '../../../src/adapters/rolloutStore.js';
import type { ReconcileResult } from '../../../src/domain/model.js';
import type { StatusDocument } from '../../../src/domain/statusDocument.js';
import { useManagedIdentity } from '../support/emulator.js';
import { sleep, waitFor } from '../../support/waiting.js';
import { NEVER_SCHEDULE, startTestStack, type TestStack, type TestStackOptions } from '../support/stack.js';

export const SUB = '00000000-0000-0000-0000-000000000001';
export const ARM_SCOPE = 'https://management.azure.com/.default';
/** Every second second: "a few seconds locally" (the issue); a tick is at most ~2 s away. */
export const FAST_SCHEDULE = '*/2 * * * * *';
export const TICK_MS = 2_000;

export const subnetId = (subnet: string, vnet = 'vnet-apps') =>
  `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/${vnet}/subnets/${subnet}`;

export type SampleConfig = ReturnType<typeof sampleAppsConfig> & {
  apps: Array<Record<string, unknown>>;
  watch: { resourceGroups: string[]; vaultUrl: string; groups: unknown[] };
  reconcile?: { orphanGraceSeconds?: number; writeConcurrency?: number; secretAuditSeconds?: number };
};

export type LastReconcile = NonNullable<StatusDocument['lastReconcile']>;

export type CallResult =
  { ok: true; status: number; body: Record<string, unknown> } | { ok: false; error: string };

/** What a caller of the group does: HTTP GET on the private IP (the emulated container answers any path). */
export function callIp(ip: string, port = 8080, timeoutMs = 3_000): Promise<CallResult> {
  return new Promise((resolve) => {
    const req = http.get({ host: ip, port, path: '/', timeout: timeoutMs, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { text };
        }
        resolve({ ok: true, status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error('ETIMEDOUT')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, error: e.code ?? e.message }));
  });
}

export interface HarnessOptions {
  /** RECONCILE_SCHEDULE (default FAST_SCHEDULE). */
  schedule?: string;
  /** Change the sample APPS_CONFIG (app `web`, watched rg-apps + rg-legacy/legacy-worker) before the start. */
  configure?: (config: SampleConfig) => void;
  env?: Record<string, string>;
  emulator?: TestStackOptions['emulator'];
}

export interface Harness {
  stack: TestStack;
  config: SampleConfig;
  /** This harness's own subnet id (the app's and createGroup's): its emulated /24 is shared with nobody. */
  subnetId: string;
  aci: ContainerInstanceManagementClient;
  /** kv-apps, the vault of the sample app and of tagged groups. */
  vault: SecretClient;
  vaultUrl: string;
  /** The app's rollout table in Azurite, read directly (no emulator traffic, unlike GET /api/status). */
  store: TableRolloutStore;
  status(): Promise<StatusDocument>;
  /**
   * Runs one reconcile tick now (the host's admin route, as `POST /admin/functions/reconcile` in Azure) and
   * resolves with its result as the app stored it, read from the table (no Key Vault or ARM traffic, so the
   * emulator's request log between two ticks holds only the tick's own calls). For harnesses started with
   * NEVER_SCHEDULE: a scheduled tick could otherwise be the one observed.
   */
  tickNow(timeoutMs?: number): Promise<ReconcileResult>;
  /** The first tick that started after `afterMs` (epoch ms), as status reports it once it has finished. */
  tickAfter(afterMs: number, timeoutMs?: number): Promise<LastReconcile>;
  /** Latest value/version of a secret (undefined when it does not exist); retries Key Vault throttling. */
  readSecret(
    name: string,
  ): Promise<
    { value: string | undefined; version: string | undefined; tags: Record<string, string> } | undefined
  >;
  /** Platform maintenance on a group (emulator control API): new IP, the old one refuses connections. */
  maintenance(resourceGroup: string, name: string): Promise<{ oldIp: string; newIp: string }>;
  /** The group as the emulator sees it right now (control API: no ARM call, nothing in the request log's ARM ops). */
  emulatorGroup(
    resourceGroup: string,
    name: string,
  ): Promise<{ provisioningState: string; state: string; ip: string | null } | undefined>;
  push(tag: string, behavior?: string): Promise<{ digest: string }>;
  /** A private group created through the ACI SDK (waits for the LRO). */
  createGroup(resourceGroup: string, name: string, tags: Record<string, string>): Promise<ContainerGroup>;
  stop(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  // Each subnet id maps to its own emulated 127.x.y.0/24. Other emulators on this machine (parallel test files,
  // `npm start`, demos) use the sample's subnet: an address this test frees could be taken by one of them, and a
  // "the old IP refuses connections" check would then fail for the wrong reason.
  const subnet = subnetId(`reconcile-it-${crypto.randomBytes(4).toString('hex')}`);
  let config: SampleConfig | undefined;
  const stack = await startTestStack({
    // APPS_CONFIG's vault URLs carry the emulator's port: built once the emulator has started.
    appsConfig: ({ subscriptionId, keyVaultUrlTemplate }) => {
      config = sampleAppsConfig({ subscriptionId, keyVaultUrlTemplate }) as SampleConfig;
      // Reconcile's tests work on the sample's `web` as a plain blue/green: no check after the switch, no kept
      // previous group (operator features have their own tests, test/integration/app/operatorActions.test.ts).
      config.apps = config.apps.filter((a) => a['name'] === 'web');
      for (const app of config.apps) {
        app['subnetId'] = subnet;
        delete app['verify'];
        delete app['rollbackWindowSeconds'];
      }
      options.configure?.(config);
      return config;
    },
    reconcileSchedule: options.schedule ?? FAST_SCHEDULE,
    ...(options.emulator ? { emulator: options.emulator } : {}),
    // Status caches its live listings for STATUS_CACHE_SECONDS (default 5); these tests compare it with what
    // they changed a moment ago.
    // Ticks on demand (NEVER_SCHEDULE, startTicker) stand for the 2 s timer: the same 1 s rollout slice, so a tick
    // returns from a health gate or a drain instead of waiting in it for the default 20 s.
    env: {
      STATUS_CACHE_SECONDS: '0',
      ...(options.schedule === NEVER_SCHEDULE ? { RECONCILE_ROLLOUT_SLICE_SECONDS: '1' } : {}),
      ...options.env,
    },
  });
  return harnessFor(stack, config!, subnet);
}

function harnessFor(stack: TestStack, config: SampleConfig, subnet: string): Harness {
  const restoreIdentity = useManagedIdentity(stack.emulator);
  const credential = new DefaultAzureCredential();
  const aci = new ContainerInstanceManagementClient(credential, SUB, {
    endpoint: stack.emulator.url,
    credentialScopes: [ARM_SCOPE],
  });
  const vaultUrl = stack.emulator.vaultUrl('kv-apps');
  const vault = new SecretClient(vaultUrl, credential);

  const status = async (): Promise<StatusDocument> => {
    const res = await stack.call('/api/status');
    if (res.status !== 200) throw new Error(`GET /api/status: ${res.status} ${await res.text()}`);
    return (await res.json()) as StatusDocument;
  };

  const harness: Harness = {
    stack,
    config,
    subnetId: subnet,
    aci,
    vault,
    vaultUrl,
    store: new TableRolloutStore(
      TableClient.fromConnectionString(stack.storage.connectionString, 'rollouts', {
        allowInsecureConnection: true,
      }),
    ),
    status,
    async tickNow(timeoutMs = 30_000) {
      const requestedAt = Date.now();
      // 409 while a run of the timer is still in progress (one at a time, as in Azure): ask again.
      await waitFor(
        'the reconcile timer to accept a run',
        () => stack.runFunction('reconcile').then(() => true),
        {
          timeoutMs,
          intervalMs: 100,
        },
      );
      return waitFor(
        'the requested reconcile tick to be recorded',
        async () => {
          const lr = await harness.store.getLastReconcile();
          return lr && Date.parse(lr.at) >= requestedAt ? lr : undefined;
        },
        { timeoutMs, intervalMs: 50 },
      );
    },
    tickAfter: (afterMs, timeoutMs = 30_000) =>
      waitFor(
        `a reconcile tick started after ${new Date(afterMs).toISOString()}`,
        async () => {
          const lr = (await status()).lastReconcile;
          return lr && Date.parse(lr.at) > afterMs ? lr : undefined;
        },
        { timeoutMs, intervalMs: 100 },
      ),
    async readSecret(name) {
      for (let attempt = 0; ; attempt++) {
        try {
          const s = await vault.getSecret(name);
          return { value: s.value, version: s.properties.version, tags: { ...(s.properties.tags ?? {}) } };
        } catch (e) {
          const status = (e as { statusCode?: number }).statusCode;
          if (status === 404) return undefined;
          // A caller reading through throttling retries (the SDK does not retry a 429 without Retry-After).
          if (status === 429 && attempt < 20) {
            await sleep(50);
            continue;
          }
          throw e;
        }
      }
    },
    async maintenance(resourceGroup, name) {
      const res = await stack.emulator.control<{ oldIp: string; newIp: string }>(
        'POST',
        '/_emulator/maintenance',
        { resourceGroup, name },
      );
      if (res.status !== 200) throw new Error(`maintenance ${resourceGroup}/${name}: ${res.status}`);
      return res.body;
    },
    async emulatorGroup(resourceGroup, name) {
      const res = await stack.emulator.control<{
        value: Array<{
          resourceGroup: string;
          name: string;
          provisioningState: string;
          state: string;
          ip: string | null;
        }>;
      }>('GET', '/_emulator/containerGroups');
      const g = res.body.value.find(
        (x) => x.resourceGroup.toLowerCase() === resourceGroup.toLowerCase() && x.name === name,
      );
      return g ? { provisioningState: g.provisioningState, state: g.state, ip: g.ip } : undefined;
    },
    async push(tag, behavior) {
      const res = await stack.emulator.control<{ digest: string }>(
        'POST',
        '/_emulator/registries/contoso/push',
        {
          repository: 'web',
          tag,
          ...(behavior ? { behavior } : {}),
        },
      );
      if (res.status !== 200) throw new Error(`push web:${tag}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    createGroup(resourceGroup, name, tags) {
      return aci.containerGroups.beginCreateOrUpdateAndWait(
        resourceGroup,
        name,
        {
          location: 'westeurope',
          tags,
          osType: 'Linux',
          restartPolicy: 'Always',
          subnetIds: [{ id: subnet }],
          ipAddress: { type: 'Private', ports: [{ port: 8080, protocol: 'TCP' }] },
          containers: [
            {
              name: 'app',
              image: 'mcr.microsoft.com/azuredocs/aci-helloworld:latest',
              ports: [{ port: 8080 }],
              resources: { requests: { cpu: 0.5, memoryInGB: 1 } },
            },
          ],
        },
        { updateIntervalInMs: 200 },
      );
    },
    async stop() {
      restoreIdentity();
      await stack.stop();
    },
  };
  return harness;
}

export interface TickRecord<T> {
  result: ReconcileResult;
  /** What the observer saw right after this tick was recorded (before the next one starts). */
  seen: T;
}

/**
 * Runs reconcile ticks one after another on demand, as the timer would (for harnesses started with
 * NEVER_SCHEDULE), and records each tick's result with what `observe` saw right after it. Tests then assert on
 * the order of ticks and outcomes ("the first tick that started after the due time deleted it") instead of on
 * elapsed wall-clock time. A tick that cannot be started (the host is restarting) is asked for again.
 */
export function startTicker<T>(
  h: Harness,
  observe: () => Promise<T>,
  pauseMs = TICK_MS / 4,
): { ticks: Array<TickRecord<T>>; stop(): Promise<void> } {
  const ticks: Array<TickRecord<T>> = [];
  let stopped = false;
  let failure: unknown;
  const loop = (async () => {
    while (!stopped) {
      const result = await h.tickNow(60_000);
      ticks.push({ result, seen: await observe() });
      await sleep(pauseMs);
    }
  })().catch((e: unknown) => {
    failure = e;
  });
  return {
    ticks,
    /** Stops after the tick in progress; throws what stopped the ticks early, if anything did. */
    async stop() {
      stopped = true;
      await loop;
      if (failure) throw failure;
    },
  };
}

/** Waits until the app's rollout of `tag` has finished (any outcome) and returns the app's status. */
export async function rolloutFinished(
  h: Harness,
  app: string,
  tag: string,
  timeoutMs = 60_000,
): Promise<StatusDocument['apps'][number]> {
  return waitFor(
    `the rollout of ${app}:${tag} to finish`,
    async () => {
      const a = (await h.status()).apps.find((x) => x.name === app);
      return a?.rollout?.tag === tag && a.rollout.state !== 'inProgress' ? a : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}
