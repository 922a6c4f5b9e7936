/** Bounded parallelism and bounded in-call retries, both respecting a deadline. */
import { TransientError } from './errors.js';
import type { Clock } from './ports.js';

/** Run `fn` over `items` with at most `limit` in flight; results in input order, errors as values. */
export async function mapLimit<T, R>(
  items: ReadonlyArray<T>,
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<Array<{ ok: true; value: R } | { ok: false; error: unknown }>> {
  const results: Array<{ ok: true; value: R } | { ok: false; error: unknown }> = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { ok: true, value: await fn(items[i]!, i) };
      } catch (error) {
        results[i] = { ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

export interface RetryOptions {
  retries: number;
  baseMs: number;
  deadline: number;
  clock: Clock;
  /** Called for every throttled failure (retried or not). */
  onThrottled?: () => void;
  /** Uniform in [0, 1) for the jitter (Math.random when absent). */
  random?: () => number;
}

/**
 * Retry transient failures with exponential backoff (or the server's Retry-After), never past the deadline.
 * Needed because the SDKs do not retry a 429 that comes without Retry-After (Key Vault's often does).
 */
export async function withRetry<T>(fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof TransientError && e.throttled) o.onThrottled?.();
      if (!(e instanceof TransientError) || attempt >= o.retries) throw e;
      // Full jitter on the exponential step (after Retry-After when the answer had one): callers that failed
      // together do not retry together.
      const step = Math.floor((o.random ?? Math.random)() * o.baseMs * 2 ** attempt);
      const backoff = (e.retryAfterMs ?? 0) + step;
      if (o.clock.now() + backoff >= o.deadline) throw e;
      await o.clock.sleep(backoff);
    }
  }
}
