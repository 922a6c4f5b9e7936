/**
 * What "pulling" an image does for an emulated container: the registry service (`ctx.registryLookup`) resolves
 * it with the group's credentials for that server (it treats registries it does not emulate, such as Docker Hub or
 * mcr.microsoft.com, as public and healthy). Without a registry service every image is public and healthy with a
 * digest derived from the reference. Failures carry the event text containerd gives on ACI.
 */
import crypto from 'node:crypto';
import type { ImageBehavior, RegistryLookup } from '../core/context.js';
import type { ContainerRun, PullFailureReason, RegistryCredential, StoredEvent } from './groupTypes.js';
import { fakeEgressIp } from './subnetAddresses.js';

export interface ImageRef {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** Docker's reference grammar, enough for `[host[:port]/]path[:tag][@sha256:...]`. */
export function parseImageRef(image: string): ImageRef {
  let rest = image.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let registry = 'docker.io';
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first.toLowerCase();
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (registry === 'docker.io' && !rest.includes('/')) rest = `library/${rest}`;
  const ref: ImageRef = { registry, repository: rest };
  if (tag) ref.tag = tag;
  if (digest) ref.digest = digest;
  if (!ref.tag && !ref.digest) ref.tag = 'latest';
  return ref;
}

/** The fully qualified name containerd prints in its errors. */
export function canonicalName(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

export type PullResult =
  | { ok: true; digest: string; tag?: string; behavior: ImageBehavior; emulatedRegistry: boolean }
  /** `retry`: ACI tries this pull again after a back-off (behaviour `pull-failure-then-ok:N`). */
  | { ok: false; reason: PullFailureReason; eventMessage: string; retry?: boolean };

export function isEmulatedRegistry(registry: string): boolean {
  return registry.endsWith('.azurecr.io');
}

/**
 * @param attempt 1 for a container's first pull attempt, 2 for its first retry...; omitted for the create-time
 * validation, which only asks whether the image exists.
 */
export function pullImage(
  lookup: RegistryLookup | undefined,
  image: string,
  credentials: readonly RegistryCredential[] | undefined,
  seed: string,
  attempt?: number,
): PullResult {
  const ref = parseImageRef(image);
  if (!lookup) {
    const digest = ref.digest ?? `sha256:${crypto.createHash('sha256').update(image.trim()).digest('hex')}`;
    return {
      ok: true,
      digest,
      ...(ref.tag ? { tag: ref.tag } : {}),
      behavior: { mode: 'healthy' },
      emulatedRegistry: false,
    };
  }
  // The registry service answers for every image: its own registries, and "public" for anything else.
  const cred = credentials?.find((c) => c.server.toLowerCase() === ref.registry);
  const pull: { identity?: string; username?: string } = {};
  if (cred?.identity) pull.identity = cred.identity;
  else if (cred?.username) pull.username = cred.username;
  const resolution = lookup.resolveImage(image.trim(), pull);
  if (resolution.kind !== 'found') {
    return {
      ok: false,
      reason: resolution.kind,
      eventMessage: resolution.message || pullFailureText(image, ref, resolution.kind, seed),
    };
  }
  if (resolution.behavior.mode === 'pullFailure') {
    const reason = resolution.behavior.reason ?? 'notFound';
    return { ok: false, reason, eventMessage: pullFailureText(image, ref, reason, seed) };
  }
  // The typical transient case: a new pull identity's AcrPull assignment still propagating (401 at the token).
  const failPulls = resolution.behavior.mode === 'healthy' ? (resolution.behavior.failPulls ?? 0) : 0;
  if (attempt !== undefined && attempt <= failPulls)
    return {
      ok: false,
      reason: 'unauthorized',
      eventMessage: pullFailureText(image, ref, 'unauthorized', seed),
      retry: true,
    };
  const tag = ref.tag ?? resolution.tags[0];
  return {
    ok: true,
    digest: resolution.digest,
    ...(tag ? { tag } : {}),
    behavior: resolution.behavior,
    emulatedRegistry: isEmulatedRegistry(ref.registry),
  };
}

/** The `Failed` event text of a pull that did not work, as containerd reports it on ACI. */
export function pullFailureText(
  image: string,
  ref: ImageRef,
  reason: PullFailureReason,
  seed: string,
): string {
  const name = canonicalName(ref);
  const head = `Failed to pull image "${image.trim()}": rpc error:`;
  const resolving = `failed to pull and unpack image "${name}": failed to resolve reference "${name}"`;
  switch (reason) {
    case 'notFound':
      return `${head} code = NotFound desc = ${resolving}: ${name}: not found`;
    case 'unauthorized':
      return `${head} code = Unknown desc = ${resolving}: failed to authorize: failed to fetch oauth token: unexpected status from GET request to https://${ref.registry}/oauth2/token?scope=repository%3A${encodeURIComponent(ref.repository)}%3Apull&service=${ref.registry}: 401 Unauthorized`;
    case 'networkRestricted':
      return `${head} code = Unknown desc = ${resolving}: unexpected status from HEAD request to https://${ref.registry}/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag ?? 'latest'}: 403 Forbidden: denied: client with IP '${fakeEgressIp(seed)}' is not allowed access. Refer https://aka.ms/acr/firewall to grant access.`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Retried pulls, recorded as ACI records them: events aggregated by name with a count and first/last timestamps
// (azure-rest-api-specs ContainerInstance 2023-05-01 `Event`), `Pulling` / `Failed` / `BackOff` repeated, then
// `Pulled` and `Started` (container-instances-troubleshooting, "Unable to pull image").

/** Counts `name` again when its latest event says the same thing (ACI aggregates repeated events). */
export function countEvent(
  events: StoredEvent[],
  name: string,
  message: string,
  type: StoredEvent['type'],
  at: number,
): void {
  const same = events.findLast((e) => e.name === name);
  if (same && same.message === message) {
    same.count += 1;
    same.last = at;
  } else events.push({ name, message, type, count: 1, first: at, last: at });
}

/** The number of the pull attempt about to start (failed attempts so far + 1); a retry counts `Pulling` again. */
export function beginPullAttempt(run: ContainerRun, image: string, at: number): number {
  const failed = run.events.filter((e) => e.name === 'Failed').reduce((n, e) => n + e.count, 0);
  if (failed > 0) countEvent(run.events, 'Pulling', `pulling image "${image}"`, 'Normal', at);
  return failed + 1;
}

/**
 * A failed attempt ACI will retry: `Failed` and `BackOff` counted, the container left waiting. Returns the
 * back-off before the next attempt: doubling from `baseMs` (kubelet's image back-off doubles too), capped.
 */
export function recordRetriedPull(
  run: ContainerRun,
  message: string,
  image: string,
  at: number,
  baseMs: number,
): number {
  countEvent(run.events, 'Failed', message, 'Warning', at);
  countEvent(run.events, 'BackOff', `Back-off pulling image "${image}"`, 'Normal', at);
  run.pullFailure = { reason: 'unauthorized', message };
  const failed = run.events.filter((e) => e.name === 'Failed').reduce((n, e) => n + e.count, 0);
  return Math.max(50, baseMs) * Math.min(8, 2 ** (failed - 1));
}
