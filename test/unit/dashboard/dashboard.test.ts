import { describe, expect, it } from 'vitest';
import { formatDuration, shortDigest } from '../../../src/dashboard/format.js';
import { escapeHtml, markup } from '../../../src/dashboard/markup.js';
import { renderDashboard } from '../../../src/dashboard/renderDashboard.js';
import type { AppStatus, RolloutStatus, StatusDocument } from '../../../src/domain/statusDocument.js';

const D1 = `sha256:${'1a'.repeat(32)}`;
const D2 = `sha256:${'2b'.repeat(32)}`;
const NOW = '2026-11-21T10:01:00.000Z';

function rollout(overrides: Partial<RolloutStatus> = {}): RolloutStatus {
  return {
    id: 'web-20261121T100000-2b2b2b',
    state: 'inProgress',
    step: 'healthGate',
    kind: 'push',
    requestedBy: null,
    verify: null,
    error: null,
    reason: null,
    tag: '1.1.0',
    digest: D2,
    group: 'web-green',
    colour: 'green',
    startedAt: '2026-11-21T10:00:00.000Z',
    updatedAt: '2026-11-21T10:00:40.000Z',
    finishedAt: null,
    durationMs: 60_000,
    waiting: 'health 1/3 consecutive successes',
    transient: null,
    lastHealth: 'GET http://127.100.1.5:8080/healthz → 200',
    timeline: [
      { step: 'accepted', at: '2026-11-21T10:00:00.000Z', message: 'push of web:1.1.0 accepted' },
      { step: 'creating', at: '2026-11-21T10:00:01.500Z', message: 'creating web-green' },
      { step: 'waitingRunning', at: '2026-11-21T10:00:02.000Z', message: 'create requested' },
      { step: 'healthGate', at: '2026-11-21T10:00:30.000Z', message: 'web-green Running at 127.100.1.5' },
    ],
    ...overrides,
  };
}

function app(overrides: Partial<AppStatus> = {}): AppStatus {
  return {
    name: 'web',
    registry: 'contoso',
    registryLoginServer: 'contoso.azurecr.io',
    registryResourceId:
      '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/contoso',
    repository: 'web',
    resourceGroup: 'rg-apps',
    activeColor: 'blue',
    activeGroup: 'web-blue',
    ip: '127.100.1.4',
    digest: D1,
    tag: '1.0.0',
    provisioningState: 'Succeeded',
    secret: {
      name: 'web-ip',
      vaultUrl: 'https://kv-apps.vault.localhost:8443',
      inSync: true,
      ip: '127.100.1.4',
      problem: null,
    },
    rollout: rollout(),
    queued: null,
    pendingDeletions: [],
    history: [
      {
        rolloutId: 'web-20261121T095000-1a1a1a',
        tag: '1.0.0',
        digest: D1,
        outcome: 'succeeded',
        reason: null,
        message: null,
        group: 'web-blue',
        startedAt: '2026-11-21T09:50:00.000Z',
        finishedAt: '2026-11-21T09:51:05.000Z',
        durationMs: 65_000,
        kind: 'push',
        requestedBy: null,
      },
    ],
    ignored: [],
    conditions: [
      { type: 'Available', status: 'True', reason: 'Running', message: 'web-blue is Running' },
      { type: 'SecretInSync', status: 'True', reason: 'InSync', message: 'web-ip = 127.100.1.4' },
      { type: 'Progressing', status: 'True', reason: 'healthGate', message: 'web-… (1.1.0)' },
      { type: 'Degraded', status: 'False', reason: 'None', message: '' },
    ],
    warnings: [],
    paused: null,
    previewIp: null,
    previewSecret: null,
    rollbackTarget: null,
    rejected: [],
    actions: [],
    availableActions: [],
    ...overrides,
  };
}

function doc(overrides: Partial<StatusDocument> = {}): StatusDocument {
  return {
    generatedAt: NOW,
    apps: [app()],
    watched: [
      {
        resourceGroup: 'rg-legacy',
        name: 'legacy-worker',
        ip: '127.150.2.4',
        secret: 'legacy-worker-ip',
        vaultUrl: 'https://kv-apps.vault.localhost:8443',
        inSync: false,
        source: 'config',
        provisioningState: 'Succeeded',
        problem: 'secret does not exist yet',
      },
    ],
    lastReconcile: {
      at: '2026-11-21T10:00:55.000Z',
      durationMs: 420,
      changed: [{ kind: 'secret', target: 'kv-apps/legacy-worker-ip', message: 'set to 127.150.2.4' }],
      errors: [{ scope: 'vault', target: 'kv-legacy', message: 'listing failed: 503', retryable: true }],
      warnings: [],
      throttled: 2,
    },
    configErrors: [],
    refusedApps: [],
    errors: [],
    ...overrides,
  };
}

/** The text inside the element carrying `data-testid="{id}"` (first match), tags stripped. */
function textOf(page: string, testId: string): string {
  const start = page.indexOf(`data-testid="${testId}"`);
  if (start < 0) throw new Error(`no element with data-testid="${testId}"`);
  const open = page.lastIndexOf('<', start);
  const tag = /^<([a-z0-9]+)/.exec(page.slice(open))![1]!;
  const end = page.indexOf(`</${tag}>`, start);
  return page
    .slice(page.indexOf('>', start) + 1, end)
    .replace(/<[^>]+>/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function countOf(page: string, needle: string): number {
  return page.split(needle).length - 1;
}

describe('renderDashboard', () => {
  it('renders a complete page that refreshes itself and needs no JavaScript', () => {
    const page = renderDashboard(doc());
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).toContain('<html lang="en">');
    expect(page).toContain('<meta http-equiv="refresh" content="5">');
    expect(page).toContain('<style>');
    expect(page).not.toMatch(/<script|<link|<iframe|<img|<[^>]*\son[a-z]+\s*=/i);
    expect(page).toContain("default-src 'none'");
    for (const tag of ['section', 'table', 'thead', 'tbody', 'ol', 'ul', 'dl', 'html', 'body']) {
      expect(countOf(page, `<${tag}`), tag).toBe(countOf(page, `</${tag}>`));
    }
    expect(page.trimEnd().endsWith('</html>')).toBe(true);
  });

  it('honours refreshSeconds (0 disables the refresh)', () => {
    expect(renderDashboard(doc(), { refreshSeconds: 10 })).toContain('content="10"');
    expect(renderDashboard(doc(), { refreshSeconds: 0 })).not.toContain('http-equiv="refresh"');
  });

  it('shows each app: active colour, tag, short digest, IP and a Key Vault badge with text', () => {
    const page = renderDashboard(doc());
    const row = textOf(page, 'app-row');
    expect(row).toContain('web');
    expect(row).toContain('blue');
    expect(row).toContain('1.0.0');
    expect(row).toContain('sha256:1a1a1a1a1a1a');
    expect(row).not.toContain(D1.slice(7, 40)); // shortened in the text
    expect(page).toContain(`title="${D1}"`); // full digest on hover
    expect(row).toContain('127.100.1.4');
    expect(textOf(page, 'secret-badge')).toBe('Key Vault in sync');
    const outOfSync = renderDashboard(
      doc({
        apps: [app({ secret: { ...app().secret, inSync: false, problem: 'secret holds 127.100.1.9' } })],
      }),
    );
    expect(textOf(outOfSync, 'secret-badge')).toBe('Key Vault out of sync');
    expect(outOfSync).toContain('secret holds 127.100.1.9');
  });

  it('shows an in-progress rollout as a timeline of steps with times and messages', () => {
    const page = renderDashboard(doc());
    expect(textOf(page, 'rollout-state')).toBe('in progress: Health gate');
    expect(page).toContain('data-testid="rollout" data-state="inProgress" data-step="healthGate"');
    // The step list: steps before the current one done, the current one marked, the rest not reached.
    expect(page).toMatch(/data-step="accepted" data-status="done"/);
    expect(page).toMatch(/data-step="waitingRunning" data-status="done"/);
    expect(page).toMatch(/data-step="healthGate" data-status="current" aria-current="step"/);
    expect(page).toMatch(/data-step="switching" data-status="pending"/);
    const timeline = textOf(page, 'rollout-timeline');
    expect(timeline).toContain('Create group');
    expect(timeline).toContain('10:00:01.500');
    expect(timeline).toContain('+1.5 s');
    expect(timeline).toContain('web-green Running at 127.100.1.5');
    expect(countOf(page, 'data-testid="timeline-entry"')).toBe(4);
    expect(textOf(page, 'timeline-waiting')).toContain('waiting: health 1/3 consecutive successes');
    expect(textOf(page, 'rollout-tag')).toBe('1.1.0');
    expect(textOf(page, 'rollout-duration')).toBe('1 min 00 s');
  });

  it('shows a failed rollout with its reason, and recent rollouts with outcome and duration', () => {
    const failed = rollout({
      id: 'web-r3',
      state: 'failed',
      step: 'healthGate',
      tag: '1.2.0',
      error: 'health check failed: GET http://127.100.1.6:8080/healthz → 503 for 120 s',
      reason: 'HealthCheckFailed',
      finishedAt: '2026-11-21T10:02:00.000Z',
      durationMs: 121_000,
      waiting: 'still waiting (must not show once failed)',
    });
    const page = renderDashboard(
      doc({
        apps: [
          app({
            rollout: failed,
            history: [
              {
                rolloutId: 'web-r3',
                tag: '1.2.0',
                digest: D2,
                outcome: 'failed',
                reason: 'HealthCheckFailed',
                message: 'health check failed: → 503',
                kind: 'push',
                requestedBy: null,
                group: 'web-green',
                startedAt: '2026-11-21T10:00:00.000Z',
                finishedAt: '2026-11-21T10:02:00.000Z',
                durationMs: 121_000,
              },
              ...app().history,
            ],
          }),
        ],
      }),
    );
    expect(textOf(page, 'rollout-state')).toBe('failed');
    expect(textOf(page, 'rollout-reason')).toBe('HealthCheckFailed');
    expect(textOf(page, 'rollout-error')).toContain('GET http://127.100.1.6:8080/healthz → 503 for 120 s');
    expect(page).toMatch(/data-step="healthGate" data-status="failed"/);
    expect(page).toMatch(/data-step="creating" data-status="done"/);
    expect(page).not.toContain('still waiting');
    expect(textOf(page, 'rollout-duration')).toBe('2 min 01 s');
    const history = textOf(page, 'history');
    expect(history).toContain('1.2.0');
    expect(history).toContain('failed');
    expect(history).toContain('HealthCheckFailed: health check failed: → 503');
    expect(history).toContain('2 min 01 s');
    expect(history).toContain('succeeded');
    expect(history).toContain('1 min 05 s');
    expect(countOf(page, 'data-testid="history-entry"')).toBe(2);
    expect(page).toContain('data-outcome="failed" data-tag="1.2.0"');
  });

  it('marks every step done for a succeeded rollout', () => {
    const page = renderDashboard(
      doc({
        apps: [app({ rollout: rollout({ state: 'succeeded', step: 'succeeded', finishedAt: NOW }) })],
      }),
    );
    expect(textOf(page, 'rollout-state')).toBe('succeeded');
    expect(countOf(page, 'data-status="done"')).toBe(9);
    // Not recorded as a step by the domain: the timeline closes with the outcome at finishedAt.
    expect(textOf(page, 'timeline-finished')).toBe('Succeeded10:01:00.000+1 min 00 srollout succeeded');
    expect(page).toContain('Last rollout');
  });

  it('renders a stack with no apps, no watched groups and no reconcile yet', () => {
    const page = renderDashboard(doc({ apps: [], watched: [], lastReconcile: null }));
    expect(textOf(page, 'apps-none')).toBe('No apps configured.');
    expect(textOf(page, 'watched-none')).toBe('No watched groups.');
    expect(textOf(page, 'reconcile-none')).toContain('has not run yet');
    expect(page).not.toContain('data-testid="app-row"');
    expect(page).not.toContain('data-testid="config-errors"');
  });

  it('renders an app that has never been deployed', () => {
    const page = renderDashboard(
      doc({
        apps: [
          app({
            activeColor: null,
            activeGroup: null,
            ip: null,
            digest: null,
            tag: null,
            provisioningState: null,
            rollout: null,
            history: [],
            secret: { ...app().secret, inSync: false, ip: null, problem: 'no active group yet' },
          }),
        ],
      }),
    );
    expect(textOf(page, 'app-row')).toContain('none');
    expect(textOf(page, 'rollout-state')).toBe('no rollout yet');
    expect(page).toContain('data-testid="rollout-none"');
    expect(page).toContain('data-testid="history-none"');
    expect(page).toContain('no active group yet');
  });

  it('lists configuration errors and refused apps', () => {
    const page = renderDashboard(
      doc({
        apps: [],
        configErrors: [
          {
            path: 'apps[1]',
            name: 'api',
            field: 'health.port',
            message: 'expected a number',
            text: 'apps[1] (api): health.port: expected a number',
          },
          { path: 'watch', field: 'vaultUrl', message: 'not a URL', text: 'watch: vaultUrl: not a URL' },
        ],
        refusedApps: [{ name: 'api', errors: ['health.port: expected a number'] }],
      }),
    );
    const section = textOf(page, 'config-errors');
    expect(section).toContain('apps[1] (api)');
    expect(section).toContain('health.port');
    expect(section).toContain('expected a number');
    expect(section).toContain('not a URL');
    expect(countOf(page, 'data-testid="config-error"')).toBe(2);
    expect(textOf(page, 'refused-app')).toBe('api');
    expect(textOf(page, 'apps-none')).toContain('see the configuration errors');
  });

  it('shows watched groups and the last reconcile (when, changed, errors, throttled)', () => {
    const page = renderDashboard(doc());
    const watched = textOf(page, 'watched');
    expect(watched).toContain('rg-legacy/legacy-worker');
    expect(watched).toContain('127.150.2.4');
    expect(watched).toContain('legacy-worker-ip');
    expect(textOf(page, 'watched-badge')).toBe('out of sync');
    expect(watched).toContain('secret does not exist yet');
    const reconcile = textOf(page, 'last-reconcile');
    expect(reconcile).toContain('2026-11-21 10:00:55 UTC');
    expect(reconcile).toContain('(5.0 s ago)');
    expect(textOf(page, 'reconcile-changed')).toBe('1');
    expect(textOf(page, 'reconcile-errors')).toBe('1');
    expect(textOf(page, 'reconcile-throttled')).toBe('2');
    expect(textOf(page, 'reconcile-changes')).toContain('kv-apps/legacy-worker-ip: set to 127.150.2.4');
    expect(textOf(page, 'reconcile-error-list')).toContain('listing failed: 503 (will retry)');
  });

  it('shows problems reading the data', () => {
    const page = renderDashboard(doc({ errors: ['resource group rg-apps: ARM 503'] }));
    expect(textOf(page, 'read-errors')).toContain('resource group rg-apps: ARM 503');
  });

  it('escapes every value (app names, messages, config errors, tags)', () => {
    const evil = '<script>alert("x")</script>';
    const attr = '" onmouseover="alert(1)';
    const page = renderDashboard(
      doc({
        apps: [
          app({
            name: evil,
            tag: attr,
            warnings: [`drift: ${evil}`],
            rollout: rollout({
              state: 'failed',
              error: `image pull failed: <img src=x onerror=alert(1)>`,
              reason: 'ImagePullFailed',
              timeline: [{ step: 'failed', at: NOW, message: evil }],
            }),
          }),
        ],
        configErrors: [{ path: 'apps[0]', field: 'name', message: evil, text: evil }],
        refusedApps: [{ name: evil, errors: [] }],
        errors: [evil],
      }),
    );
    expect(page).not.toContain('<script');
    expect(page).not.toContain('<img');
    expect(page).not.toContain('" onmouseover="');
    expect(page).not.toMatch(/<[^>]*\son[a-z]+\s*=/i); // no event-handler attribute in any tag
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(page).toContain('image pull failed: &lt;img src=x onerror=alert(1)&gt;');
    expect(page).toContain('data-app="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"');
    expect(page).toContain('&quot; onmouseover=&quot;alert(1)');
  });

  it('lists the pushes that started no rollout, with decision and reason, escaped', () => {
    expect(renderDashboard(doc())).not.toContain('data-testid="ignored"');
    const evil = '<script>alert("x")</script>';
    const page = renderDashboard(
      doc({
        apps: [
          app({
            ignored: [
              {
                at: '2026-11-21T10:00:50.000Z',
                eventId: 'evt-7',
                tag: '1.0.1',
                digest: D1,
                outcome: 'ignored',
                reason: `duplicate: digest ${D1} was already deployed by rollout web-r1`,
              },
              {
                at: '2026-11-21T10:00:40.000Z',
                eventId: 'evt-6',
                tag: evil,
                digest: D1,
                outcome: 'rejected',
                reason: `tag ${evil} is not allowed`,
              },
            ],
          }),
        ],
      }),
    );
    expect(countOf(page, 'data-testid="ignored-entry"')).toBe(2);
    expect(page).toContain('<caption>Pushes that started no rollout</caption>');
    expect(page).toMatch(
      /data-outcome="ignored" data-tag="1\.0\.1">\n<td>1\.0\.1<\/td><td>.*<\/td><td>.*ignored.*<\/td><td>duplicate: digest .* was already deployed by rollout web-r1<\/td>/,
    );
    expect(page).toContain('<code>evt-7</code>');
    expect(page).not.toContain('<script');
    expect(page).toContain('tag &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; is not allowed');
  });

  it('says why deploys wait (freeze, window), whether the config matches, and what catch-up found', () => {
    const page = renderDashboard(
      doc({
        apps: [
          app({
            held: {
              reason: 'window',
              until: '2026-11-22T08:00:00.000Z',
              message: 'held: outside deploy window until 2026-11-22T08:00:00.000Z',
            },
            config: {
              state: 'drift',
              desiredHash: 'v1-2222222222222222',
              activeHash: 'v1-1111111111111111',
              rolloutOnConfigChange: false,
              rolloutOnSecretChange: true,
              changes: ['template changed (v1-1111111111111111 → v1-2222222222222222)'],
              secrets: [
                {
                  vaultUrl: 'https://kv-apps.vault.azure.net',
                  name: 'web-db-password',
                  version: 'abc123',
                  createdOn: '2026-11-20T10:00:00.000Z',
                  latestCreatedOn: '2026-11-21T09:00:00.000Z',
                  changed: true,
                },
              ],
              message: 'config drift: template changed; rolloutOnConfigChange is false: redeploy to apply it',
            },
          }),
          app({
            name: 'api',
            held: { reason: 'freeze', until: null, message: 'held: freeze' },
            config: {
              state: 'unknown',
              desiredHash: 'v1-3333333333333333',
              activeHash: null,
              rolloutOnConfigChange: true,
              rolloutOnSecretChange: false,
              changes: [],
              secrets: [],
              message: 'unknown: api-blue has no config-hash tag of this version',
            },
          }),
        ],
        catchUp: {
          everySeconds: 600,
          nextAt: '2026-11-21T10:10:00.000Z',
          lastRun: {
            at: '2026-11-21T10:00:00.000Z',
            checked: 2,
            found: [{ app: 'web', tag: '1.2.0', digest: D2, outcome: 'started', rolloutId: 'r' }],
            failed: [],
          },
        },
      }),
    );
    expect(textOf(page, 'app-held')).toBe(
      'outside deploy window held: outside deploy window until 2026-11-22T08:00:00.000Z (opens 2026-11-22 08:00:00 UTC (in 21 h 59 min)); rollback and abort still work',
    );
    expect(page).toContain('data-testid="app-held" data-reason="freeze"');
    expect(textOf(page, 'app-config')).toContain(
      'drift config drift: template changed; rolloutOnConfigChange is false',
    );
    expect(textOf(page, 'app-config')).toContain('web-db-password version abc123 newer version');
    expect(page).toContain('data-testid="app-config" data-state="unknown"');
    expect(textOf(page, 'catch-up')).toContain('Catch-up (every 600 s) last ran');
    expect(textOf(page, 'catch-up')).toContain('2 repositories checked, 1 push(es) without an event');
  });

  it('never shows values it does not know, such as a secret value slipped into the document', () => {
    const sentinel = 'S3cr3t-DB-Passw0rd-value';
    const leaky = doc();
    const a = leaky.apps[0]!;
    Object.assign(a.secret, { value: sentinel });
    Object.assign(a, {
      env: { DB_PASSWORD: sentinel },
      secureEnvironment: [{ name: 'DB_PASSWORD', value: sentinel }],
    });
    Object.assign(a.rollout!, { secureValue: sentinel });
    Object.assign(leaky.watched[0]!, { value: sentinel });
    Object.assign(leaky, { credentials: { identityHeader: sentinel } });
    const page = renderDashboard(leaky);
    expect(page).not.toContain(sentinel);
    expect(page).not.toMatch(/DB_PASSWORD|identityHeader|password/i);
  });
});

describe('dashboard formats', () => {
  it('shortens digests and formats durations', () => {
    expect(shortDigest(D1)).toBe('sha256:1a1a1a1a1a1a');
    expect(shortDigest(null)).toBe('—');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(4200)).toBe('4.2 s');
    expect(formatDuration(65_000)).toBe('1 min 05 s');
    expect(formatDuration(3_723_000)).toBe('1 h 02 min');
  });

  it('markup`` escapes interpolations but not nested fragments', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const inner = markup`<b>${'<i>'}</b>`;
    expect(markup`<p>${inner}${['<', markup`<br>`]}${null}${false}${0}</p>`.value).toBe(
      '<p><b>&lt;i&gt;</b>&lt;<br>0</p>',
    );
  });
});
