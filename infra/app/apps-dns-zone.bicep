// The Private DNS zone that gives every app a stable name in the VNet ({name}.{zone}, an A record the function keeps
// on the active group's IP). Private DNS zones are global resources; a zone resolves only in the virtual networks
// linked to it (apps-dns-access.bicep links it). Shape from the REST spec (specification/privatedns, 2024-06-01)
// and Microsoft Learn, dns/private-dns-privatednszone.

@description('Name of the zone, at least two labels (e.g. apps.internal).')
param name string

@description('Tags applied to the zone.')
param tags object = {}

resource zone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: name
  location: 'global'
  tags: tags
}

output id string = zone.id
output name string = zone.name
