/**
 * `local.settings.json`, read the way Azure Functions Core Tools reads it: `Values` become environment variables
 * (app settings) unless the environment already defines them, which wins. Created from
 * `local.settings.sample.json` on first start.
 *
 * Local extension (ignored by Core Tools): values may reference the running local stack, so the sample stays
 * portable and holds no secret:
 * - `${stack.NAME}` → the `NAME` key of `.local/stack.json` (written by the emulator: `armEndpoint`,
 *   `identityEndpoint`, `identityHeader`, `caCertPath`, `subscriptionId`, `tableEndpoint`...);
 * - `${vault:NAME}` → the emulated URL of Key Vault NAME (`https://NAME.vault.localhost:{port}`).
 * A value whose reference cannot be resolved is left out (with a warning), so the app reports it as missing.
 * `Host.LocalHttpPort` is the default port; `Host.Keys` pins keys: `master`, `function` (the host key),
 * `eventgrid_extension`, and `functions: { "status": { "default": "..." } }` for function keys (host/src/keys.ts).
 */
import fs from 'node:fs';
import type { KeyOverrides } from './keys.js';

export class LocalSettingsError extends Error {
  override name = 'LocalSettingsError';
}

export interface LocalSettings {
  file: string;
  /** True when the file was just created from the sample. */
  created: boolean;
  values: Record<string, string>;
  localHttpPort?: number;
  keys: KeyOverrides;
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new LocalSettingsError(`${where} must be an object.`);
  }
  return value as Record<string, unknown>;
}

/**
 * `Host.Keys`: `master`, `function` (the host key `default`), `functions: { NAME: { KEY: value } }` (function
 * keys), and any other name is a system key (`eventgrid_extension`).
 */
function parseKeyOverrides(raw: Record<string, unknown>, file: string): KeyOverrides {
  const keys: KeyOverrides = {};
  const system: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name === 'functions') {
      keys.functions = {};
      for (const [fn, fnKeys] of Object.entries(asRecord(value, `${file} Host.Keys.functions`))) {
        const pinned: Record<string, string> = {};
        for (const [keyName, keyValue] of Object.entries(
          asRecord(fnKeys, `${file} Host.Keys.functions.${fn}`),
        )) {
          if (typeof keyValue !== 'string') {
            throw new LocalSettingsError(`${file}: Host.Keys.functions.${fn}.${keyName} must be a string.`);
          }
          if (keyValue !== '') pinned[keyName] = keyValue;
        }
        keys.functions[fn] = pinned;
      }
    } else if (typeof value === 'string' && value !== '') {
      if (name === 'master') keys.master = value;
      else if (name === 'function') keys.function = value;
      else system[name] = value;
    }
  }
  if (Object.keys(system).length > 0) keys.system = system;
  return keys;
}

/** Parses the file's text; values that are numbers or booleans are kept as strings, like app settings. */
export function parseLocalSettings(text: string, file: string): Omit<LocalSettings, 'created'> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new LocalSettingsError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const root = asRecord(parsed, file);
  if (root['IsEncrypted'] === true) {
    throw new LocalSettingsError(
      `${file} is encrypted (IsEncrypted: true); the local host reads plain values only.`,
    );
  }
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(asRecord(root['Values'], `${file} Values`))) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'object') {
      throw new LocalSettingsError(`${file}: Values.${name} must be a string (app settings are strings).`);
    }
    values[name] = String(value);
  }
  const host = asRecord(root['Host'], `${file} Host`);
  const keys = parseKeyOverrides(asRecord(host['Keys'], `${file} Host.Keys`), file);
  const settings: Omit<LocalSettings, 'created'> = { file, values, keys };
  const port = host['LocalHttpPort'];
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      throw new LocalSettingsError(`${file}: Host.LocalHttpPort must be a port number.`);
    }
    settings.localHttpPort = n;
  }
  return settings;
}

/** Reads `file`, first copying `sampleFile` to it when it does not exist. No file at all means no settings. */
export function loadLocalSettings(file: string, sampleFile: string): LocalSettings {
  let created = false;
  if (!fs.existsSync(file)) {
    if (!fs.existsSync(sampleFile)) return { file, created, values: {}, keys: {} };
    fs.copyFileSync(sampleFile, file, fs.constants.COPYFILE_EXCL);
    created = true;
  }
  return { ...parseLocalSettings(fs.readFileSync(file, 'utf8'), file), created };
}

export interface UnresolvedReference {
  name: string;
  reference: string;
}

const REFERENCE = /\$\{(stack\.([A-Za-z0-9_]+)|vault:([A-Za-z0-9-]+))\}/g;

/** Substitutes `${stack.X}` / `${vault:X}` references; values with an unresolvable reference are dropped. */
export function resolveStackReferences(
  values: Record<string, string>,
  stack: Record<string, unknown> | undefined,
): { values: Record<string, string>; unresolved: UnresolvedReference[] } {
  const out: Record<string, string> = {};
  const unresolved: UnresolvedReference[] = [];
  const vaultTemplate =
    typeof stack?.['keyVaultUrlTemplate'] === 'string' ? stack['keyVaultUrlTemplate'] : undefined;
  for (const [name, value] of Object.entries(values)) {
    let missing: string | undefined;
    const resolved = value.replace(REFERENCE, (reference, _all, stackKey?: string, vaultName?: string) => {
      let replacement: unknown;
      if (stackKey !== undefined) replacement = stack?.[stackKey];
      else if (vaultName !== undefined && vaultTemplate)
        replacement = vaultTemplate.replace('{vault}', vaultName);
      if (typeof replacement === 'string' || typeof replacement === 'number') return String(replacement);
      missing ??= reference;
      return reference;
    });
    if (missing) unresolved.push({ name, reference: missing });
    else out[name] = resolved;
  }
  return { values: out, unresolved };
}

/** Copies values into `env` unless already defined there (Core Tools: the environment wins). */
export function applyToEnvironment(
  values: Record<string, string>,
  env: Record<string, string | undefined> = process.env,
): { applied: string[]; kept: string[] } {
  const applied: string[] = [];
  const kept: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (env[name] !== undefined) kept.push(name);
    else {
      env[name] = value;
      applied.push(name);
    }
  }
  return { applied, kept };
}
