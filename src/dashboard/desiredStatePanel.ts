/**
 * The desired-state facts of the page: per app, why deploys wait now (freeze, outside the deploy windows) and
 * whether the active group matches the config; for the whole page, what catch-up last found. Script-free, like the
 * rest of the page; every value escaped by `markup`.
 */
import type { AppStatus, StatusDocument } from '../domain/statusDocument.js';
import { markup, type SafeHtml } from './markup.js';
import { badge, digest, time, type Tone } from './pieces.js';

function heldRow(app: AppStatus, now: number): SafeHtml | '' {
  const h = app.held;
  if (!h) return '';
  const until = h.until ? markup` (opens ${time(h.until, now)})` : '';
  const label = h.reason === 'freeze' ? 'freeze' : 'outside deploy window';
  return markup`<dt>Deploys</dt><dd data-testid="app-held" data-reason="${h.reason}">${badge('warn', label)} ${h.message}${h.reason === 'window' ? until : ''}; rollback and abort still work</dd>`;
}

const CONFIG_TONE: Record<string, Tone> = { inSync: 'ok', drift: 'warn', unknown: 'muted' };
const CONFIG_LABEL: Record<string, string> = { inSync: 'in sync', drift: 'drift', unknown: 'unknown' };

function configRow(app: AppStatus): SafeHtml | '' {
  const c = app.config;
  if (!c || !app.activeGroup) return '';
  const secrets = c.secrets.length
    ? markup`<ul class="plain">${c.secrets.map(
        (s) =>
          markup`<li><code>${s.name}</code> version ${s.version ?? '—'}${s.changed ? markup` ${badge('warn', 'newer version')}` : ''}</li>`,
      )}</ul>`
    : '';
  return markup`<dt>Config</dt><dd data-testid="app-config" data-state="${c.state}">${badge(CONFIG_TONE[c.state] ?? 'muted', CONFIG_LABEL[c.state] ?? c.state)} ${c.message}${secrets}</dd>`;
}

export function desiredStatePanel(app: AppStatus, now: number): SafeHtml | '' {
  const rows = [heldRow(app, now), configRow(app)].filter((r) => r !== '');
  return rows.length ? markup`<dl class="facts">${rows}</dl>` : '';
}

/** The page's catch-up line: how often it runs, when it last ran and what it found. */
export function catchUpSummary(doc: StatusDocument, now: number): SafeHtml | '' {
  const c = doc.catchUp;
  if (!c) return '';
  if (c.everySeconds <= 0)
    return markup`<p data-testid="catch-up">Catch-up is off (reconcile.catchUpSeconds is 0).</p>`;
  const run = c.lastRun;
  const found = run?.found.length
    ? markup`<ul class="plain">${run.found.map(
        (f) => markup`<li><code>${f.app}</code> ${f.tag} · ${digest(f.digest)}: ${f.outcome}</li>`,
      )}</ul>`
    : '';
  const last = run
    ? markup`last ran ${time(run.at, now)}: ${String(run.checked)} repositories checked, ${String(run.found.length)} push(es) without an event${run.failed.length ? markup`, ${badge('bad', `${run.failed.length} not checked`)}` : ''}`
    : markup`has not run yet`;
  return markup`<p data-testid="catch-up">Catch-up (every ${String(c.everySeconds)} s) ${last}; next ${time(c.nextAt, now)}.</p>${found}`;
}
