/**
 * Whether a deploy may start now: not while the global freeze (DEPLOY_FREEZE) holds, and, for an app with
 * `deployWindows`, only inside one of them. Pushes, catch-up, config changes, retries and redeploys wait; rollback,
 * abort and promote (of a rollout that already started) never do. Pure: the callers pass the time.
 *
 * A window opens at each time its cron pattern names (croner, in the window's time zone) and stays open for
 * `durationMinutes`: it is open at `t` when the first occurrence after `t - duration` is not later than `t`.
 */
import { Cron } from 'croner';
import { WINDOW_CRON_MODE, type DeployWindow } from '../config/desiredStateConfig.js';
import type { DeployFreeze } from '../config/settings.js';
import type { AppConfig } from '../config/appsConfig.js';
import { iso, ms } from './model.js';

export type DeployGate =
  | { held: false }
  | {
      held: true;
      reason: 'freeze' | 'window';
      /** When the hold ends (epoch ms), if it is known. */
      until?: number;
      /** `held: freeze` / `held: outside deploy window until …`, as status and the dashboard show it. */
      message: string;
    };

export const GATE_OPEN: DeployGate = Object.freeze({ held: false });

function cronOf(w: DeployWindow): Cron {
  return new Cron(w.cron, { mode: WINDOW_CRON_MODE, timezone: w.timeZone, paused: true });
}

/** Is the window open at `now`? */
export function windowOpen(w: DeployWindow, now: number): boolean {
  const opened = cronOf(w).nextRun(new Date(now - w.durationMinutes * 60_000));
  return opened !== null && opened.getTime() <= now;
}

/** When the window next opens after `now` (undefined when the pattern names no later time). */
export function nextOpening(w: DeployWindow, now: number): number | undefined {
  return cronOf(w).nextRun(new Date(now))?.getTime();
}

/** The freeze in force at `now`, if any (one with an end that has passed is over). */
function frozen(freeze: DeployFreeze | undefined, now: number): DeployGate | undefined {
  if (!freeze) return undefined;
  const until = ms(freeze.until);
  if (until !== undefined && until <= now) return undefined;
  return {
    held: true,
    reason: 'freeze',
    ...(until !== undefined ? { until } : {}),
    message: `held: freeze${until !== undefined ? ` until ${iso(until)}` : ''}`,
  };
}

export function deployGate(
  app: Pick<AppConfig, 'deployWindows'>,
  freeze: DeployFreeze | undefined,
  now: number,
): DeployGate {
  const f = frozen(freeze, now);
  if (f) return f;
  const windows = app.deployWindows ?? [];
  if (windows.length === 0 || windows.some((w) => windowOpen(w, now))) return GATE_OPEN;
  const openings = windows.map((w) => nextOpening(w, now)).filter((t) => t !== undefined);
  const until = openings.length > 0 ? Math.min(...openings) : undefined;
  return {
    held: true,
    reason: 'window',
    ...(until !== undefined ? { until } : {}),
    message:
      until !== undefined
        ? `held: outside deploy window until ${iso(until)}`
        : 'held: outside deploy window (no window opens again)',
  };
}

/** What a held deploy waits for, for messages: "the window opens" / "the freeze ends". */
export function heldUntilWords(gate: Extract<DeployGate, { held: true }>): string {
  return gate.reason === 'window' ? 'when the deploy window opens' : 'when the freeze ends';
}
