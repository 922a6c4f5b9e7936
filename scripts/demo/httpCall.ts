/** One HTTP GET of a demo caller to `http://{ip}:{port}{path}`, reported as a `call` line (callerProtocol.ts). */
import http from 'node:http';
import type { CallLine } from './callerProtocol.js';

export function callOnce(ip: string, port: number, path: string, timeoutMs: number): Promise<CallLine> {
  const started = Date.now();
  return new Promise((resolve) => {
    const done = (fields: Partial<CallLine>) =>
      resolve({ kind: 'call', at: started, ip, ok: false, ms: Date.now() - started, ...fields });
    const req = http.get({ host: ip, port, path, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        } catch {
          // Not JSON: the status code says enough.
        }
        const status = res.statusCode ?? 0;
        done({
          ok: status >= 200 && status < 300,
          status,
          ...(typeof body['group'] === 'string' ? { group: body['group'] } : {}),
          ...(typeof body['tag'] === 'string' ? { tag: body['tag'] } : {}),
          ...(typeof body['digest'] === 'string' ? { digest: body['digest'] } : {}),
        });
      });
      res.on('error', (err) => done({ error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => done({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
  });
}
