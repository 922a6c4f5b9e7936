/**
 * Reading a request body the way a host that must survive hostile callers does: only after the caller's key was
 * accepted (server.ts checks it first), refused at once when the declared `Content-Length` is over the limit, and
 * streamed with the limit counted as it arrives, so memory never holds more than the limit.
 *
 * Limits:
 * - HTTP triggers: 104,857,600 bytes, the Functions host's default request body limit (the app setting
 *   `FUNCTIONS_REQUEST_BODY_SIZE_LIMIT` raises it: https://learn.microsoft.com/azure/azure-functions/node-http-stream).
 * - The Event Grid webhook: what Event Grid can send. An event is at most 1 MB and a batched delivery at most
 *   `preferredBatchSizeInKilobytes` (at most 1024) (https://learn.microsoft.com/azure/event-grid/quotas-limits,
 *   https://learn.microsoft.com/azure/event-grid/delivery-and-retry); a larger body comes from no Event Grid and is
 *   refused with 413, which Event Grid does not retry for a webhook (delivery-and-retry, "Retry schedule").
 *   The Functions host would read up to 100 MB here too: this is the local host being stricter than Azure about a
 *   body Azure never sends, so a probe cannot make it hold 100 MB per request.
 */
import type http from 'node:http';

export const HTTP_TRIGGER_MAX_BODY_BYTES = 100 * 1024 * 1024;
/** 1 MiB plus room for a batch's brackets and commas. */
export const EVENTGRID_MAX_BODY_BYTES = 1024 * 1024 + 4096;

export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
  constructor(readonly limit: number) {
    super(`the request body is larger than ${limit} bytes`);
  }
}

/** The declared length, when it is a number. */
function declaredLength(req: http.IncomingMessage): number | undefined {
  const raw = req.headers['content-length'];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * The body, at most `limit` bytes. Rejects with BodyTooLargeError as soon as the declared length or the bytes
 * received pass the limit (the caller answers 413 and closes the connection: the rest is never read), and with
 * the stream's error when the caller goes away.
 */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = declaredLength(req);
  if (declared !== undefined && declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      if (error) {
        // Stop reading: the reply closes the connection, so nothing more of this body reaches memory.
        req.pause();
        reject(error);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        finish(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => finish());
    req.once('error', (e) => finish(e));
    req.once('close', () => {
      if (!req.complete) finish(new Error('the caller closed the connection before the body ended'));
    });
  });
}

/**
 * Whether the JSON text nests arrays/objects deeper than `max`, decided by one scan of the text (no parse, no
 * recursion), so a body of 10,000 nested arrays is refused before anything is built from it.
 */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
