/**
 * When `npm start` restarts a crashed functions host instead of stopping the stack: as the Functions runtime
 * restarts a crashed language worker and keeps the host up (Azure/azure-functions-host#1767, "language workers
 * should allow the host to stay up with a worker restart"), and gives up after a few crashes in a row ("Exceeded
 * language worker restart retry count ... Shutting down Functions Host", Azure/azure-functions-host#8326).
 * Here: at most `maxRestarts` within `windowMs`, each after a short backoff; a crash past that stops the stack
 * with the reason, so a host that cannot start is not restarted forever.
 */
export interface RestartDecision {
  restart: boolean;
  /** Wait this long before starting it again (restart) or why not (give up). */
  delayMs: number;
  reason: string;
}

export class RestartPolicy {
  private readonly crashes: number[] = [];

  constructor(
    private readonly maxRestarts = 3,
    private readonly windowMs = 60_000,
    private readonly baseDelayMs = 500,
  ) {}

  /** A crash at `now`: restart (after the returned delay) or give up. */
  onCrash(now: number): RestartDecision {
    while (this.crashes.length > 0 && now - this.crashes[0]! > this.windowMs) this.crashes.shift();
    this.crashes.push(now);
    const n = this.crashes.length;
    if (n > this.maxRestarts)
      return {
        restart: false,
        delayMs: 0,
        reason: `${n} crashes within ${Math.round(this.windowMs / 1000)} s: giving up`,
      };
    return {
      restart: true,
      delayMs: this.baseDelayMs * 2 ** (n - 1),
      reason: `restart ${n} of at most ${this.maxRestarts} within ${Math.round(this.windowMs / 1000)} s`,
    };
  }
}
