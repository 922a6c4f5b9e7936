/**
 * The parts of an app's config that shape a rollout after the health gate: manual promotion, the check after the
 * switch (`verify`) and how long the previous group is kept for a fast rollback. Own file so appsConfig.ts stays
 * about what a group is; the names are the contract of docs/design.md ("Operator actions").
 */
import { z } from 'zod';

/** Key Vault secret names: 1-127 letters, digits or '-' (Key Vault's object naming rules). */
const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;

/**
 * After the switch the new group is probed for `durationSeconds` while the old one is kept; `failureThreshold`
 * consecutive failures move callers back. Path and port default to the health gate's.
 */
export const verifySchema = z
  .strictObject({
    path: z.string().startsWith('/', { message: "must start with '/'" }).optional(),
    port: z
      .number()
      .refine((n) => Number.isInteger(n) && n >= 1 && n <= 65535, {
        message: 'must be a port number from 1 to 65535',
      })
      .optional(),
    intervalSeconds: z.number().positive().max(300).default(5),
    durationSeconds: z.number().positive().max(86_400).default(60),
    failureThreshold: z.number().int().min(1).max(100).default(3),
  })
  .refine((v) => v.intervalSeconds <= v.durationSeconds, {
    message: 'intervalSeconds must not exceed durationSeconds (verify would never probe twice)',
    path: ['intervalSeconds'],
  });

/**
 * `auto`: callers move as soon as the health gate passes (today's behaviour). `manual`: the new group's IP goes to
 * the preview secret and the rollout waits for `promote` (or `abort`), or promotes itself after
 * `autoPromoteAfterSeconds` when set. An app's first deploy always promotes itself: there is nothing to protect.
 */
export const promotionSchema = z.strictObject({
  mode: z.enum(['auto', 'manual']).default('auto'),
  autoPromoteAfterSeconds: z
    .number()
    .positive()
    .max(30 * 86_400)
    .optional(),
  previewSecretName: z
    .string()
    .refine((s) => SECRET_NAME.test(s), {
      message: "Key Vault secret names are 1-127 letters, digits or '-'",
    })
    .optional(),
});

export const rolloutControlFields = {
  verify: verifySchema.optional(),
  promotion: promotionSchema.default({ mode: 'auto' }),
  /**
   * How long the previous group keeps running after a successful rollout, so `rollback` can move callers back
   * at once without creating a group. 0 = delete it when the drain ends.
   */
  rollbackWindowSeconds: z
    .number()
    .min(0)
    .max(7 * 86_400)
    .default(0),
};

export type VerifyConfig = z.output<typeof verifySchema>;
export type PromotionConfig = z.output<typeof promotionSchema>;

/** The preview secret of an app in manual promotion: `{secret.name}-preview` unless named. */
export function previewSecretName(app: { secret: { name: string }; promotion: PromotionConfig }): string {
  return app.promotion.previewSecretName ?? `${app.secret.name}-preview`;
}
