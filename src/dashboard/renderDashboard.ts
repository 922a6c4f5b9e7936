/**
 * The status dashboard: a pure function from the status document (`GET /api/status`) to a complete HTML page.
 * Server-rendered, readable without JavaScript (there is none), refreshing itself with a meta refresh, small
 * inline CSS. Every value goes through the escaping `markup` template. It renders only the fields it names, so
 * a field added to the document later never reaches the page unseen (the document holds no secret values; the
 * unit tests check that an unexpected one would not leak either). `data-testid` attributes are for the browser
 * test; badges always carry text, never colour alone.
 */
import { ROLLOUT_STEPS, type Condition, type IgnoredPush, type RolloutStep } from '../domain/model.js';
import type {
  AppStatus,
  HistoryStatus,
  RolloutStatus,
  StatusDocument,
  WatchedDnsStatus,
  WatchedStatus,
} from '../domain/statusDocument.js';
import { formatClock, formatDuration, formatTime } from './format.js';
import { badge, colour, digest, ipText, time, type Tone } from './pieces.js';
import { catchUpSummary, desiredStatePanel } from './desiredStatePanel.js';
import { operatorPanel } from './operatorPanel.js';
import { join, markup, SafeHtml } from './markup.js';

export interface DashboardOptions {
  /** Seconds between automatic reloads (meta refresh); 0 disables it. Default 5. */
  refreshSeconds?: number;
  title?: string;
}

export const DEFAULT_REFRESH_SECONDS = 5;

export const STEP_LABELS: Record<Condition['step'], string> = {
  accepted: 'Accepted',
  cleaningIdle: 'Clean idle colour',
  creating: 'Create group',
  waitingRunning: 'Wait for Running',
  healthGate: 'Health gate',
  switching: 'Switch secret',
  draining: 'Drain old group',
  deletingOld: 'Delete old group',
  succeeded: 'Succeeded',
  failed: 'Failed',
  superseded: 'Superseded',
  queued: 'Queued',
  awaitingPromotion: 'Await promotion',
  verifying: 'Verify',
  rolledBack: 'Rolled back',
  aborted: 'Aborted',
  operator: 'Operator action',
};

const STATE_LABELS: Record<RolloutStatus['state'], string> = {
  inProgress: 'in progress',
  succeeded: 'succeeded',
  failed: 'failed',
  superseded: 'superseded',
  awaitingPromotion: 'awaiting promotion',
  verifying: 'verifying',
  rolledBack: 'rolled back',
  aborted: 'aborted',
};

type StepStatus = 'done' | 'current' | 'failed' | 'stopped' | 'pending';

const STEP_MARKERS: Record<StepStatus, { marker: string; label: string }> = {
  done: { marker: '✓', label: 'done' },
  current: { marker: '▶', label: 'current step' },
  failed: { marker: '✗', label: 'failed here' },
  stopped: { marker: '■', label: 'stopped here' },
  pending: { marker: '·', label: 'not reached' },
};

const STYLE = `
:root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#f6f8fa}
body{margin:0}header,main,footer{max-width:72rem;margin:0 auto;padding:0 1rem}
header{padding-top:1rem}h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.6rem 0 .5rem}
h3{font-size:1.05rem;margin:0 0 .5rem}h4{font-size:.95rem;margin:1rem 0 .4rem}
.meta{color:#57606a;font-size:.85rem}
section.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.8rem 1rem;margin:.8rem 0}
table{border-collapse:collapse;width:100%;font-size:.88rem;background:#fff;margin:.3rem 0}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border-bottom:1px solid #d8dee4;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f3f6;font-weight:600}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0;font-size:.9rem}
dl.facts dt{color:#57606a}dl.facts dd{margin:0}
.badge{display:inline-block;border-radius:1rem;padding:.05rem .55rem;font-size:.8rem;font-weight:600;border:1px solid}
.badge.ok{background:#dafbe1;color:#116329;border-color:#4ac26b}
.badge.bad{background:#ffebe9;color:#a40e26;border-color:#ff8182}
.badge.warn{background:#fff8c5;color:#7d4e00;border-color:#d4a72c}
.badge.info{background:#ddf4ff;color:#0550ae;border-color:#54aeff}
.badge.muted{background:#f0f3f6;color:#57606a;border-color:#d0d7de}
.colour{display:inline-block;width:.75rem;height:.75rem;border-radius:50%;margin-right:.3rem;vertical-align:-.05rem;border:1px solid #0003}
.colour.blue{background:#0969da}.colour.green{background:#1a7f37}.colour.adopted{background:#8250df}
ol.steps{list-style:none;display:flex;flex-wrap:wrap;gap:.3rem;padding:0;margin:.6rem 0;font-size:.8rem}
ol.steps li{border:1px solid #d0d7de;border-radius:4px;padding:.1rem .45rem;background:#f6f8fa;color:#57606a}
ol.steps li.done{background:#dafbe1;color:#116329;border-color:#4ac26b}
ol.steps li.current{background:#ddf4ff;color:#0550ae;border-color:#0969da;font-weight:700}
ol.steps li.failed{background:#ffebe9;color:#a40e26;border-color:#ff8182;font-weight:700}
ol.steps li.stopped{background:#fff8c5;color:#7d4e00;border-color:#d4a72c;font-weight:700}
.problems{background:#ffebe9;border:1px solid #ff8182;border-radius:6px;padding:.5rem 1rem;margin:.8rem 0}
.problems h2{margin-top:.3rem}ul.plain{margin:.3rem 0;padding-left:1.2rem;font-size:.9rem}
.empty{color:#57606a;font-style:italic}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
footer{color:#57606a;font-size:.8rem;padding-bottom:1.5rem;margin-top:1.5rem}
`;

function rolloutBadge(r: RolloutStatus | null): SafeHtml {
  if (!r) return badge('muted', 'no rollout yet', 'rollout-state');
  const tone: Tone =
    r.state === 'inProgress' || r.state === 'verifying'
      ? 'info'
      : r.state === 'awaitingPromotion'
        ? 'warn'
        : r.state === 'succeeded'
          ? 'ok'
          : r.state === 'failed' || r.state === 'rolledBack'
            ? 'bad'
            : 'warn';
  const text = r.state === 'inProgress' ? `in progress: ${STEP_LABELS[r.step]}` : STATE_LABELS[r.state];
  return badge(tone, text, 'rollout-state');
}

function secretBadge(app: AppStatus): SafeHtml {
  return app.secret.inSync
    ? badge('ok', 'Key Vault in sync', 'secret-badge', `${app.secret.name} holds ${app.ip ?? ''}`)
    : badge('bad', 'Key Vault out of sync', 'secret-badge', app.secret.problem);
}

// ---------------------------------------------------------------- rollout

/** Steps only some apps take (manual promotion, verify): shown when this rollout reached them. */
const OPTIONAL_STEPS: ReadonlySet<RolloutStep> = new Set(['awaitingPromotion', 'verifying']);

/** The steps this rollout's progress bar shows, in order. */
function shownSteps(r: RolloutStatus): RolloutStep[] {
  return ROLLOUT_STEPS.filter(
    (s) => !OPTIONAL_STEPS.has(s) || s === r.step || r.timeline.some((c) => c.step === s),
  );
}

function stepStatus(r: RolloutStatus, step: RolloutStep): StepStatus {
  const index = ROLLOUT_STEPS.indexOf(step);
  const stopIndex = ROLLOUT_STEPS.indexOf(r.step);
  if (r.state === 'succeeded' || index < stopIndex) return 'done';
  if (index > stopIndex) return 'pending';
  const running = r.state === 'inProgress' || r.state === 'awaitingPromotion' || r.state === 'verifying';
  return running ? 'current' : r.state === 'failed' || r.state === 'rolledBack' ? 'failed' : 'stopped';
}

/** Each step of the blue/green sequence, with how far this rollout got. */
function stepProgress(r: RolloutStatus): SafeHtml {
  const items = shownSteps(r).map((step: RolloutStep) => {
    const status = stepStatus(r, step);
    const { marker, label } = STEP_MARKERS[status];
    const current = status === 'current' ? markup` aria-current="step"` : '';
    return markup`<li class="${status}" data-step="${step}" data-status="${status}"${current}><span aria-hidden="true">${marker}</span> ${STEP_LABELS[step]}<span class="visually-hidden">: ${label}</span></li>`;
  });
  return markup`<ol class="steps" data-testid="rollout-steps" aria-label="Rollout steps">${items}</ol>`;
}

function timelineTable(r: RolloutStatus, now: number): SafeHtml {
  const start = Date.parse(r.startedAt);
  const since = (t: number) =>
    Number.isNaN(t) || Number.isNaN(start) ? '' : `+${formatDuration(t - start)}`;
  const rows = r.timeline.map(
    (c) => markup`<tr data-testid="timeline-entry" data-step="${c.step}">
<td>${STEP_LABELS[c.step] ?? c.step}</td><td><time datetime="${c.at}">${formatClock(c.at)}</time></td><td>${since(Date.parse(c.at))}</td><td>${c.message}</td></tr>`,
  );
  // The domain records steps, not always the outcome: close a finished rollout's timeline with it.
  if (r.state !== 'inProgress' && r.finishedAt && !r.timeline.some((c) => c.step === r.state)) {
    const outcome = r.error ? `${STATE_LABELS[r.state]}: ${r.error}` : `rollout ${STATE_LABELS[r.state]}`;
    rows.push(markup`<tr data-testid="timeline-finished" data-step="${r.state}">
<td>${STEP_LABELS[r.state]}</td><td><time datetime="${r.finishedAt}">${formatClock(r.finishedAt)}</time></td><td>${since(Date.parse(r.finishedAt))}</td><td>${outcome}</td></tr>`);
  }
  if (r.state === 'inProgress' && r.waiting) {
    rows.push(markup`<tr data-testid="timeline-waiting" data-step="${r.step}">
<td>${STEP_LABELS[r.step]}</td><td>now</td><td>${since(now)}</td><td>waiting: ${r.waiting}</td></tr>`);
  }
  const body = rows.length ? rows : markup`<tr><td colspan="4" class="empty">no entries yet</td></tr>`;
  return markup`<table data-testid="rollout-timeline">
<caption>Timeline of rollout <code>${r.id}</code></caption>
<thead><tr><th scope="col">Step</th><th scope="col">Time (UTC)</th><th scope="col">Since start</th><th scope="col">Message</th></tr></thead>
<tbody>${body}</tbody>
</table>`;
}

function rolloutSection(r: RolloutStatus | null, now: number): SafeHtml {
  if (!r) {
    return markup`<p class="empty" data-testid="rollout-none">No rollout yet: push an image to the configured repository.</p>`;
  }
  const heading = r.finishedAt === null ? 'Current rollout' : 'Last rollout';
  const waiting =
    r.waiting && r.state === 'inProgress'
      ? markup`<dt>Waiting for</dt><dd data-testid="rollout-waiting">${r.waiting}</dd>`
      : '';
  const t =
    r.state === 'inProgress' || r.state === 'awaitingPromotion' || r.state === 'verifying'
      ? r.transient
      : null;
  const retrying = t
    ? markup`<dt>Retrying</dt><dd data-testid="rollout-transient">attempt ${String(t.attempts)}${t.nextRetryAt ? markup`, next ${time(t.nextRetryAt, now)}` : ''}: ${t.lastError}</dd>`
    : '';
  const health = r.lastHealth ? markup`<dt>Last health check</dt><dd><code>${r.lastHealth}</code></dd>` : '';
  const reason = r.reason ? badge('bad', r.reason, 'rollout-reason') : '';
  const failure = r.error
    ? markup`<dt>Failure</dt><dd data-testid="rollout-error">${reason} ${r.error}</dd>`
    : '';
  return markup`<section data-testid="rollout" data-state="${r.state}" data-step="${r.step}" aria-label="${heading}">
<h4>${heading} ${rolloutBadge(r)}</h4>
<dl class="facts">
<dt>Rollout</dt><dd><code>${r.id}</code></dd>
<dt>Image</dt><dd>tag <strong data-testid="rollout-tag">${r.tag}</strong> · ${digest(r.digest)}</dd>
<dt>Group</dt><dd>${colour(r.colour)} · <code>${r.group}</code></dd>
<dt>Started</dt><dd>${time(r.startedAt, now)}</dd>
<dt>${r.finishedAt ? 'Took' : 'Running for'}</dt><dd data-testid="rollout-duration">${formatDuration(r.durationMs)}</dd>
${waiting}${retrying}${health}${failure}
</dl>
${stepProgress(r)}
${timelineTable(r, now)}
</section>`;
}

function historyTable(history: HistoryStatus[], now: number): SafeHtml {
  if (history.length === 0) {
    return markup`<p class="empty" data-testid="history-none">No finished rollouts yet.</p>`;
  }
  const rows = history.map((h) => {
    const tone: Tone = h.outcome === 'succeeded' ? 'ok' : h.outcome === 'failed' ? 'bad' : 'warn';
    const why =
      h.reason || h.message
        ? markup`${h.reason ? markup`<strong>${h.reason}</strong>: ` : ''}${h.message ?? ''}`
        : markup`—`;
    return markup`<tr data-testid="history-entry" data-outcome="${h.outcome}" data-tag="${h.tag}">
<td>${h.tag}</td><td>${digest(h.digest)}</td><td>${badge(tone, h.outcome)}</td><td>${why}</td><td>${time(h.finishedAt, now)}</td><td>${formatDuration(h.durationMs)}</td><td><code>${h.group}</code></td></tr>`;
  });
  return markup`<table data-testid="history">
<caption>Recent rollouts</caption>
<thead><tr><th scope="col">Tag</th><th scope="col">Digest</th><th scope="col">Outcome</th><th scope="col">Reason / details</th><th scope="col">Finished</th><th scope="col">Duration</th><th scope="col">Group</th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
}

function ignoredTable(ignored: IgnoredPush[], now: number): SafeHtml | '' {
  if (ignored.length === 0) return '';
  const rows = ignored.map(
    (i) => markup`<tr data-testid="ignored-entry" data-outcome="${i.outcome}" data-tag="${i.tag}">
<td>${i.tag}</td><td>${digest(i.digest)}</td><td>${badge(i.outcome === 'rejected' ? 'warn' : 'muted', i.outcome)}</td><td>${i.reason}</td><td>${time(i.at, now)}</td><td><code>${i.eventId}</code></td></tr>`,
  );
  return markup`<table data-testid="ignored">
<caption>Pushes that started no rollout</caption>
<thead><tr><th scope="col">Tag</th><th scope="col">Digest</th><th scope="col">Decision</th><th scope="col">Reason</th><th scope="col">Received</th><th scope="col">Event</th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
}

// ---------------------------------------------------------------- DNS names (issue 17)

/** The app's DNS name, its record's address and whether it points at the active group; nothing without a name. */
function dnsFact(app: AppStatus): SafeHtml | '' {
  const dns = app.dns;
  if (!dns) return '';
  const sync = dns.inSync
    ? badge('ok', 'DNS in sync', 'dns-badge', `${dns.name} holds ${dns.recordIp ?? ''}`)
    : badge('bad', 'DNS out of sync', 'dns-badge', dns.problem);
  const problem = dns.problem ? markup` <span class="meta">${dns.problem}</span>` : '';
  return markup`<dt>DNS name</dt><dd data-testid="app-dns"><code>${dns.name}</code> holds ${ipText(dns.recordIp)} (TTL ${dns.ttlSeconds} s) ${sync}${problem}</dd>`;
}

function watchedDnsRow(w: WatchedDnsStatus): SafeHtml {
  const sync = w.inSync ? badge('ok', 'in sync') : badge('bad', 'out of sync');
  const problem = w.problem ? markup` <span class="meta">${w.problem}</span>` : '';
  return markup`<tr data-testid="watched-dns-row" data-group="${w.resourceGroup}/${w.name}">
<td><code>${w.resourceGroup}/${w.name}</code></td><td>${ipText(w.ip)}</td><td><code>${w.dnsName}</code></td>
<td>${ipText(w.recordIp)}</td><td>${sync}${problem}</td></tr>`;
}

function watchedDnsSection(doc: StatusDocument): SafeHtml | '' {
  const rows = doc.watchedDns ?? [];
  if (rows.length === 0) return '';
  return markup`<section aria-labelledby="watched-dns-h"><h2 id="watched-dns-h">Watched DNS names</h2>
<table data-testid="watched-dns"><caption>Groups tagged ip-dns: their Private DNS A records</caption>
<thead><tr><th scope="col">Group</th><th scope="col">Private IP</th><th scope="col">Name</th><th scope="col">Record</th><th scope="col">In sync</th></tr></thead>
<tbody>${rows.map(watchedDnsRow)}</tbody></table></section>`;
}

// ---------------------------------------------------------------- apps

function appSummaryRow(app: AppStatus): SafeHtml {
  return markup`<tr data-testid="app-row" data-app="${app.name}">
<th scope="row"><a href="#app-${app.name}">${app.name}</a></th>
<td data-testid="app-colour">${colour(app.activeColor)}</td>
<td data-testid="app-tag">${app.tag ?? '—'}</td>
<td data-testid="app-digest">${digest(app.digest)}</td>
<td data-testid="app-ip">${ipText(app.ip)}</td>
<td>${secretBadge(app)}</td>
<td>${rolloutBadge(app.rollout)}</td>
</tr>`;
}

function conditionTable(app: AppStatus): SafeHtml | '' {
  if (app.conditions.length === 0) return '';
  const rows = app.conditions.map((c) => {
    const good = c.type === 'Degraded' ? c.status === 'False' : c.status === 'True';
    const tone: Tone =
      c.status === 'Unknown' ? 'warn' : c.type === 'Progressing' ? 'info' : good ? 'ok' : 'bad';
    return markup`<tr data-testid="condition" data-type="${c.type}" data-status="${c.status}"><td>${c.type}</td><td>${badge(tone, c.status)}</td><td>${c.reason}</td><td>${c.message}</td></tr>`;
  });
  return markup`<table data-testid="conditions"><caption>Conditions</caption>
<thead><tr><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Message</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

function appSection(app: AppStatus, now: number): SafeHtml {
  const active = app.activeGroup ? markup` · <code>${app.resourceGroup}/${app.activeGroup}</code>` : '';
  const state = app.provisioningState ? markup` · ${app.provisioningState}` : '';
  const secretProblem = app.secret.problem ? markup` <span class="meta">${app.secret.problem}</span>` : '';
  const queued = app.queued
    ? markup`<dt>Queued push</dt><dd data-testid="app-queued">${app.queued.tag} · ${digest(app.queued.digest)} (received ${time(app.queued.receivedAt, now)})</dd>`
    : '';
  const deletions = app.pendingDeletions.length
    ? markup`<dt>Pending deletions</dt><dd><ul class="plain">${app.pendingDeletions.map(
        (p) => markup`<li><code>${p.group}</code> not before ${time(p.notBefore, now)}: ${p.reason}</li>`,
      )}</ul></dd>`
    : '';
  const warnings = app.warnings.length
    ? markup`<ul class="plain" data-testid="app-warnings">${app.warnings.map(
        (w) => markup`<li>${badge('warn', 'warning')} ${w}</li>`,
      )}</ul>`
    : '';
  return markup`<section class="card" id="app-${app.name}" data-testid="app" data-app="${app.name}" aria-labelledby="app-h-${app.name}">
<h3 id="app-h-${app.name}">${app.name}</h3>
<dl class="facts">
<dt>Image</dt><dd><code>${app.registryLoginServer ?? app.registry}/${app.repository}</code></dd>
<dt>Active</dt><dd data-testid="app-active">${colour(app.activeColor)}${active}${state}</dd>
<dt>Tag / digest</dt><dd>${app.tag ?? '—'} · ${digest(app.digest)}</dd>
<dt>Private IP</dt><dd>${ipText(app.ip)}</dd>
<dt>Key Vault secret</dt><dd><code>${app.secret.name}</code> in <code>${app.secret.vaultUrl}</code> holds ${ipText(app.secret.ip)} ${secretBadge(app)}${secretProblem}</dd>
${dnsFact(app)}
${queued}${deletions}
</dl>
${desiredStatePanel(app, now)}
${operatorPanel(app, now)}
${warnings}
${conditionTable(app)}
${rolloutSection(app.rollout, now)}
${historyTable(app.history, now)}
${ignoredTable(app.ignored, now)}
</section>`;
}

function appsSection(doc: StatusDocument, now: number): SafeHtml {
  if (doc.apps.length === 0) {
    const hint = doc.refusedApps.length ? ' (see the configuration errors above)' : '';
    return markup`<section aria-labelledby="apps-h" data-testid="apps"><h2 id="apps-h">Apps</h2>
<p class="empty" data-testid="apps-none">No apps configured${hint}.</p></section>`;
  }
  return markup`<section aria-labelledby="apps-h" data-testid="apps"><h2 id="apps-h">Apps</h2>
<table data-testid="apps-table">
<caption>Active deployments</caption>
<thead><tr><th scope="col">App</th><th scope="col">Active colour</th><th scope="col">Tag</th><th scope="col">Digest</th><th scope="col">Private IP</th><th scope="col">Key Vault</th><th scope="col">Rollout</th></tr></thead>
<tbody>${doc.apps.map(appSummaryRow)}</tbody>
</table>
${doc.apps.map((a) => appSection(a, now))}
</section>`;
}

// ---------------------------------------------------------------- watched, reconcile, problems

function watchedRow(w: WatchedStatus): SafeHtml {
  const sync = w.inSync
    ? badge('ok', 'in sync', 'watched-badge')
    : badge('bad', 'out of sync', 'watched-badge');
  const problem = w.problem ? markup` <span class="meta">${w.problem}</span>` : '';
  return markup`<tr data-testid="watched-row" data-group="${w.resourceGroup}/${w.name}">
<td><code>${w.resourceGroup}/${w.name}</code></td><td>${w.provisioningState ?? '—'}</td><td>${ipText(w.ip)}</td>
<td><code>${w.secret}</code> <span class="meta">${w.vaultUrl}</span></td>
<td>${sync}${problem}</td><td>${w.source === 'tag' ? 'tag ip-secret' : 'config'}</td></tr>`;
}

function watchedSection(doc: StatusDocument): SafeHtml {
  const body =
    doc.watched.length === 0
      ? markup`<p class="empty" data-testid="watched-none">No watched groups.</p>`
      : markup`<table data-testid="watched">
<caption>Groups whose IP is mirrored to Key Vault</caption>
<thead><tr><th scope="col">Group</th><th scope="col">Provisioning</th><th scope="col">Private IP</th><th scope="col">Secret</th><th scope="col">Key Vault</th><th scope="col">Watched by</th></tr></thead>
<tbody>${doc.watched.map(watchedRow)}</tbody></table>`;
  return markup`<section aria-labelledby="watched-h"><h2 id="watched-h">Watched groups</h2>${body}</section>`;
}

type Issues = NonNullable<StatusDocument['lastReconcile']>['errors'];

function issueList(title: string, testId: string, tone: Tone, list: Issues): SafeHtml | '' {
  if (list.length === 0) return '';
  const items = list.map(
    (e) =>
      markup`<li>${badge(tone, e.scope)} <code>${e.target}</code>: ${e.message}${e.retryable ? ' (will retry)' : ''}</li>`,
  );
  return markup`<h4>${title}</h4><ul class="plain" data-testid="${testId}">${items}</ul>`;
}

function reconcileSection(doc: StatusDocument, now: number): SafeHtml {
  const lr = doc.lastReconcile;
  if (!lr) {
    return markup`<section aria-labelledby="reconcile-h" data-testid="last-reconcile"><h2 id="reconcile-h">Last reconcile</h2>
<p class="empty" data-testid="reconcile-none">The reconcile timer has not run yet.</p></section>`;
  }
  const errors = lr.errors.length ? badge('bad', String(lr.errors.length)) : '0';
  const throttled = lr.throttled ? badge('warn', String(lr.throttled)) : '0';
  const changes = lr.changed.length
    ? markup`<h4>Changes</h4><ul class="plain" data-testid="reconcile-changes">${lr.changed.map(
        (c) => markup`<li>${badge('info', c.kind)} <code>${c.target}</code>: ${c.message}</li>`,
      )}</ul>`
    : '';
  return markup`<section aria-labelledby="reconcile-h" data-testid="last-reconcile" data-at="${lr.at}"><h2 id="reconcile-h">Last reconcile</h2>
<table>
<thead><tr><th scope="col">When</th><th scope="col">Took</th><th scope="col">Changed</th><th scope="col">Errors</th><th scope="col">Warnings</th><th scope="col">Throttled calls</th></tr></thead>
<tbody><tr><td data-testid="reconcile-at">${time(lr.at, now)}</td><td>${formatDuration(lr.durationMs)}</td><td data-testid="reconcile-changed">${lr.changed.length}</td>
<td data-testid="reconcile-errors">${errors}</td><td>${lr.warnings.length}</td><td data-testid="reconcile-throttled">${throttled}</td></tr></tbody>
</table>
${changes}
${catchUpSummary(doc, now)}
${issueList('Errors', 'reconcile-error-list', 'bad', lr.errors)}
${issueList('Warnings', 'reconcile-warning-list', 'warn', lr.warnings)}
</section>`;
}

function configErrorsSection(doc: StatusDocument): SafeHtml | '' {
  if (doc.configErrors.length === 0 && doc.refusedApps.length === 0) return '';
  const rows = doc.configErrors.map((e) => {
    const name = e.name ? markup` (${e.name})` : '';
    return markup`<tr data-testid="config-error"><td><code>${e.path}</code>${name}</td><td><code>${e.field || '—'}</code></td><td>${e.message}</td></tr>`;
  });
  const table = rows.length
    ? markup`<table><thead><tr><th scope="col">Where</th><th scope="col">Field</th><th scope="col">Problem</th></tr></thead>
<tbody>${rows}</tbody></table>`
    : '';
  const refused = doc.refusedApps.length
    ? markup`<p>Refused apps: ${join(
        doc.refusedApps.map((r) => markup`<strong data-testid="refused-app">${r.name}</strong>`),
        ', ',
      )}</p>`
    : '';
  return markup`<section class="problems" aria-labelledby="config-h" data-testid="config-errors">
<h2 id="config-h">Configuration errors (APPS_CONFIG)</h2>
<p class="meta">These entries were refused; everything else runs. Fix the app setting and restart.</p>
${table}${refused}
</section>`;
}

function readErrorsSection(doc: StatusDocument): SafeHtml | '' {
  if (doc.errors.length === 0) return '';
  return markup`<section class="problems" aria-labelledby="read-h" data-testid="read-errors">
<h2 id="read-h">Could not read everything</h2>
<p class="meta">Parts of this page may be stale or missing.</p>
<ul class="plain">${doc.errors.map((e) => markup`<li>${e}</li>`)}</ul></section>`;
}

/** The complete page. */
export function renderDashboard(doc: StatusDocument, options: DashboardOptions = {}): string {
  const refresh = options.refreshSeconds ?? DEFAULT_REFRESH_SECONDS;
  const title = options.title ?? 'ACI blue/green status';
  const parsed = Date.parse(doc.generatedAt);
  const now = Number.isNaN(parsed) ? Date.now() : parsed;
  const refreshMeta = refresh > 0 ? markup`<meta http-equiv="refresh" content="${refresh}">` : '';
  const refreshNote = refresh > 0 ? ` · refreshes every ${refresh} s` : '';
  const page = markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${refreshMeta}
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body>
<header>
<h1>${title}</h1>
<p class="meta">Generated <time datetime="${doc.generatedAt}" data-testid="generated-at">${formatTime(doc.generatedAt)}</time>${refreshNote} · ${doc.apps.length} app(s), ${doc.watched.length} watched group(s)</p>
</header>
<main>
${configErrorsSection(doc)}
${readErrorsSection(doc)}
${appsSection(doc, now)}
${watchedSection(doc)}
${watchedDnsSection(doc)}
${reconcileSection(doc, now)}
</main>
<footer>Same data as <code>GET /api/status</code> (JSON). No secret values are shown: the status document holds none.</footer>
</body>
</html>
`;
  return page.value;
}
