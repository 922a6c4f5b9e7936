/**
 * System topics and event subscriptions as ARM answers them. An event subscription shows `endpointBaseUrl` only
 * (no query string: it may hold a key); `getFullUrl` returns the full URL.
 */
import crypto from 'node:crypto';
import type { EventGridBroker } from './eventGridBroker.js';
import type { Subscription, SystemTopic } from './eventGridStore.js';

function metricResourceId(name: string): string {
  const h = crypto.createHash('sha256').update(name.toLowerCase()).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function topicView(broker: EventGridBroker, t: SystemTopic) {
  return {
    id: broker.systemTopicId(t),
    name: t.name,
    type: 'Microsoft.EventGrid/systemTopics',
    location: t.location,
    tags: t.tags,
    properties: {
      provisioningState: 'Succeeded',
      source: t.source,
      topicType: 'Microsoft.ContainerRegistry.Registries',
      metricResourceId: metricResourceId(t.name),
    },
  };
}

export function subscriptionView(broker: EventGridBroker, t: SystemTopic, s: Subscription) {
  const base = new URL(s.endpointUrl);
  return {
    id: `${broker.systemTopicId(t)}/eventSubscriptions/${s.name}`,
    name: s.name,
    type: 'Microsoft.EventGrid/systemTopics/eventSubscriptions',
    properties: {
      topic: t.source,
      provisioningState: s.provisioningState,
      destination: {
        endpointType: 'WebHook',
        properties: {
          endpointBaseUrl: `${base.origin}${base.pathname}`,
          maxEventsPerBatch: 1,
          preferredBatchSizeInKilobytes: 64,
        },
      },
      filter: {
        includedEventTypes: s.includedEventTypes ?? null,
        subjectBeginsWith: s.subjectBeginsWith ?? '',
        subjectEndsWith: s.subjectEndsWith ?? '',
        isSubjectCaseSensitive: s.isSubjectCaseSensitive,
        enableAdvancedFilteringOnArrays: false,
      },
      labels: s.labels,
      eventDeliverySchema: s.deliverySchema,
      retryPolicy: {
        maxDeliveryAttempts: s.maxDeliveryAttempts,
        eventTimeToLiveInMinutes: s.eventTimeToLiveMinutes,
      },
    },
  };
}
