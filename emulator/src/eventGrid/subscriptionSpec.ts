/**
 * An event subscription PUT body (EventSubscriptionProperties) read into what the broker needs. Only WebHook
 * destinations and simple filters are modelled; other destinations and advanced filters answer 501.
 */
import { notImplemented } from '../core/errors.js';
import type { EmuRequest } from '../core/router.js';
import type { SubscriptionSpec } from './eventGridBroker.js';
import { eventGridErrors } from './eventGridErrors.js';
import { lower, type EventSchema, type SystemTopic } from './eventGridStore.js';

export function specFromBody(req: EmuRequest, topic: SystemTopic): SubscriptionSpec {
  const body = (req.body ?? {}) as { properties?: Record<string, unknown> };
  const props = body.properties ?? {};
  const destination = (props['destination'] ?? {}) as {
    endpointType?: string;
    properties?: Record<string, unknown>;
  };
  if (!destination.endpointType) throw eventGridErrors.invalidRequest('properties.destination is required.');
  if (lower(destination.endpointType) !== 'webhook')
    throw notImplemented(`event subscriptions with destination endpointType '${destination.endpointType}'`);
  const endpointUrl = destination.properties?.['endpointUrl'];
  if (typeof endpointUrl !== 'string' || !endpointUrl)
    throw eventGridErrors.invalidRequest(
      'properties.destination.properties.endpointUrl is required for a WebHook destination.',
    );
  const filter = (props['filter'] ?? {}) as Record<string, unknown>;
  const advanced = filter['advancedFilters'];
  if (Array.isArray(advanced) && advanced.length > 0) throw notImplemented('advanced filters');
  const retry = (props['retryPolicy'] ?? {}) as Record<string, unknown>;
  const spec: SubscriptionSpec = {
    name: req.params['eventSubscriptionName'] ?? '',
    topic: { kind: 'system', name: topic.name },
    endpointUrl,
  };
  if (filter['includedEventTypes'] !== undefined)
    spec.includedEventTypes = filter['includedEventTypes'] as string[];
  if (filter['subjectBeginsWith'] !== undefined)
    spec.subjectBeginsWith = filter['subjectBeginsWith'] as string;
  if (filter['subjectEndsWith'] !== undefined) spec.subjectEndsWith = filter['subjectEndsWith'] as string;
  if (filter['isSubjectCaseSensitive'] !== undefined)
    spec.isSubjectCaseSensitive = filter['isSubjectCaseSensitive'] === true;
  if (retry['maxDeliveryAttempts'] !== undefined)
    spec.maxDeliveryAttempts = retry['maxDeliveryAttempts'] as number;
  if (retry['eventTimeToLiveInMinutes'] !== undefined)
    spec.eventTimeToLiveMinutes = retry['eventTimeToLiveInMinutes'] as number;
  if (props['eventDeliverySchema'] !== undefined)
    spec.deliverySchema = props['eventDeliverySchema'] as EventSchema;
  if (props['labels'] !== undefined) spec.labels = props['labels'] as string[];
  return spec;
}
