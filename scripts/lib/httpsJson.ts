/**
 * A small JSON client for the scripts: talks to the emulator over HTTPS with its CA given per request (the
 * script may start before the CA exists, so NODE_EXTRA_CA_CERTS cannot be relied on), and to plain-HTTP
 * services (the functions host, Azurite).
 */
import http from 'node:http';
import https from 'node:https';

export interface JsonResponse<T = unknown> {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: T;
  text: string;
}

export interface JsonRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** PEM of the CA to trust for https URLs. */
  ca?: string | Buffer;
  timeoutMs?: number;
}

export function requestJson<T = unknown>(url: string, init: JsonRequest = {}): Promise<JsonResponse<T>> {
  const target = new URL(url);
  const payload = init.body === undefined ? undefined : Buffer.from(JSON.stringify(init.body));
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  if (payload) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(payload.length);
  }
  const options: https.RequestOptions = {
    method: init.method ?? 'GET',
    headers,
    timeout: init.timeoutMs ?? 30_000,
  };
  if (init.ca) options.ca = init.ca;
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(target, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // Not JSON: keep the text.
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body as T, text });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${options.method} ${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}
