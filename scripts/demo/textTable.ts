/** Plain-text tables for the demo's output (README-friendly: no colours, no box-drawing). */
import { formatDuration, formatTime, shortDigest } from '../../src/dashboard/format.js';
import type { StatusDocument } from '../../src/domain/statusDocument.js';

export function textTable(headers: string[], rows: string[][], indent = '  '): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    indent +
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The status document as the final tables of the demo: apps, watched groups, last reconcile. */
export function statusTables(doc: StatusDocument): string {
  const apps = textTable(
    ['App', 'Colour', 'Tag', 'Digest', 'IP', 'Key Vault', 'DNS name', 'Last rollout'],
    doc.apps.map((a) => [
      a.name,
      a.activeColor ?? '-',
      a.tag ?? '-',
      shortDigest(a.digest),
      a.ip ?? '-',
      a.secret.inSync ? `${a.secret.name} in sync` : `${a.secret.name} OUT OF SYNC`,
      a.dns ? `${a.dns.name} ${a.dns.inSync ? 'in sync' : 'OUT OF SYNC'}` : '-',
      a.rollout
        ? `${a.rollout.tag} ${a.rollout.state}${a.rollout.reason ? ` (${a.rollout.reason})` : ''}, ${formatDuration(a.rollout.durationMs)}`
        : '-',
    ]),
  );
  const history = doc.apps.flatMap((a) =>
    a.history.map((h) => [
      a.name,
      h.tag,
      h.outcome,
      h.reason ?? '',
      formatDuration(h.durationMs),
      formatTime(h.finishedAt),
    ]),
  );
  const historyTable = textTable(['App', 'Tag', 'Outcome', 'Reason', 'Duration', 'Finished'], history);
  const watched = doc.watched.length
    ? textTable(
        ['Watched group', 'Provisioning', 'IP', 'Secret', 'Key Vault'],
        doc.watched.map((w) => [
          `${w.resourceGroup}/${w.name}`,
          w.provisioningState ?? '-',
          w.ip ?? '-',
          w.secret,
          w.inSync ? 'in sync' : `out of sync${w.problem ? ` (${w.problem})` : ''}`,
        ]),
      )
    : '  (no watched groups)';
  const named = (doc.watchedDns ?? []).length
    ? textTable(
        ['Watched group', 'IP', 'DNS name', 'Record'],
        (doc.watchedDns ?? []).map((w) => [
          `${w.resourceGroup}/${w.name}`,
          w.ip ?? '-',
          w.dnsName,
          w.inSync ? 'in sync' : `out of sync${w.problem ? ` (${w.problem})` : ''}`,
        ]),
      )
    : '  (no watched DNS names)';
  const lr = doc.lastReconcile;
  const reconcile = lr
    ? `  Last reconcile ${formatTime(lr.at)}: ${formatDuration(lr.durationMs)}, ${lr.changed.length} change(s), ` +
      `${lr.errors.length} error(s), ${lr.warnings.length} warning(s), ${lr.throttled} throttled call(s)`
    : '  Last reconcile: not run yet';
  return [apps, '', historyTable, '', watched, '', named, '', reconcile].join('\n');
}
