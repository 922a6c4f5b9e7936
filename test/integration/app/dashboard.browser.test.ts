/**
 * The dashboard in a real browser: headless Chromium from Debian's `chromium` package (CI installs it), driven
 * by playwright-core with `executablePath`, against the whole local stack (Azurite, emulator, functions host
 * running the built app). It deploys `web` 1.0.0, pushes 1.1.0 (slow to start, so the rollout is observable),
 * watches `/api/dashboard` while the rollout runs, then checks the finished state against the JSON status API
 * and the Key Vault secret read with a real SecretClient. Screenshots go to test-results/ (git-ignored).
 *
 * No Chromium → the test fails and says how to install it (never skipped).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useManagedIdentity } from '../support/emulator.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { handedOutKey } from '../../../scripts/lib/localStack.js';

const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const RESULTS_DIR = path.resolve('test-results');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface AppJson {
  name: string;
  activeColor: string | null;
  ip: string | null;
  digest: string | null;
  tag: string | null;
  secret: { name: string; inSync: boolean };
  rollout: { id: string; state: string; step: string; tag: string; error: string | null } | null;
}

/** What the page shows, read through the same data-testid hooks a person would see as text. */
interface Snapshot {
  generatedAt: string | null;
  rowText: string;
  rowTag: string;
  rowDigest: string | null;
  rowColour: string;
  rowIp: string;
  rowSecretBadge: string;
  rolloutState: string | null;
  rolloutStep: string | null;
  rolloutTag: string;
  stepStatuses: Record<string, string>;
  timelineSteps: string[];
  historyTags: Array<{ tag: string | null; outcome: string | null }>;
  html: string;
}

async function text(page: Page, selector: string): Promise<string> {
  const loc = page.locator(selector).first();
  return (await loc.count()) ? ((await loc.textContent()) ?? '').replace(/\s+/g, ' ').trim() : '';
}

async function snapshot(page: Page): Promise<Snapshot> {
  const row = '[data-testid="app-row"][data-app="web"]';
  const rollout = page.locator('[data-testid="app"][data-app="web"] [data-testid="rollout"]').first();
  const hasRollout = (await rollout.count()) > 0;
  const stepStatuses: Record<string, string> = {};
  for (const li of await page.locator('[data-testid="rollout-steps"] li').all()) {
    stepStatuses[(await li.getAttribute('data-step')) ?? '?'] = (await li.getAttribute('data-status')) ?? '?';
  }
  const timelineSteps: string[] = [];
  for (const tr of await page.locator('[data-testid="timeline-entry"]').all()) {
    timelineSteps.push((await tr.getAttribute('data-step')) ?? '?');
  }
  const historyTags: Snapshot['historyTags'] = [];
  for (const tr of await page.locator('[data-testid="history-entry"]').all()) {
    historyTags.push({
      tag: await tr.getAttribute('data-tag'),
      outcome: await tr.getAttribute('data-outcome'),
    });
  }
  const digestLoc = page.locator(`${row} [data-testid="app-digest"] [data-digest]`);
  return {
    generatedAt: await page.locator('[data-testid="generated-at"]').getAttribute('datetime'),
    rowText: await text(page, row),
    rowTag: await text(page, `${row} [data-testid="app-tag"]`),
    rowDigest: (await digestLoc.count()) ? await digestLoc.getAttribute('data-digest') : null,
    rowColour: await text(page, `${row} [data-testid="app-colour"]`),
    rowIp: await text(page, `${row} [data-testid="app-ip"]`),
    rowSecretBadge: await text(page, `${row} [data-testid="secret-badge"]`),
    rolloutState: hasRollout ? await rollout.getAttribute('data-state') : null,
    rolloutStep: hasRollout ? await rollout.getAttribute('data-step') : null,
    rolloutTag: await text(page, '[data-testid="rollout-tag"]'),
    stepStatuses,
    timelineSteps,
    historyTags,
    html: await page.content(),
  };
}

/** Reloads the page until `accept` holds; returns that snapshot (the last one in the error otherwise). */
async function pollPage(
  page: Page,
  url: string,
  what: string,
  accept: (s: Snapshot) => boolean,
  timeoutMs: number,
): Promise<Snapshot> {
  const deadline = Date.now() + timeoutMs;
  let last: Snapshot | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await page.goto(url, { waitUntil: 'domcontentloaded' });
      if (res?.status() === 404) {
        throw new Error(
          'GET /api/dashboard → 404: the app registers no dashboard route (src/index.ts must import ./functions/dashboard.js)',
        );
      }
      if (res?.status() !== 200)
        throw new Error(`GET /api/dashboard → ${res?.status()}: ${await res?.text()}`);
      last = await snapshot(page);
      if (accept(last)) return last;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const seen = last ? JSON.stringify({ ...last, html: undefined }) : `nothing (${String(lastError)})`;
  throw new Error(`dashboard never showed ${what} within ${timeoutMs} ms; last seen: ${seen}`);
}

async function pollJson<T>(
  read: () => Promise<T>,
  what: string,
  accept: (v: T) => boolean,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (accept(last)) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

describe('dashboard in headless Chromium', () => {
  let stack: TestStack | undefined;
  let browser: Browser | undefined;
  let restoreIdentity: (() => void) | undefined;

  beforeAll(async () => {
    // The reconcile timer runs every 2 s so an interrupted rollout resumes quickly, as the minute timer would.
    stack = await startTestStack({ reconcileSchedule: '*/2 * * * * *' });
    restoreIdentity = useManagedIdentity(stack.emulator);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    restoreIdentity?.();
  }, 60_000);

  it('refuses a request without the function key', async () => {
    const res = await fetch(`${stack!.host.baseUrl}/api/dashboard`);
    expect(res.status).toBe(401);
  });

  it('shows a blue/green rollout while it runs, then the new version with Key Vault in sync', async () => {
    const s = stack!;
    const url = `${s.host.baseUrl}/api/dashboard?code=${encodeURIComponent(handedOutKey(s.host, 'functionKey'))}`;
    const statusOf = async (): Promise<AppJson> => {
      const res = await s.call('/api/status/web');
      if (res.status !== 200) throw new Error(`GET /api/status/web → ${res.status}: ${await res.text()}`);
      return (await res.json()) as AppJson;
    };
    const push = async (tag: string, behavior?: string) => {
      const res = await s.emulator.control<{ digest: string }>('POST', '/_emulator/registries/contoso/push', {
        repository: 'web',
        tag,
        ...(behavior ? { behavior } : {}),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.digest;
    };

    // Launched here, not in beforeAll, so a missing binary is this test's failure with the message below.
    if (!fs.existsSync(CHROMIUM_PATH)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM_PATH}. This test needs Debian's chromium package: ` +
          `sudo apt-get install -y chromium (or set CHROMIUM_PATH to a Chromium binary).`,
      );
    }
    // playwright-core gives every launch a fresh temporary profile (user-data-dir) and removes it on close.
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    fs.mkdirSync(RESULTS_DIR, { recursive: true });

    // Before anything is deployed: the app is listed, with nothing active.
    const empty = await pollPage(page, url, 'the app row', (p) => p.rowText.includes('web'), 30_000);
    expect(empty.rolloutState).toBeNull();
    expect(empty.rowSecretBadge).toBe('Key Vault out of sync');

    // The page reloads itself (meta refresh), without any script.
    expect(empty.html).toContain('<meta http-equiv="refresh" content="5">');
    expect(empty.html).not.toMatch(/<script/i);
    // Nothing here navigates: a newer generation time can only come from the page reloading itself.
    const refreshDeadline = Date.now() + 15_000;
    let reloaded: string | null = empty.generatedAt;
    while (reloaded === empty.generatedAt && Date.now() < refreshDeadline) {
      await new Promise((r) => setTimeout(r, 250));
      reloaded = await page
        .locator('[data-testid="generated-at"]')
        .getAttribute('datetime', { timeout: 1000 })
        .catch(() => empty.generatedAt); // mid-reload
    }
    expect(Date.parse(reloaded!)).toBeGreaterThan(Date.parse(empty.generatedAt!));

    // First deploy: 1.0.0 into web-blue.
    const d1 = await push('1.0.0');
    const first = await pollJson(
      statusOf,
      'web 1.0.0 deployed and mirrored to Key Vault',
      (a) => a.rollout?.state === 'succeeded' && a.tag === '1.0.0' && a.secret.inSync,
      90_000,
    );
    expect(first).toMatchObject({ activeColor: 'blue', digest: d1 });

    // 1.1.0 takes 6 s to answer its health check, so the rollout is visible in progress.
    const d2 = await push('1.1.0', 'slow:6');
    const during = await pollPage(
      page,
      url,
      'the 1.1.0 rollout in progress past its first step',
      (p) =>
        p.rolloutState === 'inProgress' &&
        p.rolloutTag === '1.1.0' &&
        ['creating', 'waitingRunning', 'healthGate'].includes(p.rolloutStep ?? ''),
      60_000,
    );
    await page.screenshot({ path: path.join(RESULTS_DIR, 'dashboard-in-progress.png'), fullPage: true });
    // The app row still shows what serves now; the rollout section shows the steps so far.
    expect(during.rowTag).toBe('1.0.0');
    expect(during.rowDigest).toBe(d1);
    expect(during.rowColour).toContain('blue');
    const steps = Object.keys(during.stepStatuses);
    const current = steps.indexOf(during.rolloutStep!);
    expect(steps[0]).toBe('accepted');
    expect(current).toBeGreaterThan(0);
    steps.forEach((step, i) =>
      expect(during.stepStatuses[step], step).toBe(
        i < current ? 'done' : i === current ? 'current' : 'pending',
      ),
    );
    expect(during.timelineSteps[0]).toBe('accepted');
    expect(during.timelineSteps).toContain('creating');
    expect(await text(page, '[data-testid="rollout-state"]')).toMatch(/^in progress: /);

    // Completion: the new tag and digest in green, Key Vault in sync, and the history.
    const done = await pollPage(
      page,
      url,
      'the 1.1.0 rollout finished with Key Vault in sync',
      (p) =>
        p.rolloutState === 'succeeded' && p.rowTag === '1.1.0' && p.rowSecretBadge === 'Key Vault in sync',
      120_000,
    );
    const shot = path.join(RESULTS_DIR, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`dashboard screenshot: ${shot}`);

    expect(done.rowDigest).toBe(d2);
    expect(done.rowText).toContain(d2.slice(0, 19)); // sha256: + 12 hex digits
    expect(done.rowColour).toContain('green');
    expect(Object.values(done.stepStatuses).every((v) => v === 'done')).toBe(true);
    expect(done.timelineSteps).toEqual(
      expect.arrayContaining(['accepted', 'creating', 'healthGate', 'switching', 'draining', 'deletingOld']),
    );
    expect(await text(page, '[data-testid="timeline-finished"]')).toMatch(/^Succeeded.*rollout succeeded$/);
    expect(done.historyTags).toEqual(
      expect.arrayContaining([
        { tag: '1.1.0', outcome: 'succeeded' },
        { tag: '1.0.0', outcome: 'succeeded' },
      ]),
    );

    // The page agrees with the JSON API and with Key Vault itself.
    const json = await statusOf();
    expect(json).toMatchObject({ tag: '1.1.0', digest: d2, activeColor: 'green' });
    expect(done.rowIp).toBe(json.ip);
    const secrets = new SecretClient(s.emulator.vaultUrl('kv-apps'), new DefaultAzureCredential());
    expect((await secrets.getSecret('web-ip')).value).toBe(json.ip);
    // No secret value on the page: the sample's secure environment value stays in Key Vault.
    const dbPassword = (await secrets.getSecret('web-db-password')).value;
    expect(dbPassword).toBeTruthy();
    expect(done.html).not.toContain(dbPassword!);
    expect(done.html).not.toContain(handedOutKey(s.host, 'functionKey'));
    await page.close();
  }, 300_000);
});
