/**
 * The parts of an app's config that say when its running group should change without a push: a changed template
 * (`rolloutOnConfigChange`), a new version of a Key Vault secret the template uses (`rolloutOnSecretChange`), and
 * when deploys may start at all (`deployWindows`). Own file so appsConfig.ts stays about what a group is.
 */
import { Cron } from 'croner';
import { z } from 'zod';

/** Cron patterns of deploy windows: 5 fields (minute precision) or 6 (with seconds first), as croner reads them. */
export const WINDOW_CRON_MODE = '5-or-6-parts' as const;

function cronProblem(pattern: string): string | undefined {
  try {
    new Cron(pattern, { mode: WINDOW_CRON_MODE, paused: true });
    return undefined;
  } catch (e) {
    return (e as Error).message.replace(/^CronPattern: /, '');
  }
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * A window opens at every time `cron` names (in `timeZone`) and stays open for `durationMinutes`: pushes, catch-up,
 * config changes, retries and redeploys start only while one is open (rollback and abort always may).
 */
export const deployWindowSchema = z.strictObject({
  cron: z.string().superRefine((p, ctx) => {
    const problem = cronProblem(p);
    if (problem)
      ctx.addIssue({
        code: 'custom',
        message: `not a cron pattern (5 fields, or 6 with seconds first, e.g. "0 9 * * 1-5"): ${problem}`,
      });
  }),
  durationMinutes: z
    .number()
    .positive()
    .max(7 * 24 * 60),
  /** IANA time zone of the cron pattern (e.g. Europe/Berlin); UTC by default. */
  timeZone: z
    .string()
    .default('UTC')
    .refine(validTimeZone, { message: 'not an IANA time zone name (e.g. Europe/Berlin, UTC)' }),
});

export type DeployWindow = z.output<typeof deployWindowSchema>;

export const desiredStateFields = {
  /**
   * A change of the effective template (memory, env, ports, ...) starts a blue/green of the active digest. false:
   * status shows the drift and nothing starts.
   */
  rolloutOnConfigChange: z.boolean().default(true),
  /** A new version of a Key Vault secret the template references counts as a config change. */
  rolloutOnSecretChange: z.boolean().default(false),
  /** No windows: deploys may start at any time (unless DEPLOY_FREEZE). */
  deployWindows: z.array(deployWindowSchema).max(20).default([]),
};
