/** One error factory per wire format, so every service answers with the real service's envelope. */
import type { EmuResponse } from './router.js';

export type ErrorStyle = 'arm' | 'keyvault' | 'eventgrid' | 'plain' | 'registry';

export class EmulatorHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly style: ErrorStyle = 'arm',
    readonly headers: Record<string, string> = {},
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** A long-running operation's failure, as ARM's async-operation status body carries it (`error`). */
export interface OperationError {
  code: string;
  message: string;
}

export function armError(status: number, code: string, message: string, target?: string): EmulatorHttpError {
  return new EmulatorHttpError(status, code, message, 'arm', {}, target ? { target } : undefined);
}

export function keyVaultError(status: number, code: string, message: string): EmulatorHttpError {
  return new EmulatorHttpError(status, code, message, 'keyvault');
}

export function errorResponse(err: EmulatorHttpError, requestId: string): EmuResponse {
  const headers: Record<string, string> = { 'x-ms-request-id': requestId, ...err.headers };
  if (err.style === 'keyvault') {
    return { status: err.status, headers, body: { error: { code: err.code, message: err.message } } };
  }
  // A registry's data plane: the distribution-spec error body (opencontainers/distribution-spec, "Error Codes").
  if (err.style === 'registry')
    return {
      status: err.status,
      headers,
      body: {
        errors: [{ code: err.code, message: err.message, ...(err.details ? { detail: err.details } : {}) }],
      },
    };
  if (err.style === 'plain')
    return { status: err.status, headers, body: { code: err.code, message: err.message } };
  const target = (err.details as { target?: string } | undefined)?.target;
  return {
    status: err.status,
    headers: { ...headers, 'x-ms-failure-cause': 'gateway' },
    body: { error: { code: err.code, message: err.message, ...(target ? { target } : {}) } },
  };
}

export function notImplemented(what: string): EmulatorHttpError {
  return armError(501, 'NotImplemented', `The local emulator does not implement ${what}.`);
}
