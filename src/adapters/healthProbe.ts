/**
 * HTTP health checks against a container group's private IP: a plain GET with a timeout (Node's fetch).
 * Never throws: a refused connection or a timeout is `{ ok: false, error }`, so the domain can say why.
 */
import type { HealthProbe, HealthResult } from '../domain/ports.js';

const SNIPPET = 200;
/** Read at most this much of the body (the snippet is for messages, not for parsing). */
const BODY_READ_MAX = 4096;

async function readSnippet(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < BODY_READ_MAX) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    // Do not wait for (or download) the rest of a large body.
    reader.cancel().catch(() => undefined);
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, SNIPPET);
}

function describeFailure(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  const code = err.cause?.code;
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ETIMEDOUT: 'connection timed out',
    UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
    UND_ERR_SOCKET: 'connection closed',
  };
  if (code) return `${reasons[code] ?? err.cause?.message ?? 'request failed'} (${code})`;
  return err.cause?.message ?? err.message ?? String(e);
}

export class HttpHealthProbe implements HealthProbe {
  async check(url: string, timeoutMs: number): Promise<HealthResult> {
    const started = performance.now();
    const signal = AbortSignal.timeout(Math.max(1, timeoutMs));
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const res = await fetch(url, {
        method: 'GET',
        signal,
        redirect: 'manual',
        headers: { accept: 'application/json, text/plain, */*', 'user-agent': 'aci-bluegreen-health/1' },
      });
      let bodySnippet = '';
      try {
        bodySnippet = await readSnippet(res);
      } catch {
        // The status is the answer; a body cut short does not change it.
      }
      return {
        ok: res.status >= 200 && res.status < 300,
        status: res.status,
        ...(bodySnippet ? { bodySnippet } : {}),
        durationMs: elapsed(),
      };
    } catch (e) {
      return { ok: false, error: describeFailure(e, timeoutMs), durationMs: elapsed() };
    }
  }
}
