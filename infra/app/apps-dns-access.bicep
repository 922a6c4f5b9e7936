// Deployed into the resource group of the apps' Private DNS zone (the one created here, or one you bring): the
// zone's link to the VNet, so the function, the container groups and every caller in the VNet resolve the names;
// and "Private DNS Zone Contributor" for the function identity on this zone only (it writes the apps' A records,
// nothing else of the network). Role id from Microsoft Learn, role-based-access-control/built-in-roles/networking.

@description('Name of the zone (in this resource group).')
param zoneName string

@description('Create the zone\'s link to the virtual network (false when the zone is already linked to it).')
param linkVirtualNetwork bool

@description('Resource id of the virtual network to link.')
param virtualNetworkId string

@description('Name of the virtual network link.')
param linkName string

@description('Tags applied to the link.')
param tags object = {}

@description('Principal id of the function app identity.')
param functionPrincipalId string

var privateDnsZoneContributorRoleId = 'b12aa53e-6015-4669-85d0-8515ebb3ae7f' // Private DNS Zone Contributor

resource zone 'Microsoft.Network/privateDnsZones@2024-06-01' existing = {
  name: zoneName
}

// Registration off: the function writes the records; VMs in the VNet must not register names of their own there.
resource link 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = if (linkVirtualNetwork) {
  parent: zone
  name: linkName
  location: 'global'
  tags: tags
  properties: {
    virtualNetwork: {
      id: virtualNetworkId
    }
    registrationEnabled: false
  }
}

// Record sets: list, read, create and replace (with ETags) in this zone only.
resource functionWritesRecords 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(zone.id, functionPrincipalId, privateDnsZoneContributorRoleId)
  scope: zone
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', privateDnsZoneContributorRoleId)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}
