// The Function App on Flex Consumption, integrated into the VNet (it health-checks container groups on their
// private IPs), running as a user-assigned identity, with every app setting the code reads (src/config).

@description('Name of the function app.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Location of the plan and the app.')
param location string = resourceGroup().location

@description('Tags applied to the plan and the app.')
param tags object = {}

@description('azd service name (azure.yaml); azd finds the app by the azd-service-name tag.')
param serviceName string = 'api'

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity (DefaultAzureCredential and identity-based connections use it).')
param identityClientId string

@description('Resource id of the subnet for VNet integration (delegated to Microsoft.App/environments).')
param functionSubnetId string

@description('Name of the function storage account.')
param storageAccountName string

@description('Blob endpoint of the function storage account (with trailing slash).')
param storageBlobEndpoint string

@description('Table endpoint of the function storage account.')
param storageTableEndpoint string

@description('Blob container that holds the deployment package.')
param deploymentContainerName string

@description('Application Insights connection string.')
param applicationInsightsConnectionString string

@description('Node.js major version.')
@allowed([
  '20'
  '22'
])
param nodeVersion string = '22'

@description('Maximum number of instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Instance memory in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Azure Resource Manager endpoint of the cloud, without trailing slash.')
param armEndpoint string

@description('APPS_CONFIG as an object (serialised to JSON here): { apps: [...], watch: {...} }.')
param appsConfig object

@description('NCRONTAB schedule of the reconcile timer.')
param reconcileSchedule string

@description('Name of the rollout table.')
param rolloutTableName string

@description('Time budget of an Event Grid-triggered run, in seconds.')
param rolloutEventBudgetSeconds int

@description('Time budget of a reconcile run, in seconds.')
param reconcileBudgetSeconds int

@description('Seconds a reconcile run may spend advancing rollouts; 0 leaves the app\'s default.')
param reconcileRolloutSliceSeconds int

@description('Status cache lifetime, in seconds.')
param statusCacheSeconds int

@description('Longest an operator action advances the rollout it touched before answering, in seconds.')
param operatorActionBudgetSeconds int

@description('Operator actions need a principal signed in through App Service authentication as well as their key.')
param operatorActionsRequireSignIn bool

@description('Set NOTIFY_TOPIC_ENDPOINT (rollout notifications). A flag of its own, known when the deployment starts, because the endpoint is read from the topic while it runs.')
param notifyEnabled bool = false

@description('Event Grid custom topic endpoint for notifications (used when notifyEnabled).')
param notifyTopicEndpoint string = ''

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    virtualNetworkSubnetId: functionSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }
}

// Flex Consumption takes runtime, version and deployment from functionAppConfig: FUNCTIONS_WORKER_RUNTIME,
// FUNCTIONS_EXTENSION_VERSION, WEBSITE_RUN_FROM_PACKAGE and friends must not be set (test/unit/infra/infraTemplate.test.ts).
var appSettings = union(
  {
    // Host storage and rollout table, identity-based (no keys).
    AzureWebJobsStorage__accountName: storageAccountName
    AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    // Read by src/config.
    AZURE_SUBSCRIPTION_ID: subscription().subscriptionId
    AZURE_CLIENT_ID: identityClientId
    ARM_ENDPOINT: armEndpoint
    ARM_SCOPE: '${armEndpoint}/.default'
    APPS_CONFIG: string(appsConfig)
    RECONCILE_SCHEDULE: reconcileSchedule
    ROLLOUT_TABLE_NAME: rolloutTableName
    ROLLOUT_EVENT_BUDGET_SECONDS: string(rolloutEventBudgetSeconds)
    RECONCILE_BUDGET_SECONDS: string(reconcileBudgetSeconds)
    STATUS_CACHE_SECONDS: string(statusCacheSeconds)
    OPERATOR_ACTION_BUDGET_SECONDS: string(operatorActionBudgetSeconds)
    OPERATOR_ACTIONS_REQUIRE_SIGN_IN: string(operatorActionsRequireSignIn)
  },
  notifyEnabled ? { NOTIFY_TOPIC_ENDPOINT: notifyTopicEndpoint } : {},
  reconcileRolloutSliceSeconds == 0 ? {} : { RECONCILE_ROLLOUT_SLICE_SECONDS: string(reconcileRolloutSliceSeconds) }
)

resource appSettingsConfig 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: appSettings
}

output name string = functionApp.name
output resourceId string = functionApp.id
output defaultHostName string = functionApp.properties.defaultHostName
