/** Reading a control API request body (`/_emulator/...`): a JSON object, and its required string fields. */
import { controlErrors } from './controlErrors.js';
import type { EmuRequest } from './router.js';

export function objectBody(
  req: EmuRequest,
  message = 'The body must be a JSON object.',
): Record<string, unknown> {
  if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body))
    throw controlErrors.badRequest(message);
  return req.body as Record<string, unknown>;
}

export function requiredString(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '') throw controlErrors.badRequest(`'${key}' is required.`);
  return value;
}
