// The private registry's way in: a private endpoint in its own subnet (never the ACI subnet) and the
// privatelink.azurecr.io zone linked to the VNet, so the function, the groups and anything else in the VNet resolve
// {registry}.azurecr.io and {registry}.{region}.data.azurecr.io to private addresses. Shape and zone name from
// Microsoft Learn, container-registry/container-registry-private-link (groupId "registry", zone
// privatelink.azurecr.io) and private-link/private-endpoint-dns.

@description('Name of the registry (in this resource group).')
param registryName string

@description('Location of the private endpoint.')
param location string = resourceGroup().location

@description('Tags applied to the endpoint and the zone.')
param tags object = {}

@description('Resource id of the virtual network the zone is linked to.')
param virtualNetworkId string

@description('Resource id of the subnet that holds the endpoint (its own subnet, not the ACI one).')
param subnetId string

@description('Name of the private endpoint.')
param endpointName string

@description('Principal id of the function identity, which reads the endpoint to check its subnet before a rollout.')
param functionPrincipalId string

// On this one endpoint only: the rollout's registry preflight reads the endpoint
// (Microsoft.Network/privateEndpoints/read) to check that it is not in the ACI subnet, where ACI could not pull
// through it. Without it the preflight still runs and notes the unreadable endpoint in the timeline.
var readerRoleId = 'acdd72a7-3385-48ef-bd42-f606fba81ae7' // Reader

// privatelink.azurecr.io in the public cloud; the suffix follows the cloud.
var zoneName = 'privatelink${environment().suffixes.acrLoginServer}'

resource registry 'Microsoft.ContainerRegistry/registries@2025-11-01' existing = {
  name: registryName
}

resource endpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: endpointName
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: registryName
        properties: {
          privateLinkServiceId: registry.id
          groupIds: [
            'registry'
          ]
        }
      }
    ]
  }
}

resource zone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: zoneName
  // Private DNS zones are global resources.
  location: 'global'
  tags: tags
}

resource zoneLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: zone
  name: 'vnet-link'
  location: 'global'
  tags: tags
  properties: {
    virtualNetwork: {
      id: virtualNetworkId
    }
    registrationEnabled: false
  }
}

// Writes the endpoint's A records (login server and regional data endpoint) into the zone and keeps them current.
resource zoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: 'registry'
        properties: {
          privateDnsZoneId: zone.id
        }
      }
    ]
  }
}

output endpointId string = endpoint.id
output zoneName string = zone.name

resource functionReadsEndpoint 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(endpoint.id, functionPrincipalId, readerRoleId)
  scope: endpoint
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', readerRoleId)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}
