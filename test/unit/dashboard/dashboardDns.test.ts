/** The dashboard's DNS parts (issue 17): an app's DNS name with its record and badge, and the watched DNS names. */
import { describe, expect, it } from 'vitest';
import { renderDashboard } from '../../../src/dashboard/renderDashboard.js';
import type { AppStatus, StatusDocument } from '../../../src/domain/statusDocument.js';

function app(overrides: Partial<AppStatus>): AppStatus {
  return {
    name: 'web',
    registry: 'contoso',
    registryLoginServer: 'contoso.azurecr.io',
    registryResourceId:
      '/subscriptions/s/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/contoso',
    repository: 'web',
    resourceGroup: 'rg-apps',
    activeColor: 'blue',
    activeGroup: 'web-blue',
    ip: '127.100.1.4',
    digest: null,
    tag: '1.0.0',
    provisioningState: 'Succeeded',
    secret: {
      name: 'web-ip',
      vaultUrl: 'https://kv-apps.vault.localhost:8443',
      inSync: true,
      ip: '127.100.1.4',
      problem: null,
    },
    rollout: null,
    queued: null,
    pendingDeletions: [],
    history: [],
    ignored: [],
    conditions: [],
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

function doc(apps: AppStatus[], watchedDns: StatusDocument['watchedDns'] = []): StatusDocument {
  return {
    generatedAt: '2026-11-21T10:01:00.000Z',
    apps,
    watched: [],
    watchedDns,
    lastReconcile: null,
    configErrors: [],
    refusedApps: [],
    errors: [],
  };
}

const dns = {
  name: 'web.apps.internal',
  zoneId:
    '/subscriptions/s/resourceGroups/rg-network/providers/Microsoft.Network/privateDnsZones/apps.internal',
  recordIp: '127.100.1.4',
  ttlSeconds: 10,
  inSync: true,
  problem: null,
};

describe('dashboard: DNS names', () => {
  it('shows the name callers use, the record and a badge with text; nothing for an app without a name', () => {
    const page = renderDashboard(doc([app({ dns }), app({ name: 'api', dns: null })]));
    expect(page).toContain(
      '<dt>DNS name</dt><dd data-testid="app-dns"><code>web.apps.internal</code> holds <code>127.100.1.4</code> (TTL 10 s)',
    );
    expect(page).toContain(
      'data-testid="dns-badge" title="web.apps.internal holds 127.100.1.4">DNS in sync</span>',
    );
    expect(page.split('data-testid="app-dns"')).toHaveLength(2);
  });

  it('says why a record is out of sync, escaped', () => {
    const page = renderDashboard(
      doc([app({ dns: { ...dns, inSync: false, recordIp: null, problem: 'zone listing failed: <503>' } })]),
    );
    expect(page).toContain('>DNS out of sync</span>');
    expect(page).toContain('zone listing failed: &lt;503&gt;');
  });

  it('lists watched groups tagged ip-dns, only when there are some', () => {
    expect(renderDashboard(doc([]))).not.toContain('data-testid="watched-dns"');
    const page = renderDashboard(
      doc(
        [],
        [
          {
            resourceGroup: 'rg-apps',
            name: 'worker-1',
            dnsName: 'worker-1.apps.internal',
            zoneId: dns.zoneId,
            ip: '127.100.1.9',
            recordIp: '127.100.1.8',
            inSync: false,
            source: 'tag',
            state: null,
            problem: null,
          },
        ],
      ),
    );
    expect(page).toContain('data-testid="watched-dns-row" data-group="rg-apps/worker-1"');
    expect(page).toContain('<code>worker-1.apps.internal</code>');
    expect(page).toContain('>out of sync</span>');
  });
});
