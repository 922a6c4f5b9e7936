/**
 * Azure's own CLI pointed at the emulator, as a user would point it at a private cloud: Debian's `azure-cli` 2.45
 * (`bash .ci/install-azure-cli.sh`) with a profile of its own (AZURE_CONFIG_DIR), a custom cloud registered from
 * the emulator's ARM endpoint (`az cloud register` reads ARM's /metadata/endpoints), the emulator's CA trusted
 * through REQUESTS_CA_BUNDLE and its managed identity through MSI_ENDPOINT. Shared by the az integration test
 * (test/integration/emulator/azureCli.test.ts) and the sidecar benchmark (bench/parts/sidecar.ts).
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const AZURE_CLI_INSTALL_HINT =
  'install it with `bash .ci/install-azure-cli.sh` (Debian package azure-cli)';

export type AzureCliProbe = { ok: true; version: string; path: string } | { ok: false; reason: string };

/** The installed az's version and path, or why there is none. Blocking: call it before starting servers. */
export function probeAzureCli(): AzureCliProbe {
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'az-probe-'));
  try {
    const probe = spawnSync('az', ['version', '--output', 'json'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { PATH: process.env['PATH'] ?? '', HOME: os.homedir(), AZURE_CONFIG_DIR: configDir },
    });
    if (probe.error) return { ok: false, reason: `az could not be run (${probe.error.message})` };
    if (probe.status !== 0)
      return { ok: false, reason: `az version exited ${probe.status}: ${probe.stderr}` };
    const version = (JSON.parse(probe.stdout) as Record<string, string>)['azure-cli'] ?? '?';
    const where = spawnSync('sh', ['-c', 'command -v az'], { encoding: 'utf8' }).stdout.trim();
    return { ok: true, version, path: where || 'az' };
  } finally {
    fs.rmSync(configDir, { recursive: true, force: true });
  }
}

export interface AzureCliProfileOptions {
  /** AZURE_CONFIG_DIR: nothing of the user's own az login is read or changed. */
  configDir: string;
  /** The emulator's CA certificate (stack.json `caCertPath`). */
  caCertPath: string;
  /** The emulator's managed-identity endpoint for az 2.45 (stack.json `msiEndpoint`). */
  msiEndpoint: string;
}

/** The environment every az call of a profile runs with (nothing else of this process's environment). */
export function azureCliEnvironment(options: AzureCliProfileOptions): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'] ?? '',
    HOME: os.homedir(),
    LANG: 'C.UTF-8',
    AZURE_CONFIG_DIR: options.configDir,
    // The emulator's CA, for az's Python requests (it reads no NODE_EXTRA_CA_CERTS).
    REQUESTS_CA_BUNDLE: options.caCertPath,
    // `az login --identity` in 2.45 asks MSI_ENDPOINT (POST, Metadata: true), the emulator's identity service.
    MSI_ENDPOINT: options.msiEndpoint,
    AZURE_CORE_COLLECT_TELEMETRY: 'false',
    AZURE_CORE_NO_COLOR: 'true',
    AZURE_CORE_ONLY_SHOW_ERRORS: 'true',
  };
}

export interface AzResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs az with a profile's environment; never throws on a non-zero exit (the caller decides). Asynchronous on
 * purpose: an emulator answering az may run in the calling process.
 */
export function runAz(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 110_000): Promise<AzResult> {
  return new Promise((resolve) => {
    execFile('az', args, { env, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Registers the emulator as the profile's cloud and logs in with its managed identity, as a sidecar does once. */
export async function loginToEmulator(
  env: NodeJS.ProcessEnv,
  cloudName: string,
  armEndpoint: string,
): Promise<void> {
  const steps = [
    ['cloud', 'register', '--name', cloudName, '--endpoint-resource-manager', armEndpoint],
    ['cloud', 'set', '--name', cloudName],
    ['login', '--identity', '--output', 'none'],
  ];
  for (const args of steps) {
    const result = await runAz(env, args);
    if (result.code !== 0) throw new Error(`az ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  }
}
