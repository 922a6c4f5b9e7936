/**
 * A caller of a blue/green app as the users run one (App Service, Functions): it reads the app's IP from its Key
 * Vault secret with a short reload interval (SecretClient, every `refreshMs`, default 1 s) and calls
 * `http://{ip}:{port}{path}` continuously, one request after another. It counts successes and failures and which
 * image digests answered, so a test can say "zero failed requests across a rollout, and both versions served".
 *
 * ```ts
 * const caller = await startCaller({ secrets: new SecretClient(vaultUrl, credential), secretName: 'web-ip', port: 8080 });
 * ... // push, wait for the rollout
 * const report = await caller.stop();
 * expect(report.failures).toBe(0);
 * ```
 * A failed secret read keeps the last IP (as a configuration provider with a reload interval does) and is counted
 * apart from failed requests.
 */
import { sleep } from '../../support/waiting.js';
import type { SecretClient } from '@azure/keyvault-secrets';

export interface CallerOptions {
  secrets: SecretClient;
  secretName: string;
  port: number;
  /** Default `/`. */
  path?: string;
  /** How often the secret is re-read (ms). Default 1000. */
  refreshMs?: number;
  /** Per request (ms). Default 2000. */
  requestTimeoutMs?: number;
  /** Pause between two requests (ms). Default 20. */
  pauseMs?: number;
}

export interface CallerFailure {
  at: string;
  ip: string;
  error: string;
}

export interface CallerReport {
  successes: number;
  failures: number;
  /** The first 20 failures, with the IP called and what went wrong. */
  failureSamples: CallerFailure[];
  /** Successful answers per image digest. */
  digests: Record<string, number>;
  /** Digests in the order they first answered. */
  digestOrder: string[];
  /** IPs the secret held, in the order they were first read. */
  ips: string[];
  secretReads: number;
  secretReadFailures: number;
  secretReadErrors: string[];
  durationMs: number;
}

export interface Caller {
  /** The IP currently used. */
  readonly ip: string;
  snapshot(): CallerReport;
  stop(): Promise<CallerReport>;
}

function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as Error & { cause?: unknown }).cause;
  const code = cause && typeof cause === 'object' && 'code' in cause ? ` (${String(cause.code)})` : '';
  return `${e.name}: ${e.message}${code}`;
}

/** Starts calling once the secret has been read (throws when it cannot be read at all). */
export async function startCaller(options: CallerOptions): Promise<Caller> {
  const refreshMs = options.refreshMs ?? 1000;
  const timeoutMs = options.requestTimeoutMs ?? 2000;
  const pauseMs = options.pauseMs ?? 20;
  const path = options.path ?? '/';
  const started = Date.now();
  const report: CallerReport = {
    successes: 0,
    failures: 0,
    failureSamples: [],
    digests: {},
    digestOrder: [],
    ips: [],
    secretReads: 0,
    secretReadFailures: 0,
    secretReadErrors: [],
    durationMs: 0,
  };

  const readSecret = async (): Promise<string> => {
    const secret = await options.secrets.getSecret(options.secretName);
    report.secretReads++;
    if (!secret.value) throw new Error(`secret ${options.secretName} has no value`);
    if (!report.ips.includes(secret.value)) report.ips.push(secret.value);
    return secret.value;
  };

  let ip = await readSecret();
  let stopped = false;

  const refreshLoop = (async () => {
    while (!stopped) {
      await sleep(refreshMs);
      if (stopped) break;
      try {
        ip = await readSecret();
      } catch (e) {
        report.secretReadFailures++;
        if (report.secretReadErrors.length < 10) report.secretReadErrors.push(describeError(e));
      }
    }
  })();

  const fail = (target: string, error: string) => {
    report.failures++;
    if (report.failureSamples.length < 20)
      report.failureSamples.push({ at: new Date().toISOString(), ip: target, error });
  };

  const callLoop = (async () => {
    while (!stopped) {
      const target = ip;
      try {
        const res = await fetch(`http://${target}:${options.port}${path}`, {
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.text();
        if (res.status !== 200) fail(target, `HTTP ${res.status}: ${text.slice(0, 200)}`);
        else {
          let digest: unknown;
          try {
            digest = (JSON.parse(text) as { digest?: unknown }).digest;
          } catch {
            digest = undefined;
          }
          if (typeof digest !== 'string') fail(target, `200 without a digest: ${text.slice(0, 200)}`);
          else {
            report.successes++;
            if (report.digests[digest] === undefined) report.digestOrder.push(digest);
            report.digests[digest] = (report.digests[digest] ?? 0) + 1;
          }
        }
      } catch (e) {
        fail(target, describeError(e));
      }
      await sleep(pauseMs);
    }
  })();

  const snapshot = (): CallerReport => ({
    ...report,
    failureSamples: [...report.failureSamples],
    digests: { ...report.digests },
    digestOrder: [...report.digestOrder],
    ips: [...report.ips],
    secretReadErrors: [...report.secretReadErrors],
    durationMs: Date.now() - started,
  });

  return {
    get ip() {
      return ip;
    },
    snapshot,
    async stop() {
      stopped = true;
      await Promise.all([refreshLoop, callLoop]);
      return snapshot();
    },
  };
}
