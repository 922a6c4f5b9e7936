import { describe, expect, it } from 'vitest';
import {
  NEVER,
  parseTimerSchedule,
  pastDueSince,
  resolveSettingReferences,
  ScheduleError,
} from '../../../host/src/timerSchedule.js';

describe('%SETTING% references', () => {
  it('resolves whole and embedded references from app settings', () => {
    expect(resolveSettingReferences('%RECONCILE_SCHEDULE%', { RECONCILE_SCHEDULE: '0 * * * * *' })).toBe(
      '0 * * * * *',
    );
    expect(resolveSettingReferences('0 %M% * * * *', { M: '*/5' })).toBe('0 */5 * * * *');
    expect(resolveSettingReferences('*/5 * * * * *', {})).toBe('*/5 * * * * *');
  });

  it('fails on a setting that is not defined', () => {
    expect(() => resolveSettingReferences('%MISSING%', {})).toThrow(ScheduleError);
    expect(() => resolveSettingReferences('%EMPTY%', { EMPTY: '' })).toThrow(/'%EMPTY%' does not resolve/);
  });
});

describe('NCRONTAB schedules', () => {
  const at = (iso: string) => new Date(iso);

  it('reads six fields with seconds first, in UTC', () => {
    const every5s = parseTimerSchedule('*/5 * * * * *');
    expect(every5s.next(at('2026-01-01T00:00:03Z'))?.toISOString()).toBe('2026-01-01T00:00:05.000Z');
    expect(every5s.next(at('2026-01-01T00:00:05Z'))?.toISOString()).toBe('2026-01-01T00:00:10.000Z');
    expect(every5s.intervalMs(at('2026-01-01T00:00:00Z'))).toBe(5000);
    const daily = parseTimerSchedule('0 30 9 * * *');
    expect(daily.next(at('2026-01-01T10:00:00Z'))?.toISOString()).toBe('2026-01-02T09:30:00.000Z');
  });

  it('requires both day fields when both are restricted, as NCrontab does', () => {
    // Friday the 13th: 2026-02-13 and 2026-03-13 are Fridays.
    const schedule = parseTimerSchedule('0 0 0 13 * 5');
    expect(schedule.next(at('2026-01-01T00:00:00Z'))?.toISOString()).toBe('2026-02-13T00:00:00.000Z');
  });

  it('reads TimeSpan intervals', () => {
    const schedule = parseTimerSchedule('00:00:30');
    expect(schedule.kind).toBe('interval');
    expect(schedule.next(at('2026-01-01T00:00:00Z'))?.toISOString()).toBe('2026-01-01T00:00:30.000Z');
    expect(parseTimerSchedule('1.00:00:00').intervalMs()).toBe(86_400_000);
  });

  it('rejects five-field cron and nonsense', () => {
    expect(() => parseTimerSchedule('*/5 * * * *')).toThrow(/needs 6 fields/);
    expect(() => parseTimerSchedule('a b c d e f')).toThrow(ScheduleError);
    expect(() => parseTimerSchedule('00:00:00')).toThrow(/positive/);
  });
});

describe('past-due detection', () => {
  const now = new Date('2026-01-01T12:00:00Z');
  it('is past due when the recorded next occurrence has passed', () => {
    const status = { last: NEVER, next: '2026-01-01T11:55:00.000Z', lastUpdated: '2026-01-01T11:50:00.000Z' };
    expect(pastDueSince(status, now)?.toISOString()).toBe('2026-01-01T11:55:00.000Z');
  });
  it('is not past due on first start or when the next occurrence is ahead', () => {
    expect(pastDueSince(undefined, now)).toBeUndefined();
    expect(pastDueSince({ last: NEVER, next: NEVER, lastUpdated: NEVER }, now)).toBeUndefined();
    expect(
      pastDueSince({ last: NEVER, next: '2026-01-01T12:05:00.000Z', lastUpdated: NEVER }, now),
    ).toBeUndefined();
  });
});
