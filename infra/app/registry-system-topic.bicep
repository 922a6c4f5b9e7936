// The registry's Event Grid system topic (one per source is allowed), created where the registry is.

@description('Name of the system topic.')
param name string

@description('Location of the registry (a system topic must share its source\'s location).')
param location string

@description('Tags applied to the system topic.')
param tags object = {}

@description('Resource id of the container registry.')
param registryId string

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    source: registryId
    topicType: 'Microsoft.ContainerRegistry.Registries'
  }
}

output name string = systemTopic.name
