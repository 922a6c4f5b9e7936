// A new container registry. Public network access stays enabled: ACI cannot pull from a registry behind a
// private endpoint or firewall, and the app reports that case instead of failing with an opaque pull error.

@description('Name of the registry (5-50 alphanumeric characters).')
param name string

@description('Location of the registry.')
param location string = resourceGroup().location

@description('Tags applied to the registry.')
param tags object = {}

@description('SKU of the registry.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param sku string = 'Basic'

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

output id string = registry.id
output loginServer string = registry.properties.loginServer
