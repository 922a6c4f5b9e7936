// Deployed into the registry's resource group: the registry's Event Grid system topic and the subscription that
// delivers ImagePushed events to the onImagePushed function.
//
// The AzureFunction endpoint type names the function by resource id, so Event Grid fetches the system key itself
// and no key ever passes through a template. Event Grid checks that the function exists when the subscription is
// created, so it is created only once the code is deployed (deployEventSubscription; see the azd postdeploy hook).

@description('Name of the container registry.')
param registryName string

@description('Name of the system topic created when existingSystemTopicName is empty.')
param systemTopicName string

@description('Name of a system topic that already exists on the registry (one is allowed per source). Empty: create one.')
param existingSystemTopicName string = ''

@description('Tags applied to the system topic.')
param tags object = {}

@description('Create the event subscription (the function must already be deployed).')
param deployEventSubscription bool

@description('Name of the event subscription.')
param eventSubscriptionName string

@description('Resource id of the function app (Microsoft.Web/sites).')
param functionAppResourceId string

@description('Name of the Event Grid-triggered function.')
param functionName string = 'onImagePushed'

@description('Subject prefixes ("{repository}:") of the configured repositories; at most 25 (Event Grid limit per advanced filter). No subscription is created while empty.')
@maxLength(25)
param subjectPrefixes array

var topicName = empty(existingSystemTopicName) ? systemTopicName : existingSystemTopicName
var createSubscription = deployEventSubscription && !empty(subjectPrefixes)

resource registry 'Microsoft.ContainerRegistry/registries@2025-11-01' existing = {
  name: registryName
}

// A system topic lives in the source's resource group and location. The location of a registry that already exists
// is only known once the deployment runs, so the topic is created by a nested deployment that receives it.
module newSystemTopic 'registry-system-topic.bicep' = if (empty(existingSystemTopicName)) {
  name: 'registrySystemTopic-${uniqueString(registry.id)}'
  params: {
    name: systemTopicName
    location: registry.location
    tags: tags
    registryId: registry.id
  }
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: topicName
}

resource imagePushed 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = if (createSubscription) {
  parent: systemTopic
  name: eventSubscriptionName
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppResourceId}/functions/${functionName}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.ContainerRegistry.ImagePushed'
      ]
      // ACR subjects are "{repository}:{tag}".
      advancedFilters: [
        {
          operatorType: 'StringBeginsWith'
          key: 'subject'
          values: subjectPrefixes
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
  dependsOn: [
    newSystemTopic
  ]
}

output systemTopicName string = topicName
output eventSubscriptionDeployed bool = createSubscription
