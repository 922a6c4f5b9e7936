/** Text formats the dashboard (and the demo's status table) share: short digests, durations, times. */

/** `sha256:0123456789abcdef…` → `sha256:0123456789ab` (12 hex digits, as `docker images` shows). */
export function shortDigest(digest: string | null | undefined): string {
  if (!digest) return '—';
  const m = /^(sha256:)?([0-9a-f]+)$/i.exec(digest);
  if (!m) return digest.length > 19 ? `${digest.slice(0, 19)}…` : digest;
  return `${m[1] ?? ''}${m[2]!.slice(0, 12)}`;
}

/** 850 → "850 ms", 4_200 → "4.2 s", 65_000 → "1 min 05 s", 3_723_000 → "1 h 02 min". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const v = Math.max(0, ms);
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(v / 1000);
  if (totalSeconds < 3600) {
    const m = Math.floor(totalSeconds / 60);
    const s = totalSeconds % 60;
    return `${m} min ${String(s).padStart(2, '0')} s`;
  }
  const totalMinutes = Math.round(totalSeconds / 60);
  return `${Math.floor(totalMinutes / 60)} h ${String(totalMinutes % 60).padStart(2, '0')} min`;
}

/** ISO → `2026-11-21 10:00:05 UTC` (stable for every viewer: no locale, no time zone guessing). */
export function formatTime(isoTime: string | null | undefined): string {
  if (!isoTime) return '—';
  const t = Date.parse(isoTime);
  if (Number.isNaN(t)) return isoTime;
  return `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Time of day only, for timelines: `10:00:05.123`. */
export function formatClock(isoTime: string | null | undefined): string {
  if (!isoTime) return '—';
  const t = Date.parse(isoTime);
  if (Number.isNaN(t)) return isoTime;
  return new Date(t).toISOString().slice(11, 23);
}

/** "12 s ago" relative to `now` (epoch ms); "in 3 s" for the future. */
export function formatAgo(isoTime: string | null | undefined, now: number): string {
  if (!isoTime) return '';
  const t = Date.parse(isoTime);
  if (Number.isNaN(t)) return '';
  const d = now - t;
  return d >= 0 ? `${formatDuration(d)} ago` : `in ${formatDuration(-d)}`;
}
