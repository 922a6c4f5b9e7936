/**
 * The emulator's own view of Private DNS (`/_emulator/privateDnsZones`, not Azure's): every zone with its links and
 * A records, the DNS server's address and how many queries it answered. For people and tests looking at the state
 * without ARM calls (which would land in the request log).
 */
import { controlRoute, type Route } from '../core/router.js';
import type { PrivateDnsStore } from './privateDnsStore.js';

export function privateDnsControlRoutes(
  store: PrivateDnsStore,
  server: () => { address: string; queries: number } | undefined,
): Route[] {
  return [
    controlRoute('GET', '/_emulator/privateDnsZones', 'Emulator_ListPrivateDnsZones', () => ({
      status: 200,
      body: {
        dnsServer: server()?.address ?? null,
        queries: server()?.queries ?? 0,
        value: store.zones().map((z) => ({
          resourceGroup: z.resourceGroup,
          name: z.name,
          links: Object.values(z.links).map((l) => ({ name: l.name, virtualNetworkId: l.virtualNetworkId })),
          aRecords: Object.values(z.aRecordSets)
            .sort((a, b) => a.name.localeCompare(b.name))
            .map((s) => ({ name: s.name, ips: s.ips, ttl: s.ttl, etag: s.etag })),
        })),
      },
    })),
  ];
}
