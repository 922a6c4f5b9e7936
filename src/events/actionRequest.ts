/**
 * The body of an operator action (`POST /api/apps/{app}/{action}`): optional JSON `{ "to"?, "reason"?, "force"? }`,
 * checked field by field with bounded lengths, so nothing unbounded reaches the app's stored row. `force: true`
 * lets retry and redeploy start outside the app's deploy windows or during DEPLOY_FREEZE.
 */
import { TEXT_MAX } from './fieldLimits.js';

/** The actions operators take on an app (`POST /api/apps/{app}/{action}`; docs/design.md). */
export const OPERATOR_ACTIONS = [
  'rollback',
  'promote',
  'abort',
  'pause',
  'resume',
  'retry',
  'redeploy',
] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

/** Longest body read: the two fields at their limits fit with room to spare. */
export const ACTION_BODY_MAX_BYTES = 4_096;
export const REASON_MAX = TEXT_MAX;

/** A digest, or a rollout id as `rolloutId()` makes them (`20261201T101500123Z-0123456789ab`). */
const TO = /^(sha256:[0-9a-f]{64}|[0-9]{8}T[0-9]{9}Z-[0-9a-f]{12})$/;

export type ParsedAction =
  | { ok: true; action: OperatorAction; to?: string; reason?: string; force?: true }
  | { ok: false; message: string };

/** The actions a deploy window or a freeze holds back, and which `force` lets through. */
export const FORCEABLE_ACTIONS: ReadonlySet<OperatorAction> = new Set(['retry', 'redeploy']);

export function isOperatorAction(value: string): value is OperatorAction {
  return (OPERATOR_ACTIONS as readonly string[]).includes(value);
}

function parseBody(
  text: string,
): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  if (text.trim() === '') return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: 'the body is not JSON (send {"to"?, "reason"?, "force"?} or nothing)' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, message: 'the body must be a JSON object {"to"?, "reason"?, "force"?}' };
  return { ok: true, value: value as Record<string, unknown> };
}

/** A reason is one line of text: a control character (newline, escape) could forge log lines. */
function hasControlCharacter(text: string): boolean {
  return [...text].some((c) => {
    const code = c.codePointAt(0)!;
    return code < 0x20 || code === 0x7f;
  });
}

export function parseActionRequest(actionParam: string, bodyText: string): ParsedAction {
  const action = actionParam.toLowerCase();
  if (!isOperatorAction(action))
    return { ok: false, message: `unknown action "${actionParam}" (one of ${OPERATOR_ACTIONS.join(', ')})` };
  if (Buffer.byteLength(bodyText) > ACTION_BODY_MAX_BYTES)
    return { ok: false, message: `the body is larger than ${ACTION_BODY_MAX_BYTES} bytes` };
  const body = parseBody(bodyText);
  if (!body.ok) return body;
  const unknown = Object.keys(body.value).filter((k) => k !== 'to' && k !== 'reason' && k !== 'force');
  if (unknown.length > 0)
    return { ok: false, message: `unknown field(s) ${unknown.join(', ')} (allowed: to, reason, force)` };
  const { to, reason, force } = body.value;
  if (to !== undefined && (typeof to !== 'string' || !TO.test(to)))
    return { ok: false, message: '"to" must be a digest (sha256:…) or a rollout id from status' };
  if (to !== undefined && action !== 'rollback' && action !== 'retry')
    return { ok: false, message: `"to" applies to rollback and retry, not ${action}` };
  if (
    reason !== undefined &&
    (typeof reason !== 'string' || reason.length > REASON_MAX || hasControlCharacter(reason))
  )
    return {
      ok: false,
      message: `"reason" must be text of at most ${REASON_MAX} characters without control characters`,
    };
  if (force !== undefined && typeof force !== 'boolean')
    return { ok: false, message: '"force" must be true or false' };
  if (force === true && !FORCEABLE_ACTIONS.has(action))
    return {
      ok: false,
      message: `"force" applies to retry and redeploy (${action} is never held by deploy windows or a freeze)`,
    };
  return {
    ok: true,
    action,
    ...(to ? { to } : {}),
    ...(reason ? { reason } : {}),
    ...(force ? { force: true as const } : {}),
  };
}
