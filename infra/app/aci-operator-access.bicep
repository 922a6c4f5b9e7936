// Deployed into each resource group where the app creates container groups. A custom role with exactly the
// container-group actions blue/green needs; no built-in role is that narrow (Contributor could touch anything in
// the group; the ACI built-ins cover more, e.g. exec).

@description('Principal id of the function app identity.')
param functionPrincipalId string

@description('Create the assignments of the custom role. False on the first provision: the definition is created then, and assigned by the next provision (see main.bicep, assignCustomRoles).')
param assignCustomRoles bool

resource operatorRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'aci-bluegreen-operator')
  properties: {
    roleName: 'ACI blue/green operator (${resourceGroup().name}, ${uniqueString(resourceGroup().id)})'
    description: 'Lets aci-bluegreen-functions create, replace, restart, start, stop and delete container groups in this resource group.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: [
          'Microsoft.Resources/subscriptions/resourceGroups/read'
          'Microsoft.ContainerInstance/containerGroups/read'
          'Microsoft.ContainerInstance/containerGroups/write'
          'Microsoft.ContainerInstance/containerGroups/delete'
          'Microsoft.ContainerInstance/containerGroups/restart/action'
          'Microsoft.ContainerInstance/containerGroups/start/action'
          'Microsoft.ContainerInstance/containerGroups/stop/action'
        ]
        notActions: []
      }
    ]
  }
}

resource operator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (assignCustomRoles) {
  name: guid(resourceGroup().id, functionPrincipalId, operatorRole.name)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', operatorRole.name)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}
