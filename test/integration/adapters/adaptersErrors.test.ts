/**
 * The adapters' error mapping with the SDKs' real error objects (RestError from core-rest-pipeline, identity's
 * credential errors, aborts): classification, Retry-After variants, Table storage's codes in the body, and no
 * request (which may hold a secret value) kept on the mapped error.
 */
import {
  RestError,
  createHttpHeaders,
  createPipelineRequest,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import { AuthenticationError, CredentialUnavailableError } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { azureErrorCode, fromAzureError, retryAfterMs } from '../../../src/adapters/azureErrors.js';
import { ConflictError, NotFoundError, TerminalError, TransientError } from '../../../src/domain/errors.js';

function restError(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  code?: string,
): RestError {
  const request = createPipelineRequest({
    url: 'https://kv-apps.vault.azure.net/secrets/web-ip?api-version=2025-07-01',
    method: 'PUT',
    body: JSON.stringify({ value: 'the-secret-value' }),
  });
  const bodyAsText = typeof body === 'string' ? body : JSON.stringify(body);
  const response: PipelineResponse = {
    request,
    status,
    headers: createHttpHeaders({ 'x-ms-request-id': 'req-1', ...headers }),
    bodyAsText,
  };
  const message =
    typeof body === 'object' && body && 'error' in body
      ? (body as { error: { message: string } }).error.message
      : bodyAsText;
  return new RestError(message, { statusCode: status, request, response, ...(code ? { code } : {}) });
}

describe('fromAzureError', () => {
  it('a 429 without Retry-After is throttled and transient, with no retryAfterMs', () => {
    const e = fromAzureError(
      'Key Vault list',
      restError(429, { error: { code: 'Throttled', message: 'Too many requests' } }, {}, 'Throttled'),
    );
    expect(e).toBeInstanceOf(TransientError);
    expect((e as TransientError).throttled).toBe(true);
    expect((e as TransientError).retryAfterMs).toBeUndefined();
    expect(e.message).toBe('Key Vault list: 429 Throttled: Too many requests (request id req-1)');
  });

  it.each([
    [{ 'retry-after': '7' }, 7_000],
    [{ 'retry-after-ms': '250', 'retry-after': '7' }, 250],
    [{ 'x-ms-retry-after-ms': '1500' }, 1_500],
    [{ 'retry-after': 'Sun, 22 Nov 2026 00:00:10 GMT' }, 10_000],
    [{ 'retry-after': 'soon' }, undefined],
    [{}, undefined],
  ])('reads Retry-After headers (%o → %s ms)', (headers, expected) => {
    expect(retryAfterMs(createHttpHeaders(headers), Date.parse('2026-11-22T00:00:00Z'))).toBe(expected);
  });

  it('keeps Retry-After on a throttled error', () => {
    const e = fromAzureError(
      'ARM list',
      restError(429, { error: { code: 'TooManyRequests', message: 'slow down' } }, { 'retry-after': '7' }),
    );
    expect(e).toBeInstanceOf(TransientError);
    expect((e as TransientError).retryAfterMs).toBe(7_000);
  });

  it('classifies through the domain table: 404 not found, 400 terminal, 5xx transient, 412 conflict', () => {
    expect(
      fromAzureError(
        'x',
        restError(404, { error: { code: 'ResourceNotFound', message: 'gone' } }, {}, 'ResourceNotFound'),
      ),
    ).toBeInstanceOf(NotFoundError);
    expect(
      fromAzureError(
        'x',
        restError(400, { error: { code: 'InvalidImage', message: 'bad' } }, {}, 'InvalidImage'),
      ),
    ).toBeInstanceOf(TerminalError);
    expect(fromAzureError('x', restError(503, 'Service Unavailable'))).toBeInstanceOf(TransientError);
    expect(fromAzureError('x', restError(412, ''))).toBeInstanceOf(ConflictError);
  });

  it("reads Table storage's code from the odata error body (the SDK leaves RestError.code empty)", () => {
    const body = {
      'odata.error': {
        code: 'TableNotFound',
        message: { lang: 'en-US', value: 'The table specified does not exist.' },
      },
    };
    const raw = restError(404, body);
    expect(azureErrorCode(raw)).toBe('TableNotFound');
    const e = fromAzureError('Table storage get', raw);
    expect(e).toBeInstanceOf(NotFoundError);
    expect((e as NotFoundError).code).toBe('TableNotFound');
    expect(e.message).toContain('The table specified does not exist.');
    const busy = fromAzureError(
      'Table storage get',
      restError(503, { 'odata.error': { code: 'ServerBusy', message: { value: 'busy' } } }),
    );
    expect((busy as TransientError).throttled).toBe(true);
  });

  it('network errors (no response) are transient with their code', () => {
    const e = fromAzureError(
      'ARM get',
      new RestError('connect ECONNREFUSED 127.0.0.1:443', { code: 'ECONNREFUSED' }),
    );
    expect(e).toBeInstanceOf(TransientError);
    expect((e as TransientError).code).toBe('ECONNREFUSED');
    const send = fromAzureError(
      'ARM get',
      new RestError('socket hang up', { code: RestError.REQUEST_SEND_ERROR }),
    );
    expect(send).toBeInstanceOf(TransientError);
    const plain = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(fromAzureError('probe', plain)).toBeInstanceOf(TransientError);
  });

  it('aborts and timeouts are transient', () => {
    const abort = Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' });
    expect(fromAzureError('ARM get', abort)).toBeInstanceOf(TransientError);
    expect(fromAzureError('ARM get', new DOMException('timed out', 'TimeoutError'))).toBeInstanceOf(
      TransientError,
    );
  });

  it('credential failures: unavailable is transient, a 4xx from the token endpoint is terminal', () => {
    expect(
      fromAzureError('ARM get', new CredentialUnavailableError('no managed identity endpoint')),
    ).toBeInstanceOf(TransientError);
    const denied = new AuthenticationError(400, {
      error: 'invalid_client',
      error_description: 'unknown client id',
    });
    expect(fromAzureError('ARM get', denied)).toBeInstanceOf(TerminalError);
  });

  it('domain errors pass through; errors that are not Azure answers are returned unchanged', () => {
    const t = new TransientError('already mapped');
    expect(fromAzureError('x', t)).toBe(t);
    const bug = new TypeError('undefined is not a function');
    expect(fromAzureError('x', bug)).toBe(bug);
  });

  it('never keeps the request (or its body) on the mapped error', () => {
    const e = fromAzureError(
      'Key Vault set',
      restError(400, { error: { code: 'BadParameter', message: 'bad tags' } }),
    );
    expect(e.cause).toBeUndefined();
    expect(JSON.stringify({ ...e, message: e.message })).not.toContain('the-secret-value');
    expect(e.message).not.toContain('the-secret-value');
  });
});
