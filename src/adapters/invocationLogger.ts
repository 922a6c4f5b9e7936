/**
 * The domain's Logger over a Functions `InvocationContext`, so lines land in the invocation's log (and
 * Application Insights) with its invocation id. Structured properties are appended as JSON; values under
 * names that can hold credentials or secret values are redacted, whatever a caller passes, and every line goes
 * through the shared `redactSecrets` (keys in URLs, tokens), as the host's and the emulator's lines do.
 */
import type { InvocationContext } from '@azure/functions';
import type { Logger } from '../domain/ports.js';
import { redactSecrets } from './logRedaction.js';

const SENSITIVE =
  /^(value|secureValue|secureEnv|password|secret(Value)?|token|accessToken|connectionString|accountKey|key|sig|signature)$/i;
const MAX_PROPERTIES_JSON = 8_000;

/** JSON of `properties` with sensitive values redacted, errors as messages, cycles cut. */
export function propertiesJson(properties: Record<string, unknown>): string {
  const seen = new WeakSet<object>();
  let json: string;
  try {
    json = JSON.stringify(properties, (key, value: unknown) => {
      if (key && SENSITIVE.test(key) && typeof value !== 'object') return '[redacted]';
      if (value instanceof Error) return { name: value.name, message: value.message };
      if (typeof value === 'bigint') return value.toString();
      if (value && typeof value === 'object') {
        if (seen.has(value)) return '[circular]';
        seen.add(value);
      }
      return value;
    });
  } catch {
    return '{"properties":"[unserialisable]"}';
  }
  return json.length > MAX_PROPERTIES_JSON ? `${json.slice(0, MAX_PROPERTIES_JSON)}…` : json;
}

export function invocationLogger(context: InvocationContext): Logger {
  const line = (message: string, properties?: Record<string, unknown>) =>
    redactSecrets(
      properties && Object.keys(properties).length > 0 ? `${message} ${propertiesJson(properties)}` : message,
    );
  return {
    debug: (m, p) => context.debug(line(m, p)),
    info: (m, p) => context.info(line(m, p)),
    warn: (m, p) => context.warn(line(m, p)),
    error: (m, p) => context.error(line(m, p)),
  };
}
