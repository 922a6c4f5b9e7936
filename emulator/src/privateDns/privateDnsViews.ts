/**
 * ARM's answers for Private DNS: zones, virtual network links and A record sets, shaped as the REST spec's examples
 * (specification/privatedns/resource-manager/Microsoft.Network/stable/2020-06-01/examples: PrivateZoneGet.json,
 * VirtualNetworkLinkGet.json, RecordSetAGet.json). The zone limits are the ones Azure reports for a new zone
 * (25,000 record sets, 1,000 links, 100 with registration: a zone as the Azure CLI shows it in Azure/azure-cli#15010);
 * the record count includes the apex SOA record set every zone has.
 */
import type { ARecordSetRecord, LinkRecord, ZoneRecord } from './privateDnsStore.js';

export function zoneId(subscriptionId: string, zone: ZoneRecord): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${zone.resourceGroup}/providers/Microsoft.Network/privateDnsZones/${zone.name}`;
}

export function zoneView(subscriptionId: string, zone: ZoneRecord): Record<string, unknown> {
  const links = Object.values(zone.links);
  return {
    id: zoneId(subscriptionId, zone),
    name: zone.name,
    type: 'Microsoft.Network/privateDnsZones',
    etag: zone.etag,
    location: 'global',
    tags: zone.tags,
    properties: {
      maxNumberOfRecordSets: 25_000,
      numberOfRecordSets: Object.keys(zone.aRecordSets).length + 1,
      maxNumberOfVirtualNetworkLinks: 1_000,
      numberOfVirtualNetworkLinks: links.length,
      maxNumberOfVirtualNetworkLinksWithRegistration: 100,
      numberOfVirtualNetworkLinksWithRegistration: links.filter((l) => l.registrationEnabled).length,
      provisioningState: 'Succeeded',
    },
  };
}

export function linkView(
  subscriptionId: string,
  zone: ZoneRecord,
  link: LinkRecord,
): Record<string, unknown> {
  return {
    id: `${zoneId(subscriptionId, zone)}/virtualNetworkLinks/${link.name}`,
    name: link.name,
    type: 'Microsoft.Network/privateDnsZones/virtualNetworkLinks',
    etag: link.etag,
    location: 'global',
    tags: link.tags,
    properties: {
      virtualNetwork: { id: link.virtualNetworkId },
      registrationEnabled: link.registrationEnabled,
      virtualNetworkLinkState: 'Completed',
      provisioningState: 'Succeeded',
    },
  };
}

export function fqdnOf(zone: ZoneRecord, name: string): string {
  return name === '@' ? `${zone.name}.` : `${name}.${zone.name}.`;
}

export function aRecordSetView(
  subscriptionId: string,
  zone: ZoneRecord,
  set: ARecordSetRecord,
): Record<string, unknown> {
  return {
    id: `${zoneId(subscriptionId, zone)}/A/${set.name}`,
    name: set.name,
    type: 'Microsoft.Network/privateDnsZones/A',
    etag: set.etag,
    properties: {
      metadata: set.metadata,
      ttl: set.ttl,
      fqdn: fqdnOf(zone, set.name),
      isAutoRegistered: false,
      aRecords: set.ips.map((ipv4Address) => ({ ipv4Address })),
    },
  };
}
