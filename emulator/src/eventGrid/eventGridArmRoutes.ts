/**
 * ARM `Microsoft.EventGrid/systemTopics` and their `eventSubscriptions` (webhook destinations), so the shape the
 * Bicep/CLI side creates in Azure can be exercised locally:
 * - system topics: GET, PUT (synchronous, provisioningState Succeeded), DELETE, list by resource group;
 * - event subscriptions: PUT answers 201/200 with provisioningState `Creating` and `Azure-AsyncOperation` while
 *   the validation handshake runs; the operation ends `Succeeded` or `Failed` with code `Url validation` (the
 *   subscription then stays, Failed, as in Azure). GET shows `endpointBaseUrl` only (no query string: it may
 *   hold a key); `getFullUrl` returns the full URL. DELETE, list by system topic.
 * Other destinations (Azure Function, queues...) and advanced filters answer 501.
 */
import crypto from 'node:crypto';
import type { EmulatorContext } from '../core/context.js';
import { armError, notImplemented } from '../core/errors.js';
import type { EmuRequest, Route } from '../core/router.js';
import { EventGridRequestError, type EventGridBroker, type SubscriptionSpec } from './eventGridBroker.js';
import { lower, type EventSchema, type Subscription, type SystemTopic } from './eventGridStore.js';
import type { ValidationResult } from './subscriptionValidation.js';

/** api-versions Azure accepts for systemTopics and systemTopics/eventSubscriptions. */
export const SYSTEM_TOPIC_API_VERSIONS = [
  '2020-04-01-preview',
  '2020-10-15-preview',
  '2021-06-01-preview',
  '2021-10-15-preview',
  '2021-12-01',
  '2022-06-15',
  '2023-06-01-preview',
  '2023-12-15-preview',
  '2024-06-01-preview',
  '2024-12-15-preview',
  '2025-02-15',
  '2025-04-01-preview',
] as const;

const BASE =
  '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.EventGrid/systemTopics';

function arm<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof EventGridRequestError) throw armError(err.status, err.code, err.message);
    throw err;
  }
}

function metricResourceId(name: string): string {
  const h = crypto.createHash('sha256').update(name.toLowerCase()).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function eventGridArmRoutes(ctx: EmulatorContext, broker: EventGridBroker): Route[] {
  /** LRO status of event-subscription writes, by operation id (in memory: an in-flight handshake dies with the process). */
  const operations = new Map<
    string,
    { status: 'InProgress' | 'Succeeded' | 'Failed'; error?: { code: string; message: string } }
  >();

  const checkSubscription = (req: EmuRequest) => {
    if (lower(req.params['subscriptionId'] ?? '') !== lower(ctx.options.subscriptionId))
      throw armError(
        404,
        'SubscriptionNotFound',
        `The subscription '${req.params['subscriptionId']}' could not be found.`,
      );
  };

  const findTopic = (req: EmuRequest): SystemTopic => {
    checkSubscription(req);
    const name = req.params['systemTopicName'] ?? '';
    const topic = broker.st().systemTopics[lower(name)];
    if (!topic || lower(topic.resourceGroup) !== lower(req.params['resourceGroupName'] ?? ''))
      throw armError(
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.EventGrid/systemTopics/${name}' under resource group '${req.params['resourceGroupName']}' was not found.`,
      );
    return topic;
  };

  const topicView = (t: SystemTopic) => ({
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
  });

  const subscriptionView = (t: SystemTopic, s: Subscription) => {
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
  };

  const findSubscription = (req: EmuRequest): { topic: SystemTopic; sub: Subscription } => {
    const topic = findTopic(req);
    const sub = broker.getSubscription(
      { kind: 'system', name: topic.name },
      req.params['eventSubscriptionName'] ?? '',
    );
    if (!sub)
      throw armError(
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.EventGrid/systemTopics/${topic.name}/eventSubscriptions/${req.params['eventSubscriptionName']}' under resource group '${req.params['resourceGroupName']}' was not found.`,
      );
    return { topic, sub };
  };

  const specFromBody = (req: EmuRequest, topic: SystemTopic): SubscriptionSpec => {
    const body = (req.body ?? {}) as { properties?: Record<string, unknown> };
    const props = body.properties ?? {};
    const destination = (props['destination'] ?? {}) as {
      endpointType?: string;
      properties?: Record<string, unknown>;
    };
    if (!destination.endpointType)
      throw armError(400, 'InvalidRequest', 'properties.destination is required.');
    if (lower(destination.endpointType) !== 'webhook')
      throw notImplemented(`event subscriptions with destination endpointType '${destination.endpointType}'`);
    const endpointUrl = destination.properties?.['endpointUrl'];
    if (typeof endpointUrl !== 'string' || !endpointUrl)
      throw armError(
        400,
        'InvalidRequest',
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
  };

  const operationUrl = (location: string, id: string, apiVersion: string) =>
    `${ctx.url}/subscriptions/${ctx.options.subscriptionId}/providers/Microsoft.EventGrid/locations/${location}/operationsStatus/${id}?api-version=${apiVersion}`;

  const common = { auth: 'arm' as const, apiVersions: SYSTEM_TOPIC_API_VERSIONS };

  return [
    {
      ...common,
      method: 'GET',
      pattern: BASE,
      operation: 'SystemTopics_ListByResourceGroup',
      handler: (req) => {
        checkSubscription(req);
        const rg = lower(req.params['resourceGroupName'] ?? '');
        return {
          status: 200,
          body: {
            value: Object.values(broker.st().systemTopics)
              .filter((t) => lower(t.resourceGroup) === rg)
              .map(topicView),
          },
        };
      },
    },
    {
      ...common,
      method: 'GET',
      pattern: `${BASE}/:systemTopicName`,
      operation: 'SystemTopics_Get',
      handler: (req) => ({ status: 200, body: topicView(findTopic(req)) }),
    },
    {
      ...common,
      method: 'PUT',
      pattern: `${BASE}/:systemTopicName`,
      operation: 'SystemTopics_CreateOrUpdate',
      handler: (req) => {
        checkSubscription(req);
        const body = (req.body ?? {}) as {
          location?: string;
          tags?: Record<string, string>;
          properties?: Record<string, unknown>;
        };
        const source = body.properties?.['source'];
        const topicType = body.properties?.['topicType'];
        if (typeof body.location !== 'string') throw armError(400, 'InvalidRequest', 'location is required.');
        if (typeof source !== 'string')
          throw armError(400, 'InvalidRequest', 'properties.source is required.');
        if (typeof topicType === 'string' && lower(topicType) !== 'microsoft.containerregistry.registries')
          throw notImplemented(`system topics of type '${topicType}'`);
        const { topic, created } = arm(() =>
          broker.putSystemTopic({
            name: req.params['systemTopicName'] ?? '',
            resourceGroup: req.params['resourceGroupName'] ?? '',
            location: body.location!,
            source,
            tags: body.tags ?? {},
          }),
        );
        return { status: created ? 201 : 200, body: topicView(topic) };
      },
    },
    {
      ...common,
      method: 'DELETE',
      pattern: `${BASE}/:systemTopicName`,
      operation: 'SystemTopics_Delete',
      handler: (req) => {
        checkSubscription(req);
        return { status: broker.deleteSystemTopic(req.params['systemTopicName'] ?? '') ? 200 : 204 };
      },
    },
    {
      ...common,
      method: 'GET',
      pattern: `${BASE}/:systemTopicName/eventSubscriptions`,
      operation: 'SystemTopicEventSubscriptions_ListBySystemTopic',
      handler: (req) => {
        const topic = findTopic(req);
        return {
          status: 200,
          body: {
            value: broker
              .subscriptionsOf({ kind: 'system', name: topic.name })
              .map((s) => subscriptionView(topic, s)),
          },
        };
      },
    },
    {
      ...common,
      method: 'GET',
      pattern: `${BASE}/:systemTopicName/eventSubscriptions/:eventSubscriptionName`,
      operation: 'SystemTopicEventSubscriptions_Get',
      handler: (req) => {
        const { topic, sub } = findSubscription(req);
        return { status: 200, body: subscriptionView(topic, sub) };
      },
    },
    {
      ...common,
      method: 'POST',
      pattern: `${BASE}/:systemTopicName/eventSubscriptions/:eventSubscriptionName/getFullUrl`,
      operation: 'SystemTopicEventSubscriptions_GetFullUrl',
      handler: (req) => ({ status: 200, body: { endpointUrl: findSubscription(req).sub.endpointUrl } }),
    },
    {
      ...common,
      method: 'PUT',
      pattern: `${BASE}/:systemTopicName/eventSubscriptions/:eventSubscriptionName`,
      operation: 'SystemTopicEventSubscriptions_CreateOrUpdate',
      handler: (req) => {
        const topic = findTopic(req);
        const spec = specFromBody(req, topic);
        const { subscription, created, done } = arm(() => broker.putSubscriptionAsync(spec));
        const body = subscriptionView(topic, subscription);
        if (!done) return { status: 200, body };
        const id = crypto.randomUUID();
        operations.set(id, { status: 'InProgress' });
        void done.then((result: ValidationResult) => {
          operations.set(
            id,
            result.ok
              ? { status: 'Succeeded' }
              : { status: 'Failed', error: { code: 'Url validation', message: result.reason } },
          );
        });
        return {
          status: created ? 201 : 200,
          headers: {
            'azure-asyncoperation': operationUrl(
              topic.location,
              id,
              req.query.get('api-version') ?? '2025-02-15',
            ),
            'retry-after': String(ctx.options.timings.lroRetryAfterSeconds),
          },
          body,
        };
      },
    },
    {
      ...common,
      method: 'DELETE',
      pattern: `${BASE}/:systemTopicName/eventSubscriptions/:eventSubscriptionName`,
      operation: 'SystemTopicEventSubscriptions_Delete',
      handler: (req) => {
        const topic = findTopic(req);
        const sub = broker.getSubscription(
          { kind: 'system', name: topic.name },
          req.params['eventSubscriptionName'] ?? '',
        );
        if (!sub) return { status: 204 };
        broker.deleteSubscription(sub);
        return { status: 200 };
      },
    },
    {
      ...common,
      method: 'GET',
      pattern:
        '/subscriptions/:subscriptionId/providers/Microsoft.EventGrid/locations/:location/operationsStatus/:operationId',
      operation: 'EventGrid_OperationsStatus',
      handler: (req) => {
        checkSubscription(req);
        const id = req.params['operationId'] ?? '';
        const op = operations.get(id);
        if (!op) throw armError(404, 'NotFound', `Operation ${id} was not found.`);
        return {
          status: 200,
          body: { id: req.path, name: id, status: op.status, ...(op.error ? { error: op.error } : {}) },
        };
      },
    },
  ];
}
