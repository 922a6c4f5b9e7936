/**
 * Azure Private DNS: the ARM resources `Microsoft.Network/privateDnsZones` (zones, virtual network links, A record
 * sets with ETags), as `@azure/arm-privatedns` calls them, and a real DNS server (UDP and TCP on 127.0.0.1) that
 * answers A queries for the linked zones from the same state. This file wires the parts: privateDnsStore (state),
 * zoneRoutes (zones and links), recordSetRoutes, preconditions (ETags), privateDnsPaging, privateDnsViews,
 * privateDnsInput, dnsAnswers + dnsServer, privateDnsControlRoutes, privateDnsErrors.
 */
import type { EmulatorContext, EmulatorService } from '../core/context.js';
import { startDnsServer, type DnsServerHandle } from './dnsServer.js';
import { privateDnsControlRoutes } from './privateDnsControlRoutes.js';
import { PrivateDnsStore } from './privateDnsStore.js';
import { RecordSetRoutes } from './recordSetRoutes.js';
import { PrivateZoneRoutes } from './zoneRoutes.js';

/** A resource group a zone implies has no location of its own (zones are global): the emulator's usual one. */
const IMPLIED_GROUP_LOCATION = 'westeurope';

export function privateDnsService(ctx: EmulatorContext): EmulatorService {
  const store = new PrivateDnsStore(ctx);
  const parts = { ctx, store };
  let server: DnsServerHandle | undefined;
  const address = () => (server ? `${server.host}:${server.port}` : undefined);
  return {
    name: 'privateDns',
    routes: [
      // Zones and links before record sets: `{zone}/virtualNetworkLinks` is not a record type.
      ...new PrivateZoneRoutes(parts).routes(),
      ...new RecordSetRoutes(parts).routes(),
      ...privateDnsControlRoutes(store, () =>
        server ? { address: address()!, queries: server.queries() } : undefined,
      ),
    ],
    start: async () => {
      store.ensureSeeded();
      server = await startDnsServer(store, { port: ctx.options.dnsPort, log: (m) => ctx.log(m) });
      ctx.log(`DNS server on ${address()} (UDP and TCP) for the emulated Private DNS zones`);
    },
    stop: async () => {
      await server?.close();
      server = undefined;
    },
    reset: () => store.ensureSeeded(),
    resourceGroups: () =>
      store.zones().map((z) => ({ name: z.resourceGroup, location: IMPLIED_GROUP_LOCATION })),
    describe: () => ({
      ...(server ? { dnsServer: address() } : {}),
      privateDnsZones: store.zones().map((z) => z.name),
    }),
  };
}
