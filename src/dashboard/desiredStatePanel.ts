/**
 * The desired-state facts of an app card: why deploys wait now (freeze, outside the deploy windows). Script-free,
 * like the rest of the page; every value escaped by `markup`.
 */
import type { AppStatus } from '../domain/statusDocument.js';
import { markup, type SafeHtml } from './markup.js';
import { badge, time } from './pieces.js';

function heldRow(app: AppStatus, now: number): SafeHtml | '' {
  const h = app.held;
  if (!h) return '';
  const until = h.until ? markup` (opens ${time(h.until, now)})` : '';
  const label = h.reason === 'freeze' ? 'freeze' : 'outside deploy window';
  return markup`<dt>Deploys</dt><dd data-testid="app-held" data-reason="${h.reason}">${badge('warn', label)} ${h.message}${h.reason === 'window' ? until : ''}; rollback and abort still work</dd>`;
}

export function desiredStatePanel(app: AppStatus, now: number): SafeHtml | '' {
  const rows = [heldRow(app, now)].filter((r) => r !== '');
  return rows.length ? markup`<dl class="facts">${rows}</dl>` : '';
}
