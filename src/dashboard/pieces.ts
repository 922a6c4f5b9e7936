/**
 * The dashboard's small value renderers (badges, times, digests, IPs, colours), shared by the page and its panels.
 * Every value goes through `markup`, so it is escaped.
 */
import { formatAgo, formatTime, shortDigest } from './format.js';
import { markup, type SafeHtml } from './markup.js';

export type Tone = 'ok' | 'bad' | 'warn' | 'info' | 'muted';

export function badge(tone: Tone, text: string, testId?: string, title?: string | null): SafeHtml {
  const tid = testId ? markup` data-testid="${testId}"` : '';
  const tip = title ? markup` title="${title}"` : '';
  return markup`<span class="badge ${tone}"${tid}${tip}>${text}</span>`;
}

export function time(isoTime: string | null | undefined, now: number): SafeHtml {
  if (!isoTime) return markup`—`;
  const ago = formatAgo(isoTime, now);
  const agoText = ago ? markup` <span class="meta">(${ago})</span>` : '';
  return markup`<time datetime="${isoTime}">${formatTime(isoTime)}</time>${agoText}`;
}

export function digest(value: string | null | undefined): SafeHtml {
  if (!value) return markup`—`;
  return markup`<code title="${value}" data-digest="${value}">${shortDigest(value)}</code>`;
}

export function ipText(value: string | null | undefined): SafeHtml {
  return value ? markup`<code>${value}</code>` : markup`—`;
}

export function colour(value: string | null | undefined): SafeHtml {
  if (!value) return markup`<span class="empty">none</span>`;
  const cls = ['blue', 'green', 'adopted'].includes(value) ? value : '';
  return markup`<span class="colour ${cls}" aria-hidden="true"></span>${value}`;
}
