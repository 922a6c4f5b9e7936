/**
 * Function keys, like the Functions host's: a master key (opens everything, including admin routes), a
 * function key `default` (opens `authLevel: 'function'` routes) and system keys per extension
 * (`eventgrid_extension` guards the Event Grid webhook). Generated on first start into `keys.json` and kept,
 * so URLs stay valid across restarts; `local.settings.json` may pin them (`Host.Keys`).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const EVENTGRID_SYSTEM_KEY = 'eventgrid_extension';

export interface HostKeys {
  masterKey: string;
  functionKeys: Record<string, string>;
  systemKeys: Record<string, string>;
}

export interface KeyOverrides {
  master?: string;
  function?: string;
  [systemKeyName: string]: string | undefined;
}

export type AuthLevel = 'anonymous' | 'function' | 'admin';

export function generateKey(): string {
  // URL-safe, so a key can go in `?code=` unescaped.
  return crypto.randomBytes(30).toString('base64url');
}

function isKeys(value: unknown): value is HostKeys {
  const v = value as HostKeys | undefined;
  return (
    typeof v?.masterKey === 'string' &&
    typeof v.functionKeys === 'object' &&
    v.functionKeys !== null &&
    typeof v.systemKeys === 'object' &&
    v.systemKeys !== null
  );
}

/** Reads `file`, creating it (and any missing key) with fresh keys; then applies overrides (not persisted). */
export function loadOrCreateKeys(file: string, overrides: KeyOverrides = {}): HostKeys {
  let stored: HostKeys | undefined;
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (isKeys(parsed)) stored = parsed;
  } catch {
    stored = undefined;
  }
  const keys: HostKeys = stored ?? { masterKey: generateKey(), functionKeys: {}, systemKeys: {} };
  let changed = !stored;
  if (!keys.functionKeys['default']) {
    keys.functionKeys['default'] = generateKey();
    changed = true;
  }
  if (!keys.systemKeys[EVENTGRID_SYSTEM_KEY]) {
    keys.systemKeys[EVENTGRID_SYSTEM_KEY] = generateKey();
    changed = true;
  }
  if (changed) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(keys, null, 2), { mode: 0o600 });
    fs.renameSync(tmp, file);
  }
  const result: HostKeys = {
    masterKey: overrides.master || keys.masterKey,
    functionKeys: { ...keys.functionKeys },
    systemKeys: { ...keys.systemKeys },
  };
  if (overrides.function) result.functionKeys['default'] = overrides.function;
  for (const [name, value] of Object.entries(overrides)) {
    if (name !== 'master' && name !== 'function' && value) result.systemKeys[name] = value;
  }
  return result;
}

function sameKey(provided: string, expected: string): boolean {
  const a = Buffer.from(provided);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** The key a request presents: the `x-functions-key` header, else the `code` query parameter. */
export function presentedKey(
  headers: Record<string, string | string[] | undefined>,
  query: URLSearchParams,
): string | undefined {
  const header = headers['x-functions-key'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  return fromHeader || query.get('code') || undefined;
}

/** Whether `provided` opens a route with this auth level. The master key opens everything. */
export function keyAllows(level: AuthLevel, provided: string | undefined, keys: HostKeys): boolean {
  if (level === 'anonymous') return true;
  if (!provided) return false;
  if (sameKey(provided, keys.masterKey)) return true;
  if (level === 'admin') return false;
  return Object.values(keys.functionKeys).some((k) => sameKey(provided, k));
}

/** Whether `provided` opens an extension endpoint guarded by system key `name` (or the master key). */
export function systemKeyAllows(name: string, provided: string | undefined, keys: HostKeys): boolean {
  if (!provided) return false;
  if (sameKey(provided, keys.masterKey)) return true;
  const expected = keys.systemKeys[name];
  return expected !== undefined && sameKey(provided, expected);
}

export function normaliseAuthLevel(value: unknown): AuthLevel {
  const level = String(value ?? 'anonymous').toLowerCase();
  if (level === 'anonymous' || level === 'function' || level === 'admin') return level;
  // `system` and `user` exist in the Functions host; neither is something an app route should use here.
  throw new Error(`Unsupported authLevel '${String(value)}' (use anonymous, function or admin).`);
}
