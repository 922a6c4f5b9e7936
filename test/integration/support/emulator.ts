/**
 * Starts a real emulator for one test file: fresh state in a temp dir, the shared CA, a free port and fast
 * timings. `useManagedIdentity()` points DefaultAzureCredential at its managed-identity endpoint the way App
 * Service does (IDENTITY_ENDPOINT + IDENTITY_HEADER).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmulator, type EmulatorHandle, type StartOptions } from '../../../emulator/src/server.js';

export interface TestEmulator extends EmulatorHandle {
  /** Calls the control API: `control('POST', '/_emulator/faults', {...})`. */
  control<T = unknown>(
    method: string,
    pathAndQuery: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  /** Request counts per operation since `since` (a lastSeq from an earlier call), from the request log. */
  requestCounts(since?: number): Promise<RequestCounts>;
  vaultUrl(name: string): string;
  stateDir: string;
}

/** The emulator's request log since a sequence number: calls per operation, and per "operation status". */
export interface RequestCounts {
  total: number;
  lastSeq: number;
  counts: Record<string, number>;
  statuses: Record<string, number>;
}

export async function startTestEmulator(options: StartOptions = {}): Promise<TestEmulator> {
  const stateDir = options.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'aci-emu-'));
  const handle = await startEmulator({
    port: 0,
    stateDir,
    caDir: path.resolve('.local/ca'),
    quiet: true,
    ...options,
    timings: {
      provisioningStepMs: 300,
      lroRetryAfterSeconds: 0,
      eventGridRetryScheduleMs: [200, 400, 800],
      // Azure's 30 s: a rollout may run ~20 s inside one delivery; a shorter timeout redelivers every rollout.
      eventGridDeliveryTimeoutMs: 30_000,
      ...options.timings,
    },
  });
  const control = async <T>(method: string, pathAndQuery: string, body?: unknown) => {
    const res = await fetch(`${handle.url}${pathAndQuery}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  return {
    ...handle,
    stateDir,
    control,
    async requestCounts(since = 0) {
      const res = await control<RequestCounts>('GET', `/_emulator/requests?since=${since}`);
      return res.body;
    },
    vaultUrl: (name) => `https://${name}.vault.localhost:${handle.port}`,
  };
}

/** Environment DefaultAzureCredential reads for the App Service managed identity. Returns a restore function. */
export function useManagedIdentity(emulator: EmulatorHandle): () => void {
  const saved = {
    IDENTITY_ENDPOINT: process.env['IDENTITY_ENDPOINT'],
    IDENTITY_HEADER: process.env['IDENTITY_HEADER'],
  };
  process.env['IDENTITY_ENDPOINT'] = String(emulator.stack['identityEndpoint']);
  process.env['IDENTITY_HEADER'] = String(emulator.stack['identityHeader']);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
