/**
 * Timer trigger schedules as the Functions runtime reads them: a 6-field NCRONTAB expression
 * `{second} {minute} {hour} {day} {month} {day-of-week}` (UTC unless WEBSITE_TIME_ZONE says otherwise) or a
 * TimeSpan `hh:mm:ss` interval, with `%SETTING%` references resolved from app settings first.
 */
import { Cron } from 'croner';

export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

/** Replaces every `%NAME%` with the app setting NAME; an undefined setting is an error, as in the runtime. */
export function resolveSettingReferences(
  value: string,
  settings: Record<string, string | undefined>,
): string {
  return value.replace(/%([^%\s]+)%/g, (_match, name: string) => {
    const resolved = settings[name];
    if (resolved === undefined || resolved === '') {
      throw new ScheduleError(
        `'%${name}%' does not resolve to a value: app setting '${name}' is not defined.`,
      );
    }
    return resolved;
  });
}

export interface TimerSchedule {
  /** The expression after setting resolution. */
  expression: string;
  kind: 'cron' | 'interval';
  /** The first occurrence strictly after `after`. */
  next(after: Date): Date | undefined;
  /** Roughly how often it fires (ms), from two consecutive occurrences. */
  intervalMs(from?: Date): number;
}

const TIMESPAN = /^(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2}))?$/;

export function parseTimerSchedule(expression: string, timezone = 'UTC'): TimerSchedule {
  const text = expression.trim();
  const span = TIMESPAN.exec(text);
  if (span) {
    const [, days = '0', hours, minutes, seconds = '0'] = span;
    const ms = (((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000;
    if (ms <= 0) throw new ScheduleError(`TimeSpan schedule '${text}' must be positive.`);
    return {
      expression: text,
      kind: 'interval',
      next: (after) => new Date(after.getTime() + ms),
      intervalMs: () => ms,
    };
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 6) {
    throw new ScheduleError(
      `'${text}' is not a valid NCRONTAB expression: it needs 6 fields ({second} {minute} {hour} {day} {month} {day-of-week}), found ${fields.length}.`,
    );
  }
  let cron: Cron;
  try {
    // NCrontab requires both day fields to match when both are restricted (classic cron ORs them).
    cron = new Cron(text, { timezone, mode: '6-part', domAndDow: true });
  } catch (err) {
    throw new ScheduleError(`'${text}' is not a valid NCRONTAB expression: ${(err as Error).message}`);
  }
  const next = (after: Date) => cron.nextRun(after) ?? undefined;
  return {
    expression: text,
    kind: 'cron',
    next,
    intervalMs(from = new Date()) {
      const a = next(from);
      const b = a && next(a);
      return a && b ? b.getTime() - a.getTime() : Number.POSITIVE_INFINITY;
    },
  };
}

export interface ScheduleStatus {
  /** The last occurrence that ran (ISO); `0001-01-01T00:00:00.000Z` before the first run, as .NET's MinValue. */
  last: string;
  /** The occurrence expected next (ISO). */
  next: string;
  lastUpdated: string;
}

export const NEVER = '0001-01-01T00:00:00.000Z';

/** Whether an occurrence was missed while the host was down: the recorded `next` is in the past (the runtime's
 * schedule monitor). */
export function pastDueSince(status: ScheduleStatus | undefined, now: Date): Date | undefined {
  if (!status || status.next === NEVER) return undefined;
  const expected = new Date(status.next);
  if (Number.isNaN(expected.getTime())) return undefined;
  return now.getTime() > expected.getTime() ? expected : undefined;
}
