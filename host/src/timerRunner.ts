/**
 * Runs one timer-triggered function on its schedule, like the runtime's TimerListener: at most one run at a time
 * (an occurrence that comes while the previous run is still going is skipped and logged), `runOnStartup`, and a
 * schedule monitor that records `{ last, next, lastUpdated }` (the runtime keeps it in a blob; here a file under
 * the host's state dir) so an occurrence missed while the host was down runs at start with `isPastDue: true`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RegisteredFunction } from './functionsCore.js';
import type { HostLogger } from './hostLog.js';
import type { InvocationInput, InvocationOutcome } from './invoker.js';
import { NEVER, pastDueSince, type ScheduleStatus, type TimerSchedule } from './timerSchedule.js';

/** setTimeout's longest delay; longer waits are re-armed. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

interface StoredStatus extends ScheduleStatus {
  expression: string;
}

export interface TimerRunnerOptions {
  fn: RegisteredFunction;
  schedule: TimerSchedule;
  /** Where the schedule status is kept between host runs. */
  statusFile: string;
  useMonitor: boolean;
  runOnStartup: boolean;
  invoke(fn: RegisteredFunction, input: InvocationInput): Promise<InvocationOutcome>;
  logger: HostLogger;
}

export type TimerRunResult = 'started' | 'skipped';

export class TimerRunner {
  #timeout: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #status: ScheduleStatus = { last: NEVER, next: NEVER, lastUpdated: NEVER };
  #nextAt: Date | undefined;
  /** Completed runs and skipped occurrences, for logs and tests. */
  runs = 0;
  skipped = 0;

  constructor(private readonly options: TimerRunnerOptions) {}

  get name(): string {
    return this.options.fn.name;
  }

  get nextOccurrence(): Date | undefined {
    return this.#nextAt;
  }

  get isRunning(): boolean {
    return this.#running !== undefined;
  }

  start(now = new Date()): void {
    const { schedule, useMonitor, runOnStartup, logger } = this.options;
    let status: ScheduleStatus | undefined = this.#readStatus();
    if (status && (status as StoredStatus).expression !== schedule.expression) {
      // The schedule changed since the status was written: expect the new schedule's next occurrence.
      const next = schedule.next(new Date(status.lastUpdated));
      status = { ...status, next: next?.toISOString() ?? NEVER };
    }
    const pastDue = useMonitor ? pastDueSince(status, now) : undefined;
    this.#status = status ?? {
      last: NEVER,
      next: schedule.next(now)?.toISOString() ?? NEVER,
      lastUpdated: now.toISOString(),
    };
    this.#writeStatus();
    if (pastDue) {
      logger.system(
        `Timer '${this.name}' missed its ${pastDue.toISOString()} occurrence: running it now (past due).`,
      );
      void this.fire(pastDue, { isPastDue: true, reason: `Timer fired at ${now.toISOString()} (past due)` });
    } else if (runOnStartup) {
      void this.fire(now, { isPastDue: false, reason: 'RunOnStartup' });
    }
    this.#scheduleAfter(now);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timeout) clearTimeout(this.#timeout);
    this.#timeout = undefined;
    this.#nextAt = undefined;
  }

  /** Resolves when the current run (if any) has finished. */
  async idle(): Promise<void> {
    await this.#running;
  }

  /**
   * Starts a run for `occurrence` unless one is in progress (then the occurrence is skipped and logged). Returns
   * without waiting for the run; `idle()` does.
   */
  fire(occurrence: Date, { isPastDue, reason }: { isPastDue: boolean; reason: string }): TimerRunResult {
    const { fn, invoke, logger } = this.options;
    if (this.#running) {
      this.skipped++;
      logger.system(
        `Timer '${fn.name}': skipping the ${occurrence.toISOString()} occurrence, the previous run is still in progress.`,
        'warning',
      );
      return 'skipped';
    }
    const status = this.#status;
    const timer = {
      Schedule: { AdjustForDST: true },
      ScheduleStatus: { Last: status.last, Next: status.next, LastUpdated: status.lastUpdated },
      IsPastDue: isPastDue,
    };
    const input: InvocationInput = {
      inputData: [{ name: fn.trigger.name, data: { json: JSON.stringify(timer) } }],
      triggerMetadata: {},
      reason,
    };
    this.#running = (async () => {
      try {
        await invoke(fn, input);
      } finally {
        const now = new Date();
        this.#status = {
          last: occurrence.toISOString(),
          next: this.options.schedule.next(now)?.toISOString() ?? NEVER,
          lastUpdated: now.toISOString(),
        };
        this.#writeStatus();
        this.runs++;
        this.#running = undefined;
      }
    })();
    return 'started';
  }

  #scheduleAfter(after: Date): void {
    if (this.#stopped) return;
    const next = this.options.schedule.next(after);
    this.#nextAt = next;
    if (!next) {
      this.options.logger.system(`Timer '${this.name}' has no further occurrences.`, 'warning');
      return;
    }
    const arm = () => {
      if (this.#stopped) return;
      const delay = next.getTime() - Date.now();
      if (delay > MAX_TIMEOUT_MS) {
        this.#timeout = setTimeout(arm, MAX_TIMEOUT_MS);
        return;
      }
      this.#timeout = setTimeout(
        () => {
          this.#timeout = undefined;
          if (this.#stopped) return;
          this.fire(next, { isPastDue: false, reason: `Timer fired at ${new Date().toISOString()}` });
          // From the occurrence, not from now: a timer that fires a little early must not fire twice.
          this.#scheduleAfter(new Date(Math.max(Date.now(), next.getTime())));
        },
        Math.max(0, delay),
      );
    };
    arm();
  }

  #readStatus(): StoredStatus | undefined {
    try {
      const parsed = JSON.parse(fs.readFileSync(this.options.statusFile, 'utf8')) as Partial<StoredStatus>;
      if (typeof parsed.next !== 'string' || typeof parsed.last !== 'string') return undefined;
      return {
        expression: String(parsed.expression ?? ''),
        last: parsed.last,
        next: parsed.next,
        lastUpdated: String(parsed.lastUpdated ?? parsed.last),
      };
    } catch {
      return undefined;
    }
  }

  #writeStatus(): void {
    const file = this.options.statusFile;
    const stored: StoredStatus = { expression: this.options.schedule.expression, ...this.#status };
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(stored, null, 2));
      fs.renameSync(tmp, file);
    } catch (err) {
      this.options.logger.system(
        `Could not record the schedule status of '${this.name}': ${(err as Error).message}`,
        'warning',
      );
    }
  }
}
