/**
 * One place that turns what the Azure SDKs throw (RestError with or without a response, Node network errors,
 * aborts and timeouts, @azure/identity credential failures) into the domain's errors, through the domain's
 * classification table (`toDomainError`). Retry-After / retry-after-ms / x-ms-retry-after-ms are kept, so a
 * 429 that the SDK did not retry (Key Vault often sends none) is a TransientError the domain retries itself.
 *
 * Messages carry the operation, status, code, service message and request id; never the request (which can
 * hold a secret value) and never the SDK error object as `cause` (its `request` has the body).
 */
import {
  ConflictError,
  TerminalError,
  TransientError,
  toDomainError,
  type AzureErrorInfo,
} from '../domain/errors.js';

const MAX_MESSAGE = 500;

interface HeadersLike {
  get(name: string): string | undefined | null;
}

interface RestErrorLike {
  name?: string;
  message?: string;
  code?: string;
  statusCode?: number;
  response?: { status?: number; headers?: HeadersLike; bodyAsText?: string | null };
}

/** `{ error: { code, message } }` (ARM, Key Vault) or `{ "odata.error": { code, message: { value } } }` (Tables). */
function parseErrorBody(text: string | null | undefined): { code?: string; message?: string } {
  if (!text || !text.trimStart().startsWith('{')) return {};
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const err = (body['odata.error'] ?? body['error']) as { code?: unknown; message?: unknown } | undefined;
    if (!err || typeof err !== 'object') return {};
    const message =
      typeof err.message === 'string'
        ? err.message
        : typeof (err.message as { value?: unknown } | undefined)?.value === 'string'
          ? (err.message as { value: string }).value
          : undefined;
    return {
      ...(typeof err.code === 'string' ? { code: err.code } : {}),
      ...(message !== undefined ? { message } : {}),
    };
  } catch {
    return {};
  }
}

/**
 * The service's error code. Most SDKs put it in `RestError.code`; @azure/data-tables leaves it there undefined and
 * the JSON error body in the message instead.
 */
export function azureErrorCode(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const r = e as RestErrorLike;
  if (typeof r.code === 'string' && r.code) return r.code;
  return parseErrorBody(r.response?.bodyAsText).code ?? parseErrorBody(r.message).code;
}

/** Retry-After: delta seconds or an HTTP date; retry-after-ms / x-ms-retry-after-ms: milliseconds. */
export function retryAfterMs(headers: HeadersLike | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const raw = headers.get(name);
    if (raw !== undefined && raw !== null && raw.trim() !== '') {
      const v = Number(raw);
      if (Number.isFinite(v) && v >= 0) return v;
    }
  }
  const raw = headers.get('retry-after');
  if (raw === undefined || raw === null || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function truncate(s: string): string {
  const oneLine = s.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_MESSAGE ? `${oneLine.slice(0, MAX_MESSAGE)}…` : oneLine;
}

function isDomainError(e: unknown): e is TransientError | TerminalError | ConflictError {
  return e instanceof TransientError || e instanceof TerminalError || e instanceof ConflictError;
}

function isRestError(e: Error): e is Error & RestErrorLike {
  if (!(e instanceof Error)) return false;
  const r = e as RestErrorLike;
  // Duck-typed: several copies of core-rest-pipeline may be installed, so `instanceof RestError` is unreliable.
  return r.name === 'RestError' || typeof r.statusCode === 'number' || r.response !== undefined;
}

const CREDENTIAL_ERRORS = new Set([
  'CredentialUnavailableError',
  'AuthenticationError',
  'AggregateAuthenticationError',
]);
const ABORT_ERRORS = new Set(['AbortError', 'TimeoutError']);

/** Map anything an SDK call threw to a domain error. Domain errors pass through; unknown errors are returned
 * unchanged (bugs are not Azure's answers; the domain treats them as unexpected). */
export function fromAzureError(what: string, e: unknown): Error {
  if (isDomainError(e)) return e;
  if (!(e instanceof Error)) return new Error(`${what}: ${truncate(String(e))}`);

  if (ABORT_ERRORS.has(e.name))
    return new TransientError(`${what}: request aborted or timed out`, { code: 'AbortError' });

  if (CREDENTIAL_ERRORS.has(e.name)) {
    const status = (e as RestErrorLike).statusCode;
    // A token endpoint answering 4xx is a configuration problem; anything else (endpoint unreachable, 5xx,
    // identity not ready yet) can clear up, and retries are bounded by the caller.
    if (typeof status === 'number' && status >= 400 && status < 500 && status !== 429)
      return new TerminalError(`${what}: cannot get a token: ${truncate(e.message)}`, {
        statusCode: status,
        code: 'CredentialFailed',
      });
    return new TransientError(`${what}: cannot get a token: ${truncate(e.message)}`, {
      code: 'CredentialUnavailable',
    });
  }

  if (isRestError(e)) {
    const statusCode = e.statusCode ?? e.response?.status;
    const headers = e.response?.headers;
    const requestId = headers?.get('x-ms-request-id') ?? undefined;
    const code = azureErrorCode(e);
    const parsed = parseErrorBody(e.message);
    const info: AzureErrorInfo = {
      ...(statusCode !== undefined ? { statusCode } : {}),
      ...(code ? { code } : {}),
      message:
        truncate(parsed.message ?? e.message ?? 'failed') + (requestId ? ` (request id ${requestId})` : ''),
    };
    const after = retryAfterMs(headers);
    if (after !== undefined) info.retryAfterMs = after;
    return toDomainError(what, info);
  }

  // Node network errors that reached us without a RestError wrapper (fetch, sockets).
  const code = (e as { code?: unknown }).code ?? (e.cause as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^E[A-Z_]+$/.test(code))
    return toDomainError(what, { code, message: truncate(e.message) });
  return e;
}

/** Status of an SDK error (for adapters that treat 404 as a normal answer). */
export function statusOf(e: unknown): number | undefined {
  if (!(e instanceof Error)) return undefined;
  const r = e as RestErrorLike;
  return r.statusCode ?? r.response?.status;
}
