/**
 * The one retry policy of every ARM and Key Vault call: exponential backoff with full jitter, per call, in the SDK
 * pipeline (composition.ts turns the SDKs' own retries off, so a call is retried by this policy alone).
 *
 * Why: the SDKs retry a 429 only when it carries Retry-After, and Key Vault's often does not (azureErrors.ts), so
 * such a 429 surfaced as an error and the rollout step retried on a fixed schedule; with half the calls throttled
 * the retries landed on throttled calls in lock-step and a push stayed in `accepted` for minutes (issue 16).
 * "Full jitter" (sleep = random(0, min(cap, base × 2^attempt)), AWS Architecture Blog, "Exponential Backoff And
 * Jitter", https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/) spreads the retries of
 * concurrent callers and of one caller's successive calls, so no fixed pattern of throttling can line up with them.
 *
 * Retried: 429 (after Retry-After when the answer has one, plus jitter so callers told the same Retry-After do
 * not return together), 408, 5xx but 501 and 505 (as the SDKs' exponential strategy), and connection errors.
 * Not retried in-call: a Retry-After longer than `maxDelayMs` (the caller records it and resumes later, across
 * runs), anything else, and nothing once the call's abort signal fired (its timeout bounds all attempts).
 */
import type { PipelinePolicy, PipelineRequest, PipelineResponse } from '@azure/core-rest-pipeline';

type AbortSignalLike = PipelineRequest['abortSignal'];
import { retryAfterMs } from './azureErrors.js';
import { noteAbsorbedThrottle } from './throttleMeter.js';

export const JITTERED_RETRY_POLICY = 'jitteredRetryPolicy';

export interface JitteredRetryOptions {
  /** Retries after the first attempt. */
  maxRetries: number;
  baseDelayMs: number;
  /** Cap of one backoff, and the longest Retry-After honoured in-call. */
  maxDelayMs: number;
  /** [0, 1); Math.random by default, seeded in tests. */
  random?: () => number;
  /** Waits `ms` unless the signal aborts first (tests pass a fake). */
  sleep?: (ms: number, signal: AbortSignalLike) => Promise<void>;
}

export const DEFAULT_JITTERED_RETRY: JitteredRetryOptions = Object.freeze({
  maxRetries: 6,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
});

const SYSTEM_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'REQUEST_SEND_ERROR',
]);

/** Full jitter: uniform in [0, min(cap, base × 2^attempt)]. */
export function fullJitterMs(attempt: number, o: JitteredRetryOptions, random: () => number): number {
  const ceiling = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

function retryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505);
}

function sleepUnlessAborted(ms: number, signal: AbortSignalLike): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * What a try answered: its response, or the error it threw. Placed per call, the policy wraps the SDK's
 * deserialization, which turns an error status into a thrown RestError carrying the response.
 */
function answerOf(
  response: PipelineResponse | undefined,
  error: unknown,
): { status?: number; headers?: PipelineResponse['headers']; code?: string } {
  if (response) return { status: response.status, headers: response.headers };
  const e = error as {
    statusCode?: number;
    code?: unknown;
    response?: { status?: number; headers?: PipelineResponse['headers'] };
  };
  const status = e?.statusCode ?? e?.response?.status;
  return {
    ...(status !== undefined ? { status } : {}),
    ...(e?.response?.headers ? { headers: e.response.headers } : {}),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
  };
}

export function jitteredRetryPolicy(options: JitteredRetryOptions = DEFAULT_JITTERED_RETRY): PipelinePolicy {
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? sleepUnlessAborted;
  return {
    name: JITTERED_RETRY_POLICY,
    async sendRequest(request: PipelineRequest, next): Promise<PipelineResponse> {
      for (let attempt = 0; ; attempt++) {
        let response: PipelineResponse | undefined;
        let error: unknown;
        try {
          response = await next(request);
        } catch (e) {
          error = e;
        }
        const answer = answerOf(response, error);
        const retryable =
          answer.status !== undefined ? retryableStatus(answer.status) : SYSTEM_ERRORS.has(answer.code ?? '');
        const after = answer.headers ? retryAfterMs(answer.headers) : undefined;
        // Longer than a call should wait: hand it to the caller, which keeps it across runs.
        const tooLong = after !== undefined && after > options.maxDelayMs;
        if (!retryable || tooLong || attempt >= options.maxRetries || request.abortSignal?.aborted) {
          if (response) return response;
          throw error;
        }
        if (answer.status === 429) noteAbsorbedThrottle();
        await sleep((after ?? 0) + fullJitterMs(attempt, options, random), request.abortSignal);
      }
    },
  };
}
