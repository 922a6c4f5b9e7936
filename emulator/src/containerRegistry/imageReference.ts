/**
 * Image references as Docker/containerd read them (`[host[:port]/]path[:tag][@sha256:…]`) and the behaviour an
 * emulated image shows when a container group runs it, with the string shorthands the control API accepts.
 */
import crypto from 'node:crypto';
import type { ImageBehavior } from '../core/context.js';

export interface ImageReference {
  /** Registry host, lower case; `docker.io` when the reference names none. */
  host: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;
/** The distribution spec's repository name grammar (path components separated by `/`). */
export const REPOSITORY_PATTERN =
  /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
export const TAG_PATTERN = /^[\w][\w.-]{0,127}$/;

export function parseImageReference(image: string): ImageReference | undefined {
  let rest = image.trim();
  if (!rest) return undefined;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1).toLowerCase();
    rest = rest.slice(0, at);
    if (!DIGEST_PATTERN.test(digest)) return undefined;
  }
  let host = 'docker.io';
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    // Docker's rule: the first component is a registry host when it has a dot or a port, or is localhost.
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      host = first.toLowerCase();
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_PATTERN.test(tag)) return undefined;
  }
  if (host === 'docker.io' && !rest.includes('/')) rest = `library/${rest}`;
  if (!REPOSITORY_PATTERN.test(rest)) return undefined;
  if (!tag && !digest) tag = 'latest';
  return { host, repository: rest, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** A stable digest for an image the emulator does not host (a public image), derived from its name. */
export function derivedDigest(text: string): string {
  return `sha256:${crypto.createHash('sha256').update(text).digest('hex')}`;
}

export function randomDigest(): string {
  return `sha256:${crypto.randomBytes(32).toString('hex')}`;
}

const MODES = ['healthy', 'unhealthy', 'crash', 'degrade', 'pullFailure'] as const;
/** A day: long enough for any test or demo, short enough to catch a unit mistake (ms for s). */
const MAX_DEGRADE_SECONDS = 86_400;

function integer(value: unknown, name: string, min: number, max: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max}.`);
  }
  return n;
}

/**
 * Accepts `{ mode, ... }` or a shorthand: `healthy`, `unhealthy[:status]`, `crash[:exitCode]`, `slow:<seconds>`,
 * `pull-failure[:notFound|unauthorized]` (also `pullFailure`), `pull-failure-then-ok:<N>` (the first N pull
 * attempts of each container fail, then it pulls and runs healthy), `degrade:<N>` (healthy for N seconds after
 * the container starts, then 503). Throws with a message naming the problem.
 */
export function parseBehavior(input: unknown): ImageBehavior {
  if (input === undefined || input === null) return { mode: 'healthy' };
  if (typeof input === 'string') {
    const [rawMode = '', arg] = input.trim().split(':', 2) as [string, string | undefined];
    const mode = rawMode.toLowerCase();
    switch (mode) {
      case 'healthy':
        return arg === undefined
          ? { mode: 'healthy' }
          : { mode: 'healthy', startDelaySeconds: integer(arg, 'startDelaySeconds', 0, 3600) };
      case 'slow':
        return { mode: 'healthy', startDelaySeconds: integer(arg ?? '5', 'slow:<seconds>', 0, 3600) };
      case 'unhealthy':
        return arg === undefined
          ? { mode: 'unhealthy', status: 503 }
          : { mode: 'unhealthy', status: integer(arg, 'status', 100, 599) };
      case 'crash':
        return arg === undefined
          ? { mode: 'crash', exitCode: 1 }
          : { mode: 'crash', exitCode: integer(arg, 'exitCode', 0, 255) };
      case 'pull-failure':
      case 'pullfailure':
        return { mode: 'pullFailure', reason: pullFailureReason(arg ?? 'notFound') };
      case 'pull-failure-then-ok':
        return { mode: 'healthy', failPulls: integer(arg ?? '1', 'pull-failure-then-ok:<N>', 1, 100) };
      case 'degrade':
        if (arg === undefined) throw new Error('degrade needs its seconds: degrade:<seconds>.');
        return { mode: 'degrade', afterSeconds: integer(arg, 'degrade:<seconds>', 0, MAX_DEGRADE_SECONDS) };
      default:
        throw new Error(
          `Unknown behavior '${input}'. Use healthy, unhealthy[:status], crash[:exitCode], slow:<seconds>, degrade:<seconds>, pull-failure[:notFound|unauthorized] or pull-failure-then-ok:<N>.`,
        );
    }
  }
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new Error('behavior must be a string shorthand or an object { mode, ... }.');
  }
  const o = input as Record<string, unknown>;
  const mode = o['mode'];
  if (typeof mode !== 'string' || !(MODES as readonly string[]).includes(mode)) {
    throw new Error(`behavior.mode must be one of ${MODES.join(', ')}.`);
  }
  switch (mode) {
    case 'healthy':
      return {
        mode,
        ...(o['startDelaySeconds'] !== undefined
          ? { startDelaySeconds: integer(o['startDelaySeconds'], 'startDelaySeconds', 0, 3600) }
          : {}),
        ...(o['failPulls'] !== undefined ? { failPulls: integer(o['failPulls'], 'failPulls', 1, 100) } : {}),
      };
    case 'unhealthy':
      return {
        mode,
        status: o['status'] === undefined ? 503 : integer(o['status'], 'status', 100, 599),
        ...(o['startDelaySeconds'] !== undefined
          ? { startDelaySeconds: integer(o['startDelaySeconds'], 'startDelaySeconds', 0, 3600) }
          : {}),
      };
    case 'crash':
      return { mode, exitCode: o['exitCode'] === undefined ? 1 : integer(o['exitCode'], 'exitCode', 0, 255) };
    case 'degrade':
      return {
        mode,
        afterSeconds: integer(o['afterSeconds'], 'afterSeconds', 0, MAX_DEGRADE_SECONDS),
        status: o['status'] === undefined ? 503 : integer(o['status'], 'status', 100, 599),
      };
    default:
      return { mode: 'pullFailure', reason: pullFailureReason(o['reason'] ?? 'notFound') };
  }
}

function pullFailureReason(value: unknown): 'notFound' | 'unauthorized' {
  const v = String(value).toLowerCase().replace(/[-_]/g, '');
  if (v === 'notfound') return 'notFound';
  if (v === 'unauthorized') return 'unauthorized';
  throw new Error(`pull failure reason must be notFound or unauthorized, got '${String(value)}'.`);
}
