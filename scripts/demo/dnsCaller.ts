/**
 * The demo's DNS caller: what an app in the VNet that calls the container by name does. It resolves the name through
 * the emulator's DNS server (Node's resolver, UDP, as a VM asks Azure's resolver) and keeps the answer exactly as
 * long as its TTL says, then resolves again; meanwhile it calls http://{ip}:{port}{path} several times a second.
 * No other cache: the sample counts no caller cache on top of the TTL (scripts/lib/sampleConfig.ts, SAMPLE_DNS).
 * Every observation is one `CALLER {json}` line on stdout (callerProtocol.ts).
 *
 *   CALLER_DNS_NAME (web.apps.internal), CALLER_DNS_SERVER (host:port, stack.json's dnsServer), CALLER_PORT (8080),
 *   CALLER_PATH (/), CALLER_INTERVAL_MS (250)
 */
import dns from 'node:dns';
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
  const name = env('CALLER_DNS_NAME', 'web.apps.internal');
  const resolver = new dns.promises.Resolver({ timeout: 1_000, tries: 2 });
  resolver.setServers([env('CALLER_DNS_SERVER')]);
  const port = Number(env('CALLER_PORT', '8080'));
  const path = env('CALLER_PATH', '/');
  const intervalMs = Number(env('CALLER_INTERVAL_MS', '250'));

  let ip: string | null = null;
  let expiresAt = 0;
  let stopped = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => (stopped = true));

  const resolve = async () => {
    const started = Date.now();
    try {
      const [first] = await resolver.resolve4(name, { ttl: true });
      if (!first) throw new Error('no address');
      ip = first.address;
      expiresAt = started + first.ttl * 1000;
      emit({ kind: 'resolve', at: started, name, ip, ttl: first.ttl, ms: Date.now() - started });
    } catch (err) {
      // Try again at the next call; keep calling the last address meanwhile.
      expiresAt = 0;
      emit({
        kind: 'resolve',
        at: started,
        name,
        ip,
        ms: Date.now() - started,
        error: (err as Error).message,
      });
    }
  };

  await resolve();
  emit({ kind: 'ready', at: Date.now() });
  while (!stopped) {
    const tickStart = Date.now();
    if (tickStart >= expiresAt) await resolve();
    if (ip) emit(await callOnce(ip, port, path, Math.max(intervalMs * 4, 1000)));
    await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - tickStart))));
  }
}

main().catch((err: unknown) => {
  console.error(`DNS caller failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
