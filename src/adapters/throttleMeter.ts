/**
 * Counting the throttled answers that the per-call retry policy absorbed (retried until a call succeeded), for the
 * work that made them: a reconcile tick records "how many calls were throttled", and with per-call retries most
 * throttled answers never reach the domain as errors. The count travels with the async context of the work
 * (AsyncLocalStorage), so concurrent invocations in one process count only their own calls.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ThrottleMeter } from '../domain/ports.js';

const current = new AsyncLocalStorage<() => void>();

/** Called by the retry policy for each throttled answer it is about to retry. */
export function noteAbsorbedThrottle(): void {
  current.getStore()?.();
}

export const asyncThrottleMeter: ThrottleMeter = {
  run: (work, onThrottled) => current.run(onThrottled, work),
};
