/**
 * The operator's panel of an app card: paused, a rollout awaiting promotion (its preview IP), the rollback window,
 * digests turned away, the actions that apply now as the CLI commands that take them, and the action log. The page
 * stays script-free: it shows commands, it does not run them (the actions route needs its own key).
 */
import type { AppStatus } from '../domain/statusDocument.js';
import { markup, type SafeHtml } from './markup.js';
import { badge, digest, ipText, time } from './pieces.js';

function facts(app: AppStatus, now: number): SafeHtml | '' {
  const rows: SafeHtml[] = [];
  if (app.paused)
    rows.push(
      markup`<dt>Paused</dt><dd data-testid="app-paused">${badge('warn', 'paused')} by ${app.paused.actor} ${time(app.paused.at, now)}${app.paused.reason ? markup`: ${app.paused.reason}` : ''}; pushes are queued until resume</dd>`,
    );
  if (app.previewIp)
    rows.push(
      markup`<dt>Awaiting promotion</dt><dd data-testid="app-preview">${badge('warn', 'awaiting promotion')} preview ${ipText(app.previewIp)} in <code>${app.previewSecret ?? ''}</code></dd>`,
    );
  const t = app.rollbackTarget;
  if (t)
    rows.push(
      markup`<dt>Rollback window</dt><dd data-testid="app-rollback-target"><code>${t.resourceGroup}/${t.group}</code> (${t.tag ?? '—'} · ${digest(t.digest)}) kept until ${time(t.until, now)}</dd>`,
    );
  if (app.rejected.length)
    rows.push(
      markup`<dt>Turned away</dt><dd data-testid="app-rejected"><ul class="plain">${app.rejected.map(
        (x) => markup`<li>${x.tag} · ${digest(x.digest)} ${time(x.at, now)}: ${x.reason}</li>`,
      )}</ul></dd>`,
    );
  return rows.length ? markup`<dl class="facts">${rows}</dl>` : '';
}

function commands(app: AppStatus): SafeHtml | '' {
  if (!app.availableActions.length) return '';
  return markup`<h4>Actions that apply now</h4>
<ul class="plain" data-testid="app-actions">${app.availableActions.map(
    (a) => markup`<li><code>npx acibg ${a} ${app.name}</code></li>`,
  )}</ul>`;
}

function log(app: AppStatus, now: number): SafeHtml | '' {
  if (!app.actions.length) return '';
  return markup`<table data-testid="app-action-log"><caption>Operator actions</caption>
<thead><tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">By</th><th scope="col">Reason</th><th scope="col">Outcome</th></tr></thead>
<tbody>${app.actions
    .slice(0, 10)
    .map(
      (a) =>
        markup`<tr><td>${time(a.at, now)}</td><td>${a.action}</td><td>${a.actor}</td><td>${a.reason ?? '—'}</td><td>${a.outcome}</td></tr>`,
    )}</tbody></table>`;
}

export function operatorPanel(app: AppStatus, now: number): SafeHtml {
  return markup`${facts(app, now)}${commands(app)}${log(app, now)}`;
}
