// Deployed into each resource group whose container groups are only watched (IP mirrored into Key Vault, never
// replaced): read-only.

@description('Principal id of the function app identity.')
param functionPrincipalId string

@description('Create the assignments of the custom role. False on the first provision: the definition is created then, and assigned by the next provision (see main.bicep, assignCustomRoles).')
param assignCustomRoles bool

resource readerRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'aci-bluegreen-watcher')
  properties: {
    roleName: 'ACI blue/green watcher (${resourceGroup().name}, ${uniqueString(resourceGroup().id)})'
    description: 'Lets aci-bluegreen-functions read container groups (and their private IPs) in this resource group.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: [
          'Microsoft.Resources/subscriptions/resourceGroups/read'
          'Microsoft.ContainerInstance/containerGroups/read'
        ]
        notActions: []
      }
    ]
  }
}

resource watcher 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (assignCustomRoles) {
  name: guid(resourceGroup().id, functionPrincipalId, readerRole.name)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', readerRole.name)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}
