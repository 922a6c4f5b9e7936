// Deployed into the registry's resource group. The function only reads registry properties (loginServer,
// publicNetworkAccess, networkRuleSet): a custom role with registries/read, because the built-in Reader also
// allows pulling images. The pull identity gets AcrPull and nothing else.

@description('Name of the container registry.')
param registryName string

@description('Principal id of the function app identity.')
param functionPrincipalId string

@description('Principal id of the identity ACI container groups use to pull images.')
param pullIdentityPrincipalId string

var builtInRoles = {
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d' // AcrPull
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
}

resource registryReaderRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'aci-bluegreen-registry-reader')
  properties: {
    roleName: 'ACI blue/green registry reader (${resourceGroup().name}, ${uniqueString(resourceGroup().id)})'
    description: 'Lets aci-bluegreen-functions read registry properties (login server, network rules) without pull rights.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: [
          'Microsoft.ContainerRegistry/registries/read'
        ]
        notActions: []
      }
    ]
  }
}

resource registryReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, functionPrincipalId, registryReaderRole.name)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', registryReaderRole.name)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource acrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, pullIdentityPrincipalId, builtInRoles.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles.acrPull)
    principalId: pullIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output loginServer string = registry.properties.loginServer
