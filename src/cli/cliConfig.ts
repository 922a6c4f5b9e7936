/**
 * Where `acibg` sends its request and with which key: each from the flag, else the environment, else the local
 * stack's `.local/stack.json` (found from the current directory up, so it works anywhere in the project).
 * Actions and status use different keys (the status key must not open the actions, docs/design.md): `--key`,
 * then `ACIBG_KEY` / `ACIBG_STATUS_KEY`, then stack.json's `actionsKey` / `functionKey`. A stack.json key is only
 * sent to that stack's own URL, never to a URL given some other way.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ConnectionFlags } from './cliArgs.js';
import { CliError, EXIT } from './cliError.js';

export type KeyKind = 'action' | 'status';

export interface Target {
  /** Without a trailing slash, e.g. `http://127.0.0.1:7071`. */
  baseUrl: string;
  key: string;
  /** Where each came from (`--url`, `ACIBG_URL`, `/repo/.local/stack.json functionsBaseUrl`...), for messages. */
  urlSource: string;
  keySource: string;
  /**
   * An Entra ID access token for the app (`ACIBG_TOKEN`), sent as a bearer token when App Service authentication
   * fronts the actions (OPERATOR_ACTIONS_REQUIRE_SIGN_IN). Only from the environment: a flag would leave it in the
   * shell history and the process list.
   */
  token?: string;
}

export interface LocalStack {
  file: string;
  data: Record<string, unknown>;
}

const KEY_SOURCES: Record<KeyKind, { env: string; stackField: string; what: string }> = {
  action: { env: 'ACIBG_KEY', stackField: 'actionsKey', what: 'actions key' },
  status: { env: 'ACIBG_STATUS_KEY', stackField: 'functionKey', what: 'status key' },
};

/** The nearest `.local/stack.json` from `startDir` up to the file system root, if any. */
export function findStackFile(startDir: string): string | undefined {
  let dir = path.resolve(startDir);
  for (;;) {
    const candidate = path.join(dir, '.local', 'stack.json');
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function readLocalStack(file: string): LocalStack {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`Cannot read ${file}: ${(err as Error).message}`, EXIT.notConfigured);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new CliError(`${file} is not a JSON object.`, EXIT.notConfigured);
  }
  return { file, data: data as Record<string, unknown> };
}

function stackString(stack: LocalStack | undefined, field: string): string | undefined {
  const value = stack?.data[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function normaliseUrl(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`The URL from ${source} is not a URL: '${raw}'.`, EXIT.usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`The URL from ${source} must be http or https, got '${url.protocol}'.`, EXIT.usage);
  }
  return url.href.replace(/\/+$/, '');
}

function stackHint(stack: LocalStack | undefined, field: string): string {
  return stack ? `${stack.file} has no ${field}` : 'no .local/stack.json from the current directory up';
}

function resolveUrl(
  flags: ConnectionFlags,
  env: Record<string, string | undefined>,
  stack: LocalStack | undefined,
) {
  if (flags.url) return { url: normaliseUrl(flags.url, '--url'), source: '--url' };
  if (env['ACIBG_URL']) return { url: normaliseUrl(env['ACIBG_URL'], 'ACIBG_URL'), source: 'ACIBG_URL' };
  const fromStack = stackString(stack, 'functionsBaseUrl');
  if (fromStack && stack) {
    const source = `${stack.file} functionsBaseUrl`;
    return { url: normaliseUrl(fromStack, source), source };
  }
  throw new CliError(
    `No URL for the Functions app: pass --url, set ACIBG_URL, or run inside the project while the local stack ` +
      `runs (npm start). Looked at: --url (not given), ACIBG_URL (not set), ${stackHint(stack, 'functionsBaseUrl')}.`,
    EXIT.notConfigured,
  );
}

export function resolveTarget(input: {
  kind: KeyKind;
  flags: ConnectionFlags;
  env: Record<string, string | undefined>;
  stack: LocalStack | undefined;
}): Target {
  const { kind, flags, env, stack } = input;
  const { url, source: urlSource } = resolveUrl(flags, env, stack);
  const k = KEY_SOURCES[kind];
  const token = env['ACIBG_TOKEN'] ? { token: env['ACIBG_TOKEN'] } : {};
  if (flags.key) return { baseUrl: url, key: flags.key, urlSource, keySource: '--key', ...token };
  const fromEnv = env[k.env];
  if (fromEnv) return { baseUrl: url, key: fromEnv, urlSource, keySource: k.env, ...token };

  const stackUrl = stackString(stack, 'functionsBaseUrl');
  const sameStack = stackUrl !== undefined && normaliseUrl(stackUrl, 'stack.json') === url;
  const fromStack = stackString(stack, k.stackField);
  if (stack && sameStack && fromStack) {
    return { baseUrl: url, key: fromStack, urlSource, keySource: `${stack.file} ${k.stackField}`, ...token };
  }
  const stackPart =
    stack && fromStack && !sameStack
      ? `${stack.file} ${k.stackField} (not used: it belongs to ${stackUrl ?? 'another stack'}, not ${url})`
      : stackHint(stack, k.stackField);
  throw new CliError(
    `No ${k.what} for ${url}: pass --key or set ${k.env}. ` +
      `Looked at: --key (not given), ${k.env} (not set), ${stackPart}.`,
    EXIT.notConfigured,
  );
}
