import { describe, expect, it } from 'vitest';
import { fromRpcHttpResponse, serializeCookie, toRpcHttpRequest } from '../../../host/src/httpTriggers.js';

describe('HTTP trigger conversion', () => {
  it('turns a request into the worker RPC shape', () => {
    const rpc = toRpcHttpRequest({
      method: 'POST',
      url: 'http://127.0.0.1:7071/api/status/web?x=1',
      headers: { 'Content-Type': 'text/plain', 'x-multi': ['a', 'b'], skipped: undefined },
      params: { app: 'web' },
      body: Buffer.from('hi'),
    });
    expect(rpc).toMatchObject({
      method: 'POST',
      url: 'http://127.0.0.1:7071/api/status/web?x=1',
      headers: { 'content-type': 'text/plain', 'x-multi': 'a, b' },
      params: { app: 'web' },
    });
    expect(Buffer.from(rpc.body!.bytes!).toString()).toBe('hi');
    expect(
      toRpcHttpRequest({ method: 'GET', url: 'http://h/', headers: {}, params: {}, body: Buffer.alloc(0) })
        .body,
    ).toBe(undefined);
  });

  it('turns the RPC HTTP output into a response, cookies included', () => {
    const reply = fromRpcHttpResponse({
      returnValue: {
        http: {
          statusCode: '201',
          headers: { 'content-type': 'application/json' },
          cookies: [
            { name: 'a', value: '1', path: { value: '/' }, secure: { value: true }, sameSite: 'strict' },
          ],
          body: { bytes: new Uint8Array(Buffer.from('{"ok":true}')) },
        },
      },
    });
    expect(reply.status).toBe(201);
    expect(reply.headers).toEqual([
      ['content-type', 'application/json'],
      ['set-cookie', 'a=1; Path=/; Secure; SameSite=Strict'],
    ]);
    expect(reply.body.toString()).toBe('{"ok":true}');
  });

  it('answers 204 when the function returned no HTTP output', () => {
    expect(fromRpcHttpResponse({ returnValue: null }).status).toBe(204);
  });

  it('serialises cookie attributes like Set-Cookie', () => {
    expect(
      serializeCookie({
        name: 's',
        value: 'v',
        domain: { value: 'example.com' },
        expires: { value: { seconds: 0 } },
        maxAge: { value: 60 },
        httpOnly: { value: true },
        sameSite: 'explicitNone',
      }),
    ).toBe(
      's=v; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60; HttpOnly; SameSite=None',
    );
  });
});
