/**
 * What ACI refuses for a group in a VNet is refused at load, naming the field and the reason: one test per rule of
 * src/config/vnetRules.ts, each citing the Microsoft document the rule comes from. The last test checks that every
 * rule has its test here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAppsConfig } from '../../../src/config/appsConfig.js';
import { SOURCES, VNET_RULES } from '../../../src/config/vnetRules.js';
import { IDENTITY_ID, VAULT, webApp } from '../support/fakes.js';

const tested = new Set<string>();

const container = (o: Record<string, unknown> = {}) => ({
  name: 'web',
  cpu: 0.5,
  memoryInGB: 1,
  ports: [8080],
  ...o,
});

function errorsFor(template: Record<string, unknown>, app: Record<string, unknown> = {}): string[] {
  const c = parseAppsConfig({
    apps: [webApp({ template: { containers: [container()], ...template }, ...app })],
  });
  return c.errors.map((e) => e.text);
}

/** The app is refused with exactly this field and the rule's reason and source; the rule is counted as tested. */
function expectRefused(ruleId: string, errors: string[], field: string, source: string): void {
  const rule = VNET_RULES.find((r) => r.id === ruleId)!;
  expect(rule, ruleId).toBeDefined();
  expect(rule.source).toBe(source);
  expect(errors).toContain(`apps[0] (web): ${field}: ${rule.reason} (${source})`);
  tested.add(ruleId);
}

describe('config: what ACI refuses for a group in a VNet is refused at load, with the reason', () => {
  it('a public IP address (virtual-network-concepts, "Unsupported networking scenarios": Public IP or DNS label)', () => {
    expectRefused(
      'public-ip',
      errorsFor({ ipAddress: { type: 'Public' } }),
      'template.ipAddress.type',
      SOURCES.vnet,
    );
    expect(errorsFor({ ipAddress: { type: 'Private' } })).toEqual([]);
  });

  it('a DNS name label (virtual-network-concepts: no fully qualified domain name for VNet groups)', () => {
    expectRefused(
      'dns-name-label',
      errorsFor({ ipAddress: { dnsNameLabel: 'web-contoso' } }),
      'template.ipAddress.dnsNameLabel',
      SOURCES.vnet,
    );
  });

  it('Spot priority (spot-containers-overview, "Unsupported features": Deployment Behind Virtual Network)', () => {
    expectRefused('spot-priority', errorsFor({ priority: 'Spot' }), 'template.priority', SOURCES.spot);
    expect(errorsFor({ priority: 'Regular' })).toEqual([]);
  });

  it('a GPU (container-instances-gpu: "GPU resources can\'t be used when deploying a container group into a virtual network")', () => {
    const errors = errorsFor({ containers: [container({ gpu: { count: 1, sku: 'V100' } })] });
    expectRefused('gpu', errors, 'template.containers[0].gpu', SOURCES.gpu);
  });

  it('an IPv6 name server (virtual-network-concepts: "IPv6 addresses aren\'t supported at this time")', () => {
    const errors = errorsFor({ dnsConfig: { nameServers: ['10.0.0.10', 'fd00::53'] } });
    expectRefused('ipv6-name-server', errors, 'template.dnsConfig.nameServers[1]', SOURCES.vnet);
    expect(errors.join('\n')).not.toContain('nameServers[0]');
  });

  it('a managed identity in an Azure Government region (virtual-network-concepts, "Unsupported networking scenarios")', () => {
    const errors = errorsFor({ imagePullIdentity: IDENTITY_ID }, { location: 'usgovvirginia' });
    expectRefused('government-managed-identity', errors, 'template.imagePullIdentity', SOURCES.vnet);
    expect(errorsFor({ imagePullIdentity: IDENTITY_ID }, { location: 'westeurope' })).toEqual([]);
  });

  it('volumes on Windows (container-instances-overview: volume mounting is restricted to Linux containers)', () => {
    const errors = errorsFor({ osType: 'Windows', volumes: [{ name: 'cache', emptyDir: {} }] });
    expectRefused('windows-volumes', errors, 'template.volumes', SOURCES.linuxOnly);
  });

  it('several containers on Windows (container-instances-overview: multiple containers per group are Linux only)', () => {
    const errors = errorsFor({
      osType: 'Windows',
      containers: [container(), container({ name: 'side', image: 'mcr.microsoft.com/side:1', ports: [] })],
    });
    expectRefused('windows-multiple-containers', errors, 'template.containers', SOURCES.linuxOnly);
  });

  it('a Confidential sku on Windows (confidential-overview: confidential containers run Linux containers)', () => {
    const errors = errorsFor({ osType: 'Windows', sku: 'Confidential' });
    expectRefused('confidential-windows', errors, 'template.sku', SOURCES.confidential);
    expect(errorsFor({ sku: 'Confidential' })).toEqual([]);
  });

  it('a CCE policy without the Confidential sku (REST spec: confidentialComputeProperties of a confidential group)', () => {
    const errors = errorsFor({ ccePolicy: 'eyJhbGxvd19hbGwiOnRydWV9' });
    expectRefused('cce-policy-without-confidential', errors, 'template.ccePolicy', SOURCES.restSpec);
    expect(errorsFor({ ccePolicy: 'eyJhbGxvd19hbGwiOnRydWV9', sku: 'Confidential' })).toEqual([]);
  });

  it('more than one availability zone (reliability-container-instances: a zonal group is pinned to one zone)', () => {
    expectRefused('one-zone', errorsFor({ zones: ['1', '2'] }), 'template.zones', SOURCES.zones);
    expect(errorsFor({ zones: ['2'] })).toEqual([]);
  });

  it('more than 5 ports on the IP (resource-and-quota-limits, hard limits: "Ports per IP: 5")', () => {
    const errors = errorsFor({ containers: [container({ ports: [8080, 8081, 8082, 8083, 8084, 8085] })] });
    expectRefused('ports-per-ip', errors, 'template.containers', SOURCES.limits);
  });

  it('more than 60 containers (resource-and-quota-limits, hard limits: "Number of containers per container group: 60")', () => {
    const init = Array.from({ length: 60 }, (_, i) => ({ name: `init-${i}`, image: 'busybox:1' }));
    expectRefused(
      'containers-per-group',
      errorsFor({ initContainers: init }),
      'template.containers',
      SOURCES.limits,
    );
  });

  it('more than 20 volumes (resource-and-quota-limits, hard limits: "Number of volumes per container group: 20")', () => {
    const volumes = Array.from({ length: 21 }, (_, i) => ({ name: `cache-${i}`, emptyDir: {} }));
    expectRefused('volumes-per-group', errorsFor({ volumes }), 'template.volumes', SOURCES.limits);
  });

  it('has a test for every rule, and docs/configuration.md lists every rule', () => {
    expect([...tested].sort()).toEqual(VNET_RULES.map((r) => r.id).sort());
    const docs = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    for (const r of VNET_RULES) expect(docs, r.id).toContain(`| \`${r.id}\``);
  });
});

describe('config: a template that passes every rule', () => {
  it('loads a Linux VNet group with volumes, probes, init containers, DNS, diagnostics, zone and Confidential sku', () => {
    const errors = errorsFor({
      sku: 'Confidential',
      zones: ['1'],
      dnsConfig: { nameServers: ['10.0.0.10'], searchDomains: ['contoso.internal'], options: ['ndots:2'] },
      diagnostics: {
        logAnalytics: {
          workspaceId: '11111111-2222-3333-4444-555555555555',
          workspaceKeyFromKeyVault: { vaultUrl: VAULT, secretName: 'la-key' },
        },
      },
      volumes: [{ name: 'cache', emptyDir: {} }],
      initContainers: [{ name: 'migrate', command: ['/app/migrate'] }],
    });
    expect(errors).toEqual([]);
  });
});
