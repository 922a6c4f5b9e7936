// A new container registry in one of three network modes. ACI pulls with the user-assigned pull identity in every
// mode: a registry that denies public traffic still admits ACI as a trusted service when networkRuleBypassOptions is
// AzureServices (Microsoft Learn, container-registry/allow-access-trusted-services: ACI is on the trusted list;
// container-instances/using-azure-container-registry-mi: only a managed identity passes, never admin credentials).
// - public:   reachable from anywhere; every request still needs Entra ID (admin user and anonymous pull are off).
// - firewall: Premium; default action Deny, the given public address ranges (e.g. CI runners) allowed.
// - private:  Premium; public network access disabled; reachable through a private endpoint (registry-endpoint.bicep).
// Firewall rules and private endpoints need the Premium SKU (container-registry/container-registry-access-selected-networks,
// container-registry/container-registry-private-link).

@description('Name of the registry (5-50 alphanumeric characters).')
param name string

@description('Location of the registry.')
param location string = resourceGroup().location

@description('Tags applied to the registry.')
param tags object = {}

@description('SKU of the registry: Basic, Standard or Premium; firewall and private need Premium (main.bicep checks both).')
param sku string = 'Basic'

@description('Network mode: public, firewall (Premium, default Deny plus allowedIpRanges) or private (Premium, public access disabled).')
@allowed([
  'public'
  'firewall'
  'private'
])
param networkMode string = 'public'

@description('Public IPv4 addresses or CIDR ranges allowed through the firewall (networkMode firewall), e.g. your CI runners.')
param allowedIpRanges array = []

@description('Public address of the VNet\'s NAT gateway (the function app\'s egress), allowed through the firewall in networkMode firewall.')
param natPublicIpAddress string

@description('Role assignment permissions mode: LegacyRegistryPermissions (AcrPull/AcrPush) or AbacRepositoryPermissions (Container Registry Repository Reader/Writer, optionally per repository).')
@allowed([
  'LegacyRegistryPermissions'
  'AbacRepositoryPermissions'
])
param roleAssignmentMode string = 'LegacyRegistryPermissions'

// Network rule sets exist only on Premium; Basic and Standard refuse the property.
var networkRuleSet = networkMode == 'firewall'
  ? {
      defaultAction: 'Deny'
      ipRules: map(concat(allowedIpRanges, [natPublicIpAddress]), range => {
        action: 'Allow'
        value: range
      })
    }
  : networkMode == 'private'
      ? {
          defaultAction: 'Deny'
          ipRules: []
        }
      : null

// 2025-11-01: the first GA api-version with roleAssignmentMode (azure-rest-api-specs,
// specification/containerregistry/.../Registry/stable/2025-11-01).
resource registry 'Microsoft.ContainerRegistry/registries@2025-11-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: networkMode == 'private' ? 'Disabled' : 'Enabled'
    // Trusted services (ACI among them) pass the firewall and reach a registry without public access.
    networkRuleBypassOptions: 'AzureServices'
    networkRuleSet: networkRuleSet
    roleAssignmentMode: roleAssignmentMode
  }
}

output id string = registry.id
output name string = registry.name
output loginServer string = registry.properties.loginServer
