/**
 * Paging of Private DNS listings: `$top` (1-1000; without it, 100 items, the spec's "If not specified, returns up to
 * 100 record sets") and an opaque `$skipToken` in the absolute `nextLink`, which carries `$top` on, so every page of
 * one listing has the same size (x-ms-pageable in specification/privatedns/.../2020-06-01/privatedns.json). The
 * default page size is an emulator option (pageSize.privateDns), Azure's 100 unless a test asks for less.
 */
import type { EmuRequest, EmuResponse } from '../core/router.js';
import { privateDnsErrors } from './privateDnsErrors.js';

const MAX_TOP = 1000;

function topOf(req: EmuRequest, defaultSize: number): number {
  const raw = req.query.get('$top');
  if (raw === null) return defaultSize;
  const top = Number(raw);
  if (!/^\d+$/.test(raw) || top < 1 || top > MAX_TOP) throw privateDnsErrors.invalidTop(raw);
  return top;
}

function offsetOf(req: EmuRequest): number {
  const token = req.query.get('$skipToken') ?? req.query.get('$skiptoken');
  if (!token) return 0;
  const decoded = /^o:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!decoded) throw privateDnsErrors.invalidSkipToken(token);
  return Number(decoded[1]);
}

/** One page of `items` (already in a stable order) with `nextLink` while more remain. */
export function page<T>(
  req: EmuRequest,
  origin: string,
  items: readonly T[],
  render: (item: T) => unknown,
  defaultSize: number,
): EmuResponse {
  const top = topOf(req, defaultSize);
  const offset = offsetOf(req);
  const body: Record<string, unknown> = { value: items.slice(offset, offset + top).map(render) };
  if (offset + top < items.length) {
    const next = Buffer.from(`o:${offset + top}`).toString('base64url');
    const version = encodeURIComponent(req.query.get('api-version') ?? '');
    const explicitTop = req.query.get('$top') !== null ? `&$top=${top}` : '';
    body['nextLink'] = `${origin}${req.path}?api-version=${version}${explicitTop}&$skipToken=${next}`;
  }
  return { status: 200, body };
}
