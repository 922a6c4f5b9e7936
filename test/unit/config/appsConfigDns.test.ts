/** APPS_CONFIG fields of issue 17: `apps[].dns` and `watch.dns` (src/config/dnsConfig.ts). */
import { describe, expect, it } from 'vitest';
import { parseAppsConfig } from '../../../src/config/appsConfig.js';
import { parsePrivateDnsZoneId } from '../../../src/config/dnsConfig.js';
import { webApp } from '../support/fakes.js';

const ZONE_ID =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-network/providers/Microsoft.Network/privateDnsZones/Apps.Internal';
const errorsOf = (apps: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) =>
  parseAppsConfig({ apps, ...extra }).errors.map((e) => e.text);

describe('dns config', () => {
  it('defaults: the app name, a 10 s TTL and a 30 s caller cache; the zone id parsed and normalised', () => {
    const [app] = parseAppsConfig({ apps: [webApp({ dns: { zoneId: ZONE_ID } })] }).apps;
    expect(app!.dns).toEqual({
      zone: {
        id: '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-network/providers/Microsoft.Network/privateDnsZones/apps.internal',
        subscriptionId: '00000000-0000-0000-0000-000000000001',
        resourceGroup: 'rg-network',
        name: 'apps.internal',
      },
      ttlSeconds: 10,
      callerCacheSeconds: 30,
    });
    expect(parseAppsConfig({ apps: [webApp()] }).apps[0]!.dns).toBeUndefined();
    const [named] = parseAppsConfig({
      apps: [webApp({ dns: { zoneId: ZONE_ID, name: 'WWW.eu', ttlSeconds: 5, callerCacheSeconds: 0 } })],
    }).apps;
    expect(named!.dns).toMatchObject({ name: 'www.eu', ttlSeconds: 5, callerCacheSeconds: 0 });
  });

  it('refuses bad fields naming them, while other apps load', () => {
    const bad = (dns: unknown) => errorsOf([webApp({ dns })]);
    expect(bad({ zoneId: '/subscriptions/x/privateDnsZones/apps.internal' })).toEqual([
      'apps[0] (web): dns.zoneId: must be a Private DNS zone resource id: /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Network/privateDnsZones/{zone} (at least two labels, e.g. apps.internal)',
    ]);
    expect(bad({ zoneId: ZONE_ID.replace('Apps.Internal', 'single') })).toHaveLength(1);
    expect(bad({ zoneId: ZONE_ID, name: 'web_1' })).toEqual([
      "apps[0] (web): dns.name: must be DNS labels (letters, digits, '-'; 1-63 each) separated by '.', relative to the zone",
    ]);
    expect(bad({ zoneId: ZONE_ID, ttlSeconds: 0 })).toEqual([
      'apps[0] (web): dns.ttlSeconds: expected number to be >=1',
    ]);
    expect(bad({ zoneId: ZONE_ID, ttl: 10 })).toEqual(['apps[0] (web): dns: unknown field "ttl"']);
    expect(bad({ name: 'web' })).toEqual(['apps[0] (web): dns.zoneId: required (a string)']);
  });

  it('refuses a second app with the same DNS name', () => {
    const api = webApp({
      name: 'api',
      repository: 'api',
      secret: { vaultUrl: 'https://kv-apps.vault.azure.net', name: 'api-ip' },
      dns: { zoneId: ZONE_ID, name: 'web' },
    });
    const c = parseAppsConfig({ apps: [webApp({ dns: { zoneId: ZONE_ID } }), api] });
    expect(c.apps.map((a) => a.name)).toEqual(['web']);
    expect(c.errors.map((e) => e.text)).toEqual([
      'apps[1] (api): dns: web.apps.internal is already the DNS name of apps[0] (web)',
    ]);
  });

  it('watch.dns: an optional default zone and TTL for tagged groups', () => {
    const c = parseAppsConfig({ apps: [], watch: { dns: { zoneId: ZONE_ID } } });
    expect(c.errors).toEqual([]);
    expect(c.watch.dns).toEqual({ zone: parsePrivateDnsZoneId(ZONE_ID), ttlSeconds: 10 });
    expect(parseAppsConfig({ apps: [], watch: { dns: { ttlSeconds: 30 } } }).watch.dns).toEqual({
      ttlSeconds: 30,
    });
    expect(errorsOf([], { watch: { dns: { zoneId: 'nope' } } })[0]).toMatch(/^watch: dns\.zoneId: must be/);
  });
});
