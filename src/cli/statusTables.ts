/**
 * `acibg status` as text: one row per app (active group, digest, tag, rollout, pause, preview IP, rollback
 * window), and for one app the details behind the row. Reads the status JSON loosely (docs/design.md, "Status
 * JSON"): fields the server adds later (paused, previewIp, rollbackTarget) show when present, and a field it
 * lacks shows as "-", so the CLI works against older and newer servers alike.
 */
import { formatTime, shortDigest } from '../dashboard/format.js';
import type { ActionAccepted } from './apiClient.js';

interface RolloutView {
  id?: string;
  state?: string;
  step?: string;
  tag?: string;
  digest?: string;
  error?: string | null;
  waiting?: string | null;
}

interface AppView {
  name?: string;
  activeGroup?: string | null;
  activeColor?: string | null;
  digest?: string | null;
  tag?: string | null;
  ip?: string | null;
  rollout?: RolloutView | null;
  paused?: Record<string, unknown> | boolean | null;
  previewIp?: string | null;
  rollbackTarget?: { group?: string; digest?: string; tag?: string; until?: string } | null;
  secret?: { name?: string; inSync?: boolean; ip?: string | null; problem?: string | null };
  queued?: { tag?: string; digest?: string; receivedAt?: string } | null;
  held?: { message?: string } | null;
  config?: { state?: string; message?: string } | null;
  history?: Array<{
    finishedAt?: string;
    tag?: string;
    digest?: string;
    outcome?: string;
    reason?: string | null;
  }>;
  refused?: boolean;
  message?: string;
  errors?: string[];
  generatedAt?: string;
}

interface StatusView {
  apps?: AppView[];
  watched?: Array<{
    resourceGroup?: string;
    name?: string;
    ip?: string | null;
    secret?: string;
    inSync?: boolean;
  }>;
  refusedApps?: Array<{ name?: string; errors?: string[] }>;
  generatedAt?: string;
}

const DASH = '-';
const HISTORY_ROWS = 5;

/** Columns padded to their widest cell; the last column is not padded, so no line ends in spaces. */
export function textTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

const text = (value: string | null | undefined): string => (value ? value : DASH);
const digest = (value: string | null | undefined): string => (value ? shortDigest(value) : DASH);
const time = (value: string | null | undefined): string => (value ? formatTime(value) : DASH);

function rolloutCell(r: RolloutView | null | undefined): string {
  if (!r?.state) return DASH;
  return r.step && r.step !== r.state ? `${r.state} (${r.step})` : r.state;
}

function pausedCell(paused: AppView['paused']): string {
  return paused ? 'yes' : 'no';
}

const APP_HEADERS = ['APP', 'ACTIVE', 'DIGEST', 'TAG', 'ROLLOUT', 'PAUSED', 'PREVIEW IP', 'ROLLBACK UNTIL'];

function appRow(a: AppView): string[] {
  return [
    text(a.name),
    text(a.activeGroup),
    digest(a.digest),
    text(a.tag),
    rolloutCell(a.rollout),
    pausedCell(a.paused),
    text(a.previewIp),
    time(a.rollbackTarget?.until),
  ];
}

/** `key=value` of an object's simple fields: the pause record's shape is the server's to extend. */
function describeFields(o: Record<string, unknown>): string {
  return Object.entries(o)
    .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
}

function appDetails(a: AppView): string[] {
  const lines: string[] = [];
  if (a.secret) {
    const sync = a.secret.inSync ? 'in sync' : 'OUT OF SYNC';
    lines.push(
      `Secret     ${text(a.secret.name)} ${sync} (${text(a.secret.ip)})${a.secret.problem ? `: ${a.secret.problem}` : ''}`,
    );
  }
  const r = a.rollout;
  if (r?.state) {
    const parts = [text(r.id), rolloutCell(r), `${text(r.tag)} ${digest(r.digest)}`];
    if (r.waiting) parts.push(`waiting: ${r.waiting}`);
    if (r.error) parts.push(`error: ${r.error}`);
    lines.push(`Rollout    ${parts.join('  ')}`);
  }
  if (a.paused) {
    const fields = typeof a.paused === 'object' ? describeFields(a.paused) : '';
    lines.push(`Paused     yes${fields ? ` (${fields})` : ''}`);
  }
  if (a.previewIp) lines.push(`Preview    ${a.previewIp}`);
  const t = a.rollbackTarget;
  if (t)
    lines.push(`Rollback   to ${text(t.group)} (${text(t.tag)} ${digest(t.digest)}) until ${time(t.until)}`);
  const q = a.queued;
  if (q) lines.push(`Queued     ${text(q.tag)} ${digest(q.digest)} received ${time(q.receivedAt)}`);
  if (a.held?.message) lines.push(`Deploys    ${a.held.message} (rollback and abort still work)`);
  if (a.config?.state && a.config.state !== 'inSync') lines.push(`Config     ${text(a.config.message)}`);
  const history = (a.history ?? []).slice(0, HISTORY_ROWS);
  if (history.length > 0) {
    lines.push('', `History (latest ${history.length})`);
    lines.push(
      textTable(
        ['FINISHED', 'TAG', 'DIGEST', 'OUTCOME', 'REASON'],
        history.map((h) => [
          time(h.finishedAt),
          text(h.tag),
          digest(h.digest),
          text(h.outcome),
          text(h.reason),
        ]),
      ),
    );
  }
  return lines;
}

function renderOneApp(a: AppView): string {
  if (a.refused) {
    return [
      `${text(a.name)}: ${a.message ?? 'refused by config validation'}`,
      ...(a.errors ?? []).map((e) => `  - ${e}`),
    ].join('\n');
  }
  return [textTable(APP_HEADERS, [appRow(a)]), '', ...appDetails(a)].join('\n').trimEnd();
}

function renderDocument(doc: StatusView): string {
  const parts = [doc.apps?.length ? textTable(APP_HEADERS, doc.apps.map(appRow)) : 'No apps configured.'];
  for (const refused of doc.refusedApps ?? []) {
    parts.push(
      `${text(refused.name)} is not deployed, its configuration has errors: ${(refused.errors ?? []).join('; ')}`,
    );
  }
  if (doc.watched?.length) {
    parts.push(
      '',
      textTable(
        ['WATCHED GROUP', 'IP', 'SECRET', 'IN SYNC'],
        doc.watched.map((w) => [
          `${text(w.resourceGroup)}/${text(w.name)}`,
          text(w.ip),
          text(w.secret),
          w.inSync ? 'yes' : 'no',
        ]),
      ),
    );
  }
  return parts.join('\n');
}

/** The status document (`/api/status`) or one app (`/api/status/{app}`) as text. */
export function renderStatus(body: unknown): string {
  const o = (body ?? {}) as StatusView & AppView;
  return Array.isArray(o.apps) ? renderDocument(o) : renderOneApp(o);
}

export function renderAccepted(accepted: ActionAccepted): string {
  const rollout = accepted.rolloutId ? ` (rollout ${accepted.rolloutId})` : '';
  return `${accepted.action} accepted for ${accepted.app}${rollout}. Follow it: acibg status ${accepted.app}`;
}
