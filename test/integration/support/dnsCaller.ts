/**
 * A caller of a blue/green app that knows it only by its DNS name, as a VM or an App Service app in the VNet does:
 * it resolves the name through a DNS server (Node's resolver over UDP; the emulator's, stack.json `dnsServer`),
 * keeps the answer exactly as long as its TTL, then resolves again, and calls `http://{ip}:{port}{path}` every
 * `intervalMs` (default 200 ms). It records every lookup and counts successes, failures and the digests that
 * answered, so a test can say "zero failed calls across a rollout" and "the first lookup after the repair got the
 * new address".
 */
import dns from 'node:dns';
import { sleep } from '../../support/waiting.js';

export interface DnsCallerOptions {
  name: string;
  /** `host:port` of the DNS server. */
  server: string;
  port: number;
  path?: string;
  intervalMs?: number;
  requestTimeoutMs?: number;
}

export interface Lookup {
  at: number;
  ip: string | null;
  ttl?: number;
  error?: string;
}

export interface CallRecord {
  at: number;
  ip: string;
  ok: boolean;
  digest?: string;
  error?: string;
}

export interface DnsCaller {
  readonly lookups: readonly Lookup[];
  readonly calls: readonly CallRecord[];
  stop(): Promise<void>;
}

async function callOnce(ip: string, o: DnsCallerOptions): Promise<CallRecord> {
  const at = Date.now();
  try {
    const res = await fetch(`http://${ip}:${o.port}${o.path ?? '/'}`, {
      signal: AbortSignal.timeout(o.requestTimeoutMs ?? 2_000),
    });
    const body = (await res.json().catch(() => ({}))) as { digest?: unknown };
    const digest = typeof body.digest === 'string' ? body.digest : undefined;
    return { at, ip, ok: res.status === 200 && digest !== undefined, ...(digest ? { digest } : {}) };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    return { at, ip, ok: false, error: cause?.code ?? (e as Error).message };
  }
}

/** Starts once the first lookup answered (throws if it does not). */
export async function startDnsCaller(options: DnsCallerOptions): Promise<DnsCaller> {
  const resolver = new dns.promises.Resolver({ timeout: 1_000, tries: 2 });
  resolver.setServers([options.server]);
  const lookups: Lookup[] = [];
  const calls: CallRecord[] = [];
  let ip: string | null = null;
  let expiresAt = 0;

  const lookup = async () => {
    const at = Date.now();
    try {
      const [first] = await resolver.resolve4(options.name, { ttl: true });
      if (!first) throw new Error('no address');
      ip = first.address;
      expiresAt = at + first.ttl * 1000;
      lookups.push({ at, ip, ttl: first.ttl });
    } catch (e) {
      expiresAt = 0;
      lookups.push({ at, ip, error: (e as Error).message });
    }
  };

  await lookup();
  if (!ip) throw new Error(`${options.name} did not resolve: ${lookups[0]?.error}`);
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      if (Date.now() >= expiresAt) await lookup();
      if (ip) calls.push(await callOnce(ip, options));
      await sleep(options.intervalMs ?? 200);
    }
  })();
  return {
    lookups,
    calls,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
