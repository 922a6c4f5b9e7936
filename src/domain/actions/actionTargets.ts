/**
 * What an operator's `to` names, and which earlier version an action goes back to: a digest or a rollout id from
 * the app's recent rollouts (the last RECENT_MAX, kept in its row). Pure.
 */
import { ms, type AppState, type RecentRollout } from '../model.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** A version to deploy again: its digest and tag (and media type, so an image index is resolved as before). */
export type Version = Pick<RecentRollout, 'digest' | 'tag' | 'mediaType'>;

export type VersionChoice = { version: Version } | { refused: string };

/** The recent rollout `to` names (a digest or a rollout id), newest first among matches. */
export function findVersion(state: AppState, to: string): VersionChoice {
  const byDigest = DIGEST.test(to);
  const found = state.recent.find((x) => (byDigest ? x.digest === to : x.rolloutId === to));
  if (found) return { version: found };
  return {
    refused: byDigest
      ? `digest ${to.slice(7, 19)} is not among ${state.app}'s last ${state.recent.length} rollouts`
      : `no rollout ${to} among ${state.app}'s last ${state.recent.length} rollouts (use a digest or a rollout id from status)`,
  };
}

/** The newest successful version other than the active one and not turned away: what `rollback` returns to. */
export function previousGoodVersion(state: AppState, to: string | undefined): VersionChoice {
  if (to !== undefined) return findVersion(state, to);
  const rejected = new Set((state.rejected ?? []).map((x) => x.digest));
  const found = state.recent.find(
    (x) => x.state === 'succeeded' && x.digest !== state.active?.digest && !rejected.has(x.digest),
  );
  return found
    ? { version: found }
    : { refused: `no earlier successful version of ${state.app} to roll back to` };
}

/**
 * The newest failed, rolled-back or turned-away version: what `retry` deploys again. A version an operator rolled
 * back from succeeded as a rollout, so the list of turned-away digests counts too.
 */
export function latestFailedVersion(state: AppState, to: string | undefined): VersionChoice {
  if (to !== undefined) return findVersion(state, to);
  const candidates: Array<Version & { at: number }> = [
    ...state.recent
      .filter((x) => x.state === 'failed' || x.state === 'rolledBack')
      .map((x) => ({ ...x, at: ms(x.finishedAt) ?? 0 })),
    ...(state.rejected ?? []).map((x) => ({
      digest: x.digest,
      tag: x.tag,
      ...mediaTypeOf(state, x.digest),
      at: ms(x.at) ?? 0,
    })),
  ];
  const newest = candidates.sort((a, b) => b.at - a.at)[0];
  if (!newest) return { refused: `no failed or rolled-back version of ${state.app} to retry` };
  return { version: { digest: newest.digest, tag: newest.tag, ...mediaTypeOf(state, newest.digest) } };
}

function mediaTypeOf(state: AppState, digest: string): { mediaType?: string } {
  const m = state.recent.find((x) => x.digest === digest)?.mediaType;
  return m ? { mediaType: m } : {};
}
