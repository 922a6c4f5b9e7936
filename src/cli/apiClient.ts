/**
 * The HTTP calls of `acibg`: `GET {base}/api/status[/{app}]` and `POST {base}/api/apps/{app}/{action}` with the
 * key in `x-functions-key` (the header the Functions host reads, as `?code=` would end up in logs). Answers other
 * than 2xx become a CliError with the server's reason and an exit code per case; so do network failures.
 * Node's fetch trusts NODE_EXTRA_CA_CERTS, which is how a private CA (the emulator's) is added.
 */
import type { ActionName } from './cliArgs.js';
import { CliError, EXIT } from './cliError.js';
import type { Target } from './cliConfig.js';

/** Cold starts of a Consumption-plan app can take tens of seconds; past this, say so rather than hang. */
const TIMEOUT_MS = 60_000;

export interface ApiAnswer {
  status: number;
  /** Parsed JSON, or undefined when the body is not JSON. */
  json: unknown;
  text: string;
}

export interface ActionAccepted {
  app: string;
  action: string;
  rolloutId?: string;
}

const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function unreachable(target: Target, err: unknown): CliError {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') {
    return new CliError(`No answer from ${target.baseUrl} within ${TIMEOUT_MS / 1000} s.`, EXIT.unreachable);
  }
  const code = e.cause?.code ?? e.cause?.message ?? e.message;
  if (TLS_CODES.has(code)) {
    return new CliError(
      `The TLS certificate of ${target.baseUrl} is not trusted (${code}): set NODE_EXTRA_CA_CERTS to its CA's ` +
        `certificate file.`,
      EXIT.unreachable,
    );
  }
  return new CliError(
    `Cannot reach ${target.baseUrl} (${code}, URL from ${target.urlSource}). Is the Functions app running ` +
      `(locally: npm start)?`,
    EXIT.unreachable,
  );
}

async function call(
  target: Target,
  method: string,
  pathAndQuery: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { 'x-functions-key': target.key, accept: 'application/json' };
  if (target.token) headers['authorization'] = `Bearer ${target.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${target.baseUrl}${pathAndQuery}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw unreachable(target, err);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** The reason a server gave: `message`, else `error`, else the start of the body's text. */
export function serverReason(answer: ApiAnswer): string | undefined {
  const o = answer.json as { message?: unknown; error?: unknown } | undefined;
  if (typeof o?.message === 'string' && o.message) return o.message;
  if (typeof o?.error === 'string' && o.error) return o.error;
  const text = answer.text.trim();
  return text ? text.slice(0, 300) : undefined;
}

function keyRefused(answer: ApiAnswer, target: Target, forActions: boolean): CliError {
  const which = forActions
    ? 'actions need the actions key, not the status key'
    : 'status needs the status key (functionKey) or a host key';
  return new CliError(
    `The key was refused (${answer.status}): ${which}. Key from ${target.keySource}.`,
    EXIT.keyRefused,
  );
}

function failed(answer: ApiAnswer, what: string): CliError {
  const reason = serverReason(answer);
  return new CliError(`${what} failed (${answer.status})${reason ? `: ${reason}` : '.'}`, EXIT.failed);
}

/** Whether a 404 came from the app (a JSON error naming what is missing) rather than from a missing route. */
function appAnswered404(answer: ApiAnswer): boolean {
  const o = answer.json as { error?: unknown } | undefined;
  return typeof o?.error === 'string';
}

export async function fetchStatus(target: Target, app?: string): Promise<unknown> {
  const path = app === undefined ? '/api/status' : `/api/status/${encodeURIComponent(app)}`;
  const answer = await call(target, 'GET', path);
  if (answer.status === 200 && answer.json !== undefined) return answer.json;
  if (answer.status === 401 || answer.status === 403) throw keyRefused(answer, target, false);
  if (answer.status === 404 && app !== undefined && appAnswered404(answer)) {
    throw new CliError(`Unknown app '${app}': ${serverReason(answer)}`, EXIT.notFound);
  }
  if (answer.status === 404) {
    throw new CliError(
      `No status route at ${target.baseUrl}${path}: is this the Functions app?`,
      EXIT.notFound,
    );
  }
  throw failed(answer, 'Status');
}

export async function postAction(
  target: Target,
  app: string,
  action: ActionName,
  body: { to?: string; reason?: string },
): Promise<ActionAccepted> {
  const path = `/api/apps/${encodeURIComponent(app)}/${encodeURIComponent(action)}`;
  const answer = await call(target, 'POST', path, Object.keys(body).length > 0 ? body : undefined);
  if (answer.status >= 200 && answer.status < 300) {
    const accepted = answer.json as Partial<ActionAccepted> | undefined;
    return { app, action, ...accepted };
  }
  if (answer.status === 401 && (answer.json as { error?: unknown } | undefined)?.error === 'SignInRequired')
    throw new CliError(
      `${serverReason(answer)}. Set ACIBG_TOKEN to an Entra ID token for the app, e.g. ` +
        `ACIBG_TOKEN=$(az account get-access-token --resource api://<app id> --query accessToken -o tsv).`,
      EXIT.keyRefused,
    );
  if (answer.status === 401 || answer.status === 403) throw keyRefused(answer, target, true);
  if (answer.status === 404 && appAnswered404(answer)) {
    throw new CliError(`Unknown app '${app}': ${serverReason(answer)}`, EXIT.notFound);
  }
  if (answer.status === 404) {
    throw new CliError(
      `No operator actions route at ${target.baseUrl}${path}: is the operatorActions function deployed there?`,
      EXIT.notFound,
    );
  }
  if (answer.status === 409) {
    throw new CliError(
      `${action} does not apply to ${app} now: ${serverReason(answer) ?? 'the server gave no reason'}`,
      EXIT.notApplicable,
    );
  }
  throw failed(answer, `${action} ${app}`);
}
