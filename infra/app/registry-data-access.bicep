// Read access to the registry's repository content for the given principals, with the role that the registry's
// role assignment mode honours: AcrPull in the default mode; "Container Registry Repository Reader" when the mode is
// AbacRepositoryPermissions, where AcrPull is not honoured (Microsoft Learn,
// container-registry/container-registry-rbac-abac-repository-permissions and
// container-registry/allow-access-trusted-services, "Trusted services workflow"). Role ids: Azure built-in roles,
// role-based-access-control/built-in-roles/containers.

@description('Name of the container registry.')
param registryName string

@description('The registry\'s roleAssignmentMode as ARM reports it (LegacyRegistryPermissions or AbacRepositoryPermissions).')
param roleAssignmentMode string

@description('Principal ids (service principals of managed identities) that read repository content.')
param principalIds array

var builtInRoles = {
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d' // AcrPull
  repositoryReader: 'b93aa761-3e63-49ed-ac28-beffa264f7ac' // Container Registry Repository Reader
}

var roleId = roleAssignmentMode == 'AbacRepositoryPermissions' ? builtInRoles.repositoryReader : builtInRoles.acrPull

resource registry 'Microsoft.ContainerRegistry/registries@2025-11-01' existing = {
  name: registryName
}

resource dataReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in principalIds: {
    name: guid(registry.id, principalId, roleId)
    scope: registry
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

output roleDefinitionId string = roleId
