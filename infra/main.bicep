// Deploys aci-bluegreen-functions with `azd up`: a Flex Consumption Function App that blue/green-redeploys
// VNet-injected ACI container groups on ACR pushes and mirrors their private IPs into Key Vault.
// The least-privilege table lives in docs/deploy-to-azure.md and is asserted on the
// resolved deployment (bicep snapshot) by test/unit/infra/infraTemplate.test.ts; npm run check:infra compiles and lints it.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; also seeds the unique token used in resource names.')
param environmentName string

@minLength(1)
@description('Primary location for all resources. It must offer the Flex Consumption plan.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Resource group for the function app and its dependencies. Empty: rg-{environmentName}.')
param resourceGroupName string = ''

@description('Resource group that holds the managed ACI container groups; must differ from the main one (the function may delete any container group in it). Empty: rg-{environmentName}-aci.')
param aciResourceGroupName string = ''

@description('Resource id of an existing Azure Container Registry to watch. Empty: create a new registry in the main resource group.')
param existingRegistryResourceId string = ''

@description('SKU of the registry created when existingRegistryResourceId is empty. Empty: Basic in network mode public, Premium otherwise (firewall rules and private endpoints need Premium).')
@allowed([
  ''
  'Basic'
  'Standard'
  'Premium'
])
param registrySku string = ''

@description('Network mode of the registry created here: public (reachable from anywhere, Entra ID required), firewall (Premium; default action Deny, registryAllowedIpRanges allowed) or private (Premium; public access disabled, a private endpoint in its own subnet). The pull identity works in every mode (trusted services). A registry you bring keeps its own settings: leave this public.')
@allowed([
  'public'
  'firewall'
  'private'
])
param registryNetworkMode string = 'public'

@description('Comma-separated public IPv4 addresses or CIDR ranges allowed to reach the registry in network mode firewall (e.g. your CI runners\' egress addresses, your workstation): "203.0.113.0/24,198.51.100.7".')
param registryAllowedIpRanges string = ''

@description('Role assignment permissions mode of the registry created here. AbacRepositoryPermissions honours Container Registry Repository Reader/Writer (optionally per repository) instead of AcrPull/AcrPush. For a registry you bring, the mode is read from the registry.')
@allowed([
  'LegacyRegistryPermissions'
  'AbacRepositoryPermissions'
])
param registryRoleAssignmentMode string = 'LegacyRegistryPermissions'

@description('Name of an Event Grid system topic that already exists on the registry (Azure allows one per source). Empty: create one.')
param existingRegistrySystemTopicName string = ''

@description('Assign the custom roles (operator, join, watcher, registry reader). A custom role definition is not visible everywhere for a while after it is created, and assigning it in the same deployment can fail with RoleDefinitionDoesNotExist (Azure/azure-cli#20727), so the first provision only creates the definitions; the azd postdeploy hook sets ASSIGN_CUSTOM_ROLES=true and provisions again, minutes later.')
param assignCustomRoles bool = false

@description('Create the Event Grid subscription to onImagePushed. An AzureFunction endpoint must exist when it is created, so leave this false until the code is deployed; the azd postdeploy hook sets DEPLOY_EVENT_SUBSCRIPTION=true and provisions again.')
param deployEventSubscription bool = false

@description('Node.js major version of the Flex Consumption runtime.')
@allowed([
  '20'
  '22'
])
param nodeVersion string = '22'

@description('Maximum number of Flex Consumption instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Instance memory of the Flex Consumption plan, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('NCRONTAB schedule (6 fields, UTC) of the reconcile timer; the timer binds %RECONCILE_SCHEDULE%.')
param reconcileSchedule string = '0 * * * * *'

@description('Name of the table that stores rollout state in the function storage account.')
param rolloutTableName string = 'rollouts'

@description('Seconds an Event Grid-triggered run may advance a rollout before leaving the rest to the timer (Event Grid waits 30 s).')
@minValue(1)
@maxValue(25)
param rolloutEventBudgetSeconds int = 20

@description('Seconds one reconcile run may take (below the 10-minute functionTimeout in host.json).')
@minValue(10)
@maxValue(540)
param reconcileBudgetSeconds int = 240

@description('Seconds a reconcile run may spend advancing rollouts, after every IP is synced; 0 = the default (20 s, at most half the schedule interval).')
@minValue(0)
@maxValue(540)
param reconcileRolloutSliceSeconds int = 0

@description('Seconds the status endpoint caches its answer.')
@minValue(0)
@maxValue(300)
param statusCacheSeconds int = 5

@description('Longest an operator action (POST /api/apps/{app}/{action}) advances the rollout it touched before answering; it answers at the first wait.')
@minValue(1)
@maxValue(120)
param operatorActionBudgetSeconds int = 10

@description('Operator actions also need a caller signed in through App Service authentication (Entra ID), not only their function key. Turn on after enabling App Service authentication (docs/deploy-to-azure.md).')
param operatorActionsRequireSignIn bool = false

@description('Resource id of an existing Event Grid custom topic for rollout notifications (CloudEvents). Empty: no notifications.')
param notifyTopicResourceId string = ''

@description('Address space of the virtual network.')
param vnetAddressPrefix string = '10.60.0.0/16'

@description('Prefix of the function integration subnet (delegated to Microsoft.App/environments).')
param functionSubnetPrefix string = '10.60.0.0/24'

@description('Prefix of the ACI subnet (delegated to Microsoft.ContainerInstance/containerGroups).')
param aciSubnetPrefix string = '10.60.1.0/24'

@description('Prefix of the subnet that holds the registry\'s private endpoint (registryNetworkMode private only; never the ACI subnet).')
param registryEndpointSubnetPrefix string = '10.60.2.0/27'

@description('Enable purge protection on the Key Vault (cannot be turned off again; recommended for production).')
param keyVaultPurgeProtection bool = false

@description('Name of the Private DNS zone created for the apps\' stable names ({app}.{zone}), linked to the VNet. Ignored when existingAppsDnsZoneResourceId is set.')
param appsDnsZoneName string = 'apps.internal'

@description('Resource id of an existing Private DNS zone for the apps\' names. Empty: create appsDnsZoneName in the main resource group.')
param existingAppsDnsZoneResourceId string = ''

@description('Link the existing zone (existingAppsDnsZoneResourceId) to this VNet. False when it is linked to it already (a VNet can be linked to a zone once).')
param linkExistingAppsDnsZone bool = true

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

var mainResourceGroupName = !empty(resourceGroupName)
  ? resourceGroupName
  : '${abbrs.resourcesResourceGroups}${environmentName}'
var containerGroupsResourceGroupName = !empty(aciResourceGroupName)
  ? aciResourceGroupName
  : '${abbrs.resourcesResourceGroups}${environmentName}-aci'
var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'
var keyVaultName = '${abbrs.keyVaultVaults}${resourceToken}'
// Built from the cloud's DNS suffix rather than vaultUri, so the URL has no trailing slash (as in APPS_CONFIG).
var keyVaultUrl = 'https://${keyVaultName}${environment().suffixes.keyvaultDns}'
var armEndpointWithSlash = environment().resourceManager
var armEndpoint = endsWith(armEndpointWithSlash, '/')
  ? take(armEndpointWithSlash, length(armEndpointWithSlash) - 1)
  : armEndpointWithSlash

// The registry: either the one created here or an existing one. A placeholder id keeps split() total.
var newRegistryName = '${abbrs.containerRegistryRegistries}${resourceToken}'
var registryIdParts = split(
  empty(existingRegistryResourceId)
    ? '/subscriptions/${subscription().subscriptionId}/resourceGroups/${mainResourceGroupName}/providers/Microsoft.ContainerRegistry/registries/${newRegistryName}'
    : existingRegistryResourceId,
  '/'
)
var registrySubscriptionId = registryIdParts[2]
var registryResourceGroupName = registryIdParts[4]
var registryName = registryIdParts[8]
var registryResourceId = '/subscriptions/${registrySubscriptionId}/resourceGroups/${registryResourceGroupName}/providers/Microsoft.ContainerRegistry/registries/${registryName}'

// Bad combinations fail the deployment before anything is created, naming the parameter and the fix.
var allowedIpRanges = filter(map(split(registryAllowedIpRanges, ','), range => trim(range)), range => !empty(range))
var newRegistrySku = registryNetworkMode == 'public'
  ? (empty(registrySku) ? 'Basic' : registrySku)
  : (empty(registrySku) || registrySku == 'Premium'
      ? 'Premium'
      : fail('registryNetworkMode=${registryNetworkMode} needs the Premium SKU (firewall rules and private endpoints are Premium features): set registrySku to Premium or leave it empty.'))
var checkedRegistryNetworkMode = !empty(existingRegistryResourceId) && registryNetworkMode != 'public'
  ? fail('registryNetworkMode applies to the registry this template creates; a registry you bring (existingRegistryResourceId) keeps its own network settings: leave registryNetworkMode public and see docs/deploy-to-azure.md, "Registry network modes".')
  : registryNetworkMode == 'firewall' && empty(allowedIpRanges)
      ? fail('registryNetworkMode=firewall with no registryAllowedIpRanges would let nothing but trusted Azure services push: add your CI runners\' addresses (REGISTRY_ALLOWED_IP_RANGES) or use private.')
      : registryNetworkMode
var registryIsPrivate = checkedRegistryNetworkMode == 'private'

// The apps' Private DNS zone: created here or brought. A placeholder id keeps split() total, as for the registry.
var appsDnsZoneIdParts = split(
  empty(existingAppsDnsZoneResourceId)
    ? '/subscriptions/${subscription().subscriptionId}/resourceGroups/${mainResourceGroupName}/providers/Microsoft.Network/privateDnsZones/${appsDnsZoneName}'
    : existingAppsDnsZoneResourceId,
  '/'
)
var appsDnsZoneId = '/subscriptions/${appsDnsZoneIdParts[2]}/resourceGroups/${appsDnsZoneIdParts[4]}/providers/Microsoft.Network/privateDnsZones/${appsDnsZoneIdParts[8]}'

var notifyTopicIdParts = split(
  empty(notifyTopicResourceId)
    ? '/subscriptions/${subscription().subscriptionId}/resourceGroups/${mainResourceGroupName}/providers/Microsoft.EventGrid/topics/none'
    : notifyTopicResourceId,
  '/'
)

// Apps are declared in infra/apps.json; app/apps-config.bicep fills in the deployment-specific ids (registry, subnet,
// pull identity, vault, resource group, location) unless an app sets them itself. See docs/deploy-to-azure.md.
// The values below only depend on parameters and the file, so loops and scopes can use them.
// any(): an empty "apps": [] would otherwise be typed as an empty tuple.
var appsFile = any(loadJsonContent('apps.json'))
var appResourceGroupNames = union(
  [containerGroupsResourceGroupName],
  map(appsFile.apps, app => app.?resourceGroup ?? containerGroupsResourceGroupName)
)
var extraAppResourceGroupNames = filter(appResourceGroupNames, rgName => rgName != containerGroupsResourceGroupName)
var watchedResourceGroupNames = filter(
  union(appsFile.?watch.?resourceGroups ?? [], map(appsFile.?watch.?groups ?? [], group => group.resourceGroup)),
  rgName => !contains(appResourceGroupNames, rgName)
)
var imagePushedSubjectPrefixes = union(
  map(
    filter(appsFile.apps, app => toLower(app.?registry.?resourceId ?? registryResourceId) == toLower(registryResourceId)),
    app => '${app.repository}:'
  ),
  []
)

resource rg 'Microsoft.Resources/resourceGroups@2022-09-01' = {
  name: mainResourceGroupName
  location: location
  tags: tags
}

resource aciRg 'Microsoft.Resources/resourceGroups@2022-09-01' = {
  name: containerGroupsResourceGroupName
  location: location
  tags: tags
}

// The function app's identity: user-assigned, so every role below can be granted before the app exists.
module apiIdentity 'app/identity.bicep' = {
  name: 'apiIdentity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

// The identity ACI container groups use to pull images (read access to the registry's repositories, nothing else).
module acrPullIdentity 'app/identity.bicep' = {
  name: 'acrPullIdentity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}acr-pull-${resourceToken}'
    location: location
    tags: tags
  }
}

module network 'app/network.bicep' = {
  name: 'network'
  scope: rg
  params: {
    name: '${abbrs.networkVirtualNetworks}${resourceToken}'
    location: location
    tags: tags
    addressPrefix: vnetAddressPrefix
    functionSubnetName: '${abbrs.networkVirtualNetworksSubnets}function'
    functionSubnetPrefix: functionSubnetPrefix
    aciSubnetName: '${abbrs.networkVirtualNetworksSubnets}aci'
    aciSubnetPrefix: aciSubnetPrefix
    registryEndpointSubnetName: registryIsPrivate ? '${abbrs.networkVirtualNetworksSubnets}registry-endpoint' : ''
    registryEndpointSubnetPrefix: registryEndpointSubnetPrefix
    natGatewayName: '${abbrs.networkNatGateways}${resourceToken}'
    natPublicIpName: '${abbrs.networkPublicIPAddresses}ng-${resourceToken}'
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    rolloutTableName: rolloutTableName
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module keyVault 'app/key-vault.bicep' = {
  name: 'keyVault'
  scope: rg
  params: {
    name: keyVaultName
    location: location
    tags: tags
    enablePurgeProtection: keyVaultPurgeProtection
  }
}

module registry 'app/registry.bicep' = if (empty(existingRegistryResourceId)) {
  name: 'registry'
  scope: rg
  params: {
    name: newRegistryName
    location: location
    tags: tags
    sku: newRegistrySku
    networkMode: checkedRegistryNetworkMode
    allowedIpRanges: allowedIpRanges
    // The function reads manifests over the registry's data plane, and Functions is not among the trusted services
    // that pass the firewall: its egress, the NAT gateway's address, is allowed too.
    natPublicIpAddress: network.outputs.natPublicIpAddress
    roleAssignmentMode: registryRoleAssignmentMode
  }
}

// Private mode: the registry's private endpoint in its own subnet and the privatelink zone linked to the VNet.
module registryEndpoint 'app/registry-endpoint.bicep' = if (empty(existingRegistryResourceId) && registryIsPrivate) {
  name: 'registryEndpoint'
  scope: rg
  params: {
    registryName: newRegistryName
    location: location
    tags: tags
    virtualNetworkId: network.outputs.id
    subnetId: network.outputs.registryEndpointSubnetId
    endpointName: '${abbrs.networkPrivateEndpoints}${newRegistryName}'
    functionPrincipalId: apiIdentity.outputs.principalId
  }
  dependsOn: [
    registry
  ]
}

// Least privilege for the function identity in its own resource group: storage, vault, App Insights.
module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    functionPrincipalId: apiIdentity.outputs.principalId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

// Join the ACI subnet and attach the pull identity to new container groups (linked access checks).
module aciJoinAccess 'app/aci-join-access.bicep' = {
  name: 'aciJoinAccess'
  scope: rg
  params: {
    functionPrincipalId: apiIdentity.outputs.principalId
    virtualNetworkName: network.outputs.name
    aciSubnetName: network.outputs.aciSubnetName
    pullIdentityName: acrPullIdentity.outputs.name
    assignCustomRoles: assignCustomRoles
  }
}

// Create, replace, restart and delete container groups: only in the ACI resource group(s).
module aciOperatorAccess 'app/aci-operator-access.bicep' = {
  name: 'aciOperatorAccess'
  scope: aciRg
  params: {
    functionPrincipalId: apiIdentity.outputs.principalId
    assignCustomRoles: assignCustomRoles
  }
}

module extraAciOperatorAccess 'app/aci-operator-access.bicep' = [
  for rgName in extraAppResourceGroupNames: {
    name: 'aciOperatorAccess-${uniqueString(rgName)}'
    scope: resourceGroup(rgName)
    params: {
      functionPrincipalId: apiIdentity.outputs.principalId
      assignCustomRoles: assignCustomRoles
    }
  }
]

// Watched (not managed) groups: read-only.
module aciWatchAccess 'app/aci-watch-access.bicep' = [
  for rgName in watchedResourceGroupNames: {
    name: 'aciWatchAccess-${uniqueString(rgName)}'
    scope: resourceGroup(rgName)
    params: {
      functionPrincipalId: apiIdentity.outputs.principalId
      assignCustomRoles: assignCustomRoles
    }
  }
]

module registryAccess 'app/registry-access.bicep' = {
  name: 'registryAccess'
  scope: resourceGroup(registrySubscriptionId, registryResourceGroupName)
  params: {
    registryName: registryName
    functionPrincipalId: apiIdentity.outputs.principalId
    pullIdentityPrincipalId: acrPullIdentity.outputs.principalId
    assignCustomRoles: assignCustomRoles
  }
  dependsOn: [
    registry
  ]
}

// The apps' names: the zone (unless brought), its VNet link, and the function's right to write its A records.
module appsDnsZone 'app/apps-dns-zone.bicep' = if (empty(existingAppsDnsZoneResourceId)) {
  name: 'appsDnsZone'
  scope: rg
  params: {
    name: appsDnsZoneName
    tags: tags
  }
}

module appsDnsAccess 'app/apps-dns-access.bicep' = {
  name: 'appsDnsAccess'
  scope: resourceGroup(appsDnsZoneIdParts[2], appsDnsZoneIdParts[4])
  params: {
    zoneName: appsDnsZoneIdParts[8]
    linkVirtualNetwork: empty(existingAppsDnsZoneResourceId) || linkExistingAppsDnsZone
    virtualNetworkId: network.outputs.id
    linkName: 'link-${network.outputs.name}'
    tags: tags
    functionPrincipalId: apiIdentity.outputs.principalId
  }
  dependsOn: [
    appsDnsZone
  ]
}

module notifyAccess 'app/notify-access.bicep' = if (!empty(notifyTopicResourceId)) {
  name: 'notifyAccess'
  scope: resourceGroup(notifyTopicIdParts[2], notifyTopicIdParts[4])
  params: {
    topicName: notifyTopicIdParts[8]
    functionPrincipalId: apiIdentity.outputs.principalId
  }
}

module appsConfig 'app/apps-config.bicep' = {
  name: 'appsConfig'
  scope: rg
  params: {
    appsFile: appsFile
    registryResourceId: registryResourceId
    resourceGroupName: containerGroupsResourceGroupName
    location: location
    subnetId: network.outputs.aciSubnetId
    imagePullIdentityId: acrPullIdentity.outputs.resourceId
    vaultUrl: keyVaultUrl
    dnsZoneId: appsDnsZoneId
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: apiIdentity.outputs.resourceId
    identityClientId: apiIdentity.outputs.clientId
    functionSubnetId: network.outputs.functionSubnetId
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    nodeVersion: nodeVersion
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    armEndpoint: armEndpoint
    appsConfig: appsConfig.outputs.value
    reconcileSchedule: reconcileSchedule
    rolloutTableName: rolloutTableName
    rolloutEventBudgetSeconds: rolloutEventBudgetSeconds
    reconcileBudgetSeconds: reconcileBudgetSeconds
    reconcileRolloutSliceSeconds: reconcileRolloutSliceSeconds
    statusCacheSeconds: statusCacheSeconds
    operatorActionBudgetSeconds: operatorActionBudgetSeconds
    operatorActionsRequireSignIn: operatorActionsRequireSignIn
    notifyEnabled: !empty(notifyTopicResourceId)
    notifyTopicEndpoint: empty(notifyTopicResourceId) ? '' : notifyAccess!.outputs.endpoint
  }
  // The host must be able to reach its storage with its identity as soon as it starts.
  dependsOn: [
    rbac
  ]
}

module registryEvents 'app/registry-events.bicep' = {
  name: 'registryEvents'
  scope: resourceGroup(registrySubscriptionId, registryResourceGroupName)
  params: {
    registryName: registryName
    systemTopicName: '${abbrs.eventGridDomainsTopics}${registryName}'
    existingSystemTopicName: existingRegistrySystemTopicName
    tags: tags
    deployEventSubscription: deployEventSubscription
    eventSubscriptionName: '${abbrs.eventGridEventSubscriptions}on-image-pushed-${resourceToken}'
    functionAppResourceId: api.outputs.resourceId
    subjectPrefixes: imagePushedSubjectPrefixes
  }
  dependsOn: [
    registry
  ]
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_ACI_RESOURCE_GROUP string = aciRg.name
output AZURE_ACI_SUBNET_ID string = network.outputs.aciSubnetId
output AZURE_ACR_PULL_IDENTITY_ID string = acrPullIdentity.outputs.resourceId
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output AZURE_KEY_VAULT_URL string = keyVaultUrl
output AZURE_REGISTRY_ID string = registryResourceId
output AZURE_REGISTRY_SYSTEM_TOPIC string = registryEvents.outputs.systemTopicName
output EVENT_SUBSCRIPTION_DEPLOYED bool = registryEvents.outputs.eventSubscriptionDeployed
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
output AZURE_REGISTRY_NETWORK_MODE string = checkedRegistryNetworkMode
output AZURE_APPS_DNS_ZONE_ID string = appsDnsZoneId
