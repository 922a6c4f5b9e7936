/**
 * The demo's caller: what an App Service app in front of the container does. It re-reads the IP secret from Key
 * Vault every second with a real SecretClient (managed identity via IDENTITY_ENDPOINT/IDENTITY_HEADER, CA via
 * NODE_EXTRA_CA_CERTS: only the environment differs from Azure) and calls http://{ip}:{port}{path} several
 * times a second. Every observation is one line on stdout, `CALLER {json}` (callerProtocol.ts), for
 * scripts/demo.ts to count.
 *
 *   CALLER_VAULT_URL, CALLER_SECRET_NAME, CALLER_PORT (8080), CALLER_PATH (/), CALLER_INTERVAL_MS (250),
 *   CALLER_REFRESH_MS (1000)
 */
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { installLocalhostResolver } from '../../emulator/src/localhostDns.js';
import { CALLER_PREFIX, type CallerLine } from './callerProtocol.js';
import { callOnce } from './httpCall.js';

function env(name: string, fallback?: string): string {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === '') throw new Error(`${name} is not set`);
  return v;
}

function emit(line: CallerLine): void {
  process.stdout.write(`${CALLER_PREFIX}${JSON.stringify(line)}\n`);
}

async function main(): Promise<void> {
  installLocalhostResolver();
  const secrets = new SecretClient(env('CALLER_VAULT_URL'), new DefaultAzureCredential());
  const secretName = env('CALLER_SECRET_NAME');
  const port = Number(env('CALLER_PORT', '8080'));
  const path = env('CALLER_PATH', '/');
  const intervalMs = Number(env('CALLER_INTERVAL_MS', '250'));
  const refreshMs = Number(env('CALLER_REFRESH_MS', '1000'));

  let ip: string | null = null;
  let stopped = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => (stopped = true));

  const refresh = async () => {
    const started = Date.now();
    try {
      const secret = await secrets.getSecret(secretName);
      ip = secret.value ?? null;
      emit({ kind: 'secret', at: started, ip, ms: Date.now() - started });
    } catch (err) {
      // Keep calling the last known IP, as a caller with a cached setting would.
      emit({ kind: 'secret', at: started, ip, ms: Date.now() - started, error: (err as Error).message });
    }
  };

  await refresh();
  emit({ kind: 'ready', at: Date.now() });
  let nextRefresh = Date.now() + refreshMs;
  while (!stopped) {
    const tickStart = Date.now();
    if (tickStart >= nextRefresh) {
      nextRefresh = tickStart + refreshMs;
      await refresh();
    }
    if (ip) emit(await callOnce(ip, port, path, Math.max(intervalMs * 4, 1000)));
    await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - tickStart))));
  }
}

main().catch((err: unknown) => {
  console.error(`caller failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
