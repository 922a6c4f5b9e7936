/**
 * The outbound HTTP call Event Grid makes to a webhook: one request per call (no connection reuse, so a peer that
 * closes idle sockets cannot fail a delivery), a hard timeout, and a bounded read of the answer. HTTPS endpoints are
 * trusted with the system roots plus the emulator's CA.
 */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';

export type WebhookResult =
  | { kind: 'response'; status: number; headers: http.IncomingHttpHeaders; body: string }
  | { kind: 'timeout' }
  | { kind: 'error'; message: string }
  | { kind: 'aborted' };

export interface WebhookRequest {
  url: string;
  method: 'POST' | 'OPTIONS';
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

const MAX_ANSWER_BYTES = 64 * 1024;

export function createWebhookClient(extraCaPem: string | undefined) {
  const ca = extraCaPem ? [...tls.rootCertificates, extraCaPem] : undefined;

  return function callWebhook(request: WebhookRequest): Promise<WebhookResult> {
    return new Promise((resolve) => {
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        resolve({ kind: 'error', message: `Invalid URL '${request.url}'.` });
        return;
      }
      const payload = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
      const headers: Record<string, string> = { ...request.headers };
      if (payload) headers['content-length'] = String(payload.length);
      const options: https.RequestOptions = { method: request.method, headers, agent: false };
      if (url.protocol === 'https:' && ca) options.ca = ca;
      const transport = url.protocol === 'https:' ? https : http;

      let settled = false;
      const finish = (result: WebhookResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const req = transport.request(url, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
        });
        res.on('end', () =>
          finish({
            kind: 'response',
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', (err) => finish({ kind: 'error', message: err.message }));
      });
      const timer = setTimeout(() => {
        finish({ kind: 'timeout' });
        req.destroy();
      }, request.timeoutMs);
      const onAbort = () => {
        finish({ kind: 'aborted' });
        req.destroy();
      };
      if (request.signal?.aborted) {
        onAbort();
        return;
      }
      request.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err: NodeJS.ErrnoException) =>
        finish({ kind: 'error', message: err.code ? `${err.code}: ${err.message}` : err.message }),
      );
      req.end(payload);
    });
  };
}

export type CallWebhook = ReturnType<typeof createWebhookClient>;
