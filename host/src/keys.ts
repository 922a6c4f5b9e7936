/**
 * Access keys, as the Functions host has them
 * (https://learn.microsoft.com/azure/azure-functions/function-keys-how-to, "Understand keys"):
 * - the master key (`_master`) opens everything, admin routes included;
 * - host keys (`default` and any other, kept under `functionKeys` as the host keys API names them) open every
 *   `authLevel: 'function'` route of the app;
 * - function keys belong to one function and open only that function's routes (`functions[name][keyName]`);
 *   the host creates a `default` key for each function-level HTTP function, as Azure does;
 * - system keys per extension (`eventgrid_extension` guards the Event Grid webhook).
 * Generated on first start into `keys.json` and kept, so URLs stay valid across restarts; `local.settings.json`
 * may pin any of them (`Host.Keys`, see localSettings.ts).
 *
 * Local extension: a *shared* function key is one key name with one value on several functions (what
 * `az functionapp function keys set --key-name N --key-value V` on each of them gives in Azure), so one key can
 * open a chosen set of functions and nothing else (stack.json's `functionKey` opens `status` and `dashboard`).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const EVENTGRID_SYSTEM_KEY = 'eventgrid_extension';
export const DEFAULT_KEY_NAME = 'default';

export interface HostKeys {
  masterKey: string;
  /** Host keys by name: each opens every function-level route. */
  functionKeys: Record<string, string>;
  systemKeys: Record<string, string>;
  /** Function keys: function name → key name → value; each opens only its own function. */
  functions: Record<string, Record<string, string>>;
}

export interface KeyOverrides {
  master?: string;
  /** The host key `default`. */
  function?: string;
  /** System keys by name. */
  system?: Record<string, string>;
  /** Function keys: function name → key name → value. */
  functions?: Record<string, Record<string, string>>;
}

/** A function key with one name and one value on each of `functions` (those the app has). */
export interface SharedFunctionKey {
  name: string;
  functions: string[];
}

export interface KeyRequirements {
  /** Functions that get a `default` function key (the function-level HTTP functions). */
  functions?: string[];
  shared?: SharedFunctionKey[];
}

export type AuthLevel = 'anonymous' | 'function' | 'admin';

export class KeyConfigurationError extends Error {
  override name = 'KeyConfigurationError';
}

export function generateKey(): string {
  // URL-safe, so a key can go in `?code=` unescaped.
  return crypto.randomBytes(30).toString('base64url');
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}

/** Parses a stored keys.json; files written before function keys existed have no `functions`. */
function parseStoredKeys(value: unknown): HostKeys | undefined {
  const v = value as Partial<HostKeys> | undefined;
  if (typeof v?.masterKey !== 'string' || !isStringRecord(v.functionKeys) || !isStringRecord(v.systemKeys)) {
    return undefined;
  }
  const functions: HostKeys['functions'] = {};
  const stored = v.functions;
  if (typeof stored === 'object' && stored !== null) {
    for (const [name, keys] of Object.entries(stored))
      if (isStringRecord(keys)) functions[name] = { ...keys };
  }
  return { masterKey: v.masterKey, functionKeys: v.functionKeys, systemKeys: v.systemKeys, functions };
}

function readStoredKeys(file: string): HostKeys | undefined {
  try {
    return parseStoredKeys(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

/** Adds every key that `requirements` asks for and `keys` lacks; returns whether it added any. */
function addMissingKeys(keys: HostKeys, requirements: KeyRequirements): boolean {
  let changed = false;
  const ensure = (record: Record<string, string>, name: string, value: () => string) => {
    if (record[name]) return;
    record[name] = value();
    changed = true;
  };
  ensure(keys.functionKeys, DEFAULT_KEY_NAME, generateKey);
  ensure(keys.systemKeys, EVENTGRID_SYSTEM_KEY, generateKey);
  const of = (fn: string) => (keys.functions[fn] ??= {});
  for (const fn of requirements.functions ?? []) ensure(of(fn), DEFAULT_KEY_NAME, generateKey);
  for (const shared of requirements.shared ?? []) {
    // A value one of the functions already has wins, so adding a function to the set keeps the key valid.
    const existing = shared.functions.map((fn) => keys.functions[fn]?.[shared.name]).find(Boolean);
    const value = existing ?? generateKey();
    for (const fn of shared.functions) ensure(of(fn), shared.name, () => value);
  }
  return changed;
}

function writeKeysFile(file: string, keys: HostKeys): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(keys, null, 2), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function applyOverrides(keys: HostKeys, overrides: KeyOverrides): HostKeys {
  const functions: HostKeys['functions'] = {};
  for (const [fn, stored] of Object.entries(keys.functions)) functions[fn] = { ...stored };
  for (const [fn, pinned] of Object.entries(overrides.functions ?? {})) {
    functions[fn] = { ...functions[fn], ...pinned };
  }
  return {
    masterKey: overrides.master || keys.masterKey,
    functionKeys: { ...keys.functionKeys, ...(overrides.function ? { default: overrides.function } : {}) },
    systemKeys: { ...keys.systemKeys, ...overrides.system },
    functions,
  };
}

/**
 * Reads `file`, adding (and persisting) any key that is missing: the master key, the host key `default`, the
 * Event Grid system key, a `default` key per function in `requirements.functions`, and the shared keys. Then
 * applies overrides (not persisted).
 */
export function loadOrCreateKeys(
  file: string,
  overrides: KeyOverrides = {},
  requirements: KeyRequirements = {},
): HostKeys {
  const stored = readStoredKeys(file);
  const keys: HostKeys = stored ?? {
    masterKey: generateKey(),
    functionKeys: {},
    systemKeys: {},
    functions: {},
  };
  const added = addMissingKeys(keys, requirements);
  if (added || !stored) writeKeysFile(file, keys);
  return applyOverrides(keys, overrides);
}

/**
 * The value of a shared function key: the same on every function of the set that has it. Undefined when none
 * of them has it (the app has none of those functions); throws when they disagree, which only a pinned or
 * hand-edited key can cause, so the one value handed out never opens only part of the set.
 */
export function sharedKeyValue(keys: HostKeys, shared: SharedFunctionKey): string | undefined {
  const values = shared.functions
    .map((fn) => ({ fn, value: keys.functions[fn]?.[shared.name] }))
    .filter((v): v is { fn: string; value: string } => v.value !== undefined);
  const first = values[0];
  const other = values.find((v) => v.value !== first?.value);
  if (first && other) {
    throw new KeyConfigurationError(
      `Function key '${shared.name}' differs between functions '${first.fn}' and '${other.fn}'; ` +
        `pin the same value on each (Host.Keys.functions in local.settings.json) or remove it from keys.json.`,
    );
  }
  return first?.value;
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

/**
 * Whether `provided` opens a route of function `functionName` with this auth level: anonymous always; function
 * with the master key, a host key or one of that function's own keys; admin with the master key only.
 */
export function keyAllows(
  level: AuthLevel,
  provided: string | undefined,
  keys: HostKeys,
  functionName?: string,
): boolean {
  if (level === 'anonymous') return true;
  if (!provided) return false;
  if (sameKey(provided, keys.masterKey)) return true;
  if (level === 'admin') return false;
  const own = functionName === undefined ? {} : (keys.functions[functionName] ?? {});
  return [...Object.values(keys.functionKeys), ...Object.values(own)].some((k) => sameKey(provided, k));
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
