// Creating a container group in a subnet with a user-assigned identity triggers two linked access checks:
// subnets/join/action on the subnet and userAssignedIdentities/assign/action on the identity. One custom role holds
// just those two actions and is assigned on exactly those two resources.

@description('Principal id of the function app identity.')
param functionPrincipalId string

@description('Create the assignments of the custom role. False on the first provision: the definition is created then, and assigned by the next provision (see main.bicep, assignCustomRoles).')
param assignCustomRoles bool

@description('Name of the virtual network that holds the ACI subnet.')
param virtualNetworkName string

@description('Name of the ACI subnet.')
param aciSubnetName string

@description('Name of the identity ACI container groups use to pull images.')
param pullIdentityName string

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' existing = {
  name: virtualNetworkName
}

resource aciSubnet 'Microsoft.Network/virtualNetworks/subnets@2024-05-01' existing = {
  parent: vnet
  name: aciSubnetName
}

resource pullIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: pullIdentityName
}

resource joinRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'aci-bluegreen-subnet-identity-join')
  properties: {
    roleName: 'ACI blue/green subnet and identity join (${resourceGroup().name}, ${uniqueString(resourceGroup().id)})'
    description: 'Lets aci-bluegreen-functions place container groups in the ACI subnet and attach the image-pull identity.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: [
          'Microsoft.Network/virtualNetworks/subnets/join/action'
          'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action'
        ]
        notActions: []
      }
    ]
  }
}

resource subnetJoin 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (assignCustomRoles) {
  name: guid(aciSubnet.id, functionPrincipalId, joinRole.name)
  scope: aciSubnet
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', joinRole.name)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource pullIdentityAssign 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (assignCustomRoles) {
  name: guid(pullIdentity.id, functionPrincipalId, joinRole.name)
  scope: pullIdentity
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', joinRole.name)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}
