import { describe, expect, it } from 'vitest';
import { renderAccepted, renderStatus, textTable } from '../../../src/cli/statusTables.js';

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

const web = {
  name: 'web',
  activeGroup: 'web-blue',
  digest: DIGEST_A,
  tag: '1.2.0',
  ip: '10.0.0.4',
  rollout: { id: 'r-1', state: 'verifying', step: 'verifying', tag: '1.2.0', digest: DIGEST_A, error: null },
  rollbackTarget: { group: 'web-green', digest: DIGEST_B, tag: '1.1.0', until: '2026-12-01T10:05:00.000Z' },
  secret: { name: 'web-ip', inSync: true, ip: '10.0.0.4', problem: null },
  history: [
    {
      finishedAt: '2026-12-01T10:00:00.000Z',
      tag: '1.1.0',
      digest: DIGEST_B,
      outcome: 'succeeded',
      reason: null,
    },
  ],
};
const api = {
  name: 'api',
  activeGroup: null,
  digest: null,
  tag: null,
  rollout: { id: 'r-2', state: 'awaitingPromotion', step: 'awaitingPromotion', waiting: 'promote or abort' },
  paused: { at: '2026-12-01T09:00:00.000Z', actor: 'function key', reason: 'freeze' },
  previewIp: '10.0.1.7',
};

describe('status tables', () => {
  it('renders one row per app with active group, digest, tag, rollout, pause, preview IP and rollback window', () => {
    const out = renderStatus({ apps: [web, api], watched: [] });
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^APP +ACTIVE +DIGEST +TAG +ROLLOUT +PAUSED +PREVIEW IP +ROLLBACK UNTIL$/);
    expect(lines[1]!.split(/\s{2,}/)).toEqual([
      'web',
      'web-blue',
      'sha256:aaaaaaaaaaaa',
      '1.2.0',
      'verifying',
      'no',
      '-',
      '2026-12-01 10:05:00 UTC',
    ]);
    expect(lines[2]!.split(/\s{2,}/)).toEqual([
      'api',
      '-',
      '-',
      '-',
      'awaitingPromotion',
      'yes',
      '10.0.1.7',
      '-',
    ]);
    // Columns line up: every row's second column starts where the header's does.
    const column = lines[0]!.indexOf('ACTIVE');
    expect(lines[1]!.indexOf('web-blue')).toBe(column);
    expect(lines.every((l) => l === l.trimEnd())).toBe(true);
  });

  it('shows a rollout in progress with its step, and an old server without the new fields', () => {
    const old = {
      name: 'web',
      activeGroup: 'web-blue',
      digest: DIGEST_A,
      tag: '1.0.0',
      rollout: { state: 'inProgress', step: 'healthGate' },
    };
    const row = renderStatus({ apps: [old] }).split('\n')[1]!;
    expect(row.split(/\s{2,}/)).toEqual([
      'web',
      'web-blue',
      'sha256:aaaaaaaaaaaa',
      '1.0.0',
      'inProgress (healthGate)',
      'no',
      '-',
      '-',
    ]);
  });

  it('adds the watched groups and the apps refused by config validation', () => {
    const out = renderStatus({
      apps: [web],
      watched: [
        {
          resourceGroup: 'rg-legacy',
          name: 'legacy-worker',
          ip: '10.0.2.4',
          secret: 'legacy-worker-ip',
          inSync: true,
        },
      ],
      refusedApps: [{ name: 'broken', errors: ['apps[1].secret.name is required'] }],
    });
    expect(out).toContain(
      'broken is not deployed, its configuration has errors: apps[1].secret.name is required',
    );
    expect(out).toMatch(
      /WATCHED GROUP +IP +SECRET +IN SYNC\nrg-legacy\/legacy-worker +10\.0\.2\.4 +legacy-worker-ip +yes/,
    );
  });

  it('details one app: secret, rollout, pause, preview, rollback window, history', () => {
    const out = renderStatus({
      ...api,
      secret: { name: 'api-ip', inSync: false, ip: null, problem: 'secret missing' },
    });
    expect(out).toContain('Secret     api-ip OUT OF SYNC (-): secret missing');
    expect(out).toContain('Rollout    r-2  awaitingPromotion  - -  waiting: promote or abort');
    expect(out).toContain('Paused     yes (at=2026-12-01T09:00:00.000Z, actor=function key, reason=freeze)');
    expect(out).toContain('Preview    10.0.1.7');
    const webOut = renderStatus(web);
    expect(webOut).toContain(
      'Rollback   to web-green (1.1.0 sha256:bbbbbbbbbbbb) until 2026-12-01 10:05:00 UTC',
    );
    expect(webOut).toMatch(
      /History \(latest 1\)\nFINISHED +TAG +DIGEST +OUTCOME +REASON\n2026-12-01 10:00:00 UTC +1\.1\.0 +sha256:bbbbbbbbbbbb +succeeded +-/,
    );
  });

  it('explains an app refused by config validation', () => {
    const out = renderStatus({
      name: 'broken',
      refused: true,
      message: 'app "broken" is not deployed',
      errors: ['bad'],
    });
    expect(out).toBe('broken: app "broken" is not deployed\n  - bad');
  });

  it('confirms an accepted action and says how to follow it', () => {
    expect(renderAccepted({ app: 'web', action: 'rollback', rolloutId: 'r-9' })).toBe(
      'rollback accepted for web (rollout r-9). Follow it: acibg status web',
    );
    expect(renderAccepted({ app: 'web', action: 'pause' })).toBe(
      'pause accepted for web. Follow it: acibg status web',
    );
  });

  it('pads columns to the widest cell', () => {
    expect(textTable(['A', 'B'], [['long value', 'x']])).toBe('A           B\nlong value  x');
  });
});
