/**
 * ETag preconditions of Azure DNS writes (Microsoft Learn, dns/dns-zones-records, "Etags"): no header, the write
 * always succeeds; `If-Match: <etag>`, only if the resource exists with that ETag; `If-Match: *`, only if it exists;
 * `If-None-Match: *`, only if it does not exist (any other If-None-Match value is ignored, as the REST spec says).
 * Otherwise 412 PreconditionFailed. The ETag is compared as sent, with surrounding quotes (or a W/ prefix) removed.
 */
import type { EmuRequest } from '../core/router.js';
import { privateDnsErrors } from './privateDnsErrors.js';

function header(req: EmuRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const bare = (etag: string): string =>
  etag
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');

export function checkPreconditions(req: EmuRequest, current: { etag: string } | undefined): void {
  const ifMatch = header(req, 'if-match');
  if (ifMatch !== undefined) {
    if (!current) throw privateDnsErrors.ifMatchFailed();
    if (bare(ifMatch) !== '*' && bare(ifMatch) !== current.etag) throw privateDnsErrors.ifMatchFailed();
  }
  const ifNoneMatch = header(req, 'if-none-match');
  if (ifNoneMatch !== undefined && bare(ifNoneMatch) === '*' && current)
    throw privateDnsErrors.ifNoneMatchFailed();
}
