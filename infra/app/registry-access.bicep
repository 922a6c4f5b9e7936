// Deployed into the registry's resource group.
// - The function reads registry properties over ARM (login server, network rules, role assignment mode): a custom
//   role with registries/read only, because the built-in Reader grants more than it needs.
// - The pull identity (ACI image pulls) and the function (manifest reads over the data plane, to resolve an image
//   index to its platform manifest) need read access to repository content. Which built-in role grants it depends on
//   the registry's role assignment mode, read here from the registry itself, so a registry you bring is handled too:
//   see registry-data-access.bicep.

@description('Name of the container registry.')
param registryName string

@description('Principal id of the function app identity.')
param functionPrincipalId string

@description('Principal id of the identity ACI container groups use to pull images.')
param pullIdentityPrincipalId string

@description('Create the assignment of the custom registry reader role. False on the first provision: the definition is created then, and assigned by the next provision (see main.bicep, assignCustomRoles).')
param assignCustomRoles bool

// 2025-11-01 returns roleAssignmentMode (azure-rest-api-specs, containerregistry Registry/stable/2025-11-01).
resource registry 'Microsoft.ContainerRegistry/registries@2025-11-01' existing = {
  name: registryName
}

resource registryReaderRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'aci-bluegreen-registry-reader')
  properties: {
    roleName: 'ACI blue/green registry reader (${resourceGroup().name}, ${uniqueString(resourceGroup().id)})'
    description: 'Lets aci-bluegreen-functions read registry properties (login server, network rules, role assignment mode) over ARM.'
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

resource registryReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (assignCustomRoles) {
  name: guid(registry.id, functionPrincipalId, registryReaderRole.name)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', registryReaderRole.name)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// A nested deployment receives the mode as a parameter, so the role (and the assignment's name) can depend on what
// the registry reports at deployment time. A registry whose GET carries no roleAssignmentMode predates ABAC mode.
module dataAccess 'registry-data-access.bicep' = {
  name: 'registryDataAccess-${uniqueString(registry.id)}'
  params: {
    registryName: registry.name
    roleAssignmentMode: registry.properties.?roleAssignmentMode ?? 'LegacyRegistryPermissions'
    principalIds: [
      pullIdentityPrincipalId
      functionPrincipalId
    ]
  }
}

output loginServer string = registry.properties.loginServer
output dataReaderRoleId string = dataAccess.outputs.roleDefinitionId
