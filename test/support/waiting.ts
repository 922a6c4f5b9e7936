/**
 * Waiting in tests, written once: `sleep`, and `waitFor`, which polls until a probe yields a value. A test waits
 * for an outcome, never for a time: the timeout only bounds how long a broken run hangs, and its message says
 * what was awaited and what the probe last saw.
 */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface WaitOptions {
  /** How long to keep polling before failing (default 30 s). */
  timeoutMs?: number;
  /** Pause between two probes (default 200 ms). */
  intervalMs?: number;
}

/**
 * Polls `probe` until it returns something other than `undefined` or `false`, and returns that. A probe that
 * throws counts as "not yet" (the error is kept for the timeout message): the thing awaited may not exist yet.
 */
export async function waitFor<T>(
  what: string | (() => string),
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 30_000, intervalMs = 200 }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = 'not yet';
    } catch (e) {
      last = `last error: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()} (${last})`,
      );
    await sleep(intervalMs);
  }
}
