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
import { armError, notImplemented, type OperationError } from '../core/errors.js';
import { armRoutes, type EmuRequest, type EmuResponse, type Route } from '../core/router.js';
import { resourceManagerErrors } from '../resourceManager/resourceManagerErrors.js';
import { subscriptionView, topicView } from './armViews.js';
import { EventGridRequestError, type EventGridBroker } from './eventGridBroker.js';
import { eventGridErrors } from './eventGridErrors.js';
import { lower, type Subscription, type SystemTopic } from './eventGridStore.js';
import { specFromBody } from './subscriptionSpec.js';
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
const SUBSCRIPTION = `${BASE}/:systemTopicName/eventSubscriptions/:eventSubscriptionName`;

/** The broker's refusals (name clashes...) carry their own status and code: answered in ARM's envelope. */
function arm<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof EventGridRequestError) throw armError(err.status, err.code, err.message);
    throw err;
  }
}

interface OperationStatus {
  status: 'InProgress' | 'Succeeded' | 'Failed';
  error?: OperationError;
}

export function eventGridArmRoutes(ctx: EmulatorContext, broker: EventGridBroker): Route[] {
  const routes = new EventGridArmRoutes(ctx, broker);
  return [...routes.topicRoutes(), ...routes.subscriptionRoutes()];
}

class EventGridArmRoutes {
  /** LRO status of event-subscription writes, by operation id (in memory: an in-flight handshake dies with the process). */
  private readonly operations = new Map<string, OperationStatus>();

  constructor(
    private readonly ctx: EmulatorContext,
    private readonly broker: EventGridBroker,
  ) {}

  private readonly route = armRoutes(SYSTEM_TOPIC_API_VERSIONS);

  topicRoutes(): Route[] {
    const topic = `${BASE}/:systemTopicName`;
    return [
      this.route('GET', BASE, 'SystemTopics_ListByResourceGroup', (req) => this.listTopics(req)),
      this.route('GET', topic, 'SystemTopics_Get', (req) => ({
        status: 200,
        body: topicView(this.broker, this.findTopic(req)),
      })),
      this.route('PUT', topic, 'SystemTopics_CreateOrUpdate', (req) => this.putTopic(req)),
      this.route('DELETE', topic, 'SystemTopics_Delete', (req) => {
        this.checkSubscription(req);
        return { status: this.broker.deleteSystemTopic(req.params['systemTopicName'] ?? '') ? 200 : 204 };
      }),
    ];
  }

  subscriptionRoutes(): Route[] {
    return [
      this.route(
        'GET',
        `${BASE}/:systemTopicName/eventSubscriptions`,
        'SystemTopicEventSubscriptions_ListBySystemTopic',
        (req) => this.listSubscriptions(req),
      ),
      this.route('GET', SUBSCRIPTION, 'SystemTopicEventSubscriptions_Get', (req) => {
        const { topic, sub } = this.findSubscription(req);
        return { status: 200, body: subscriptionView(this.broker, topic, sub) };
      }),
      this.route('POST', `${SUBSCRIPTION}/getFullUrl`, 'SystemTopicEventSubscriptions_GetFullUrl', (req) => ({
        status: 200,
        body: { endpointUrl: this.findSubscription(req).sub.endpointUrl },
      })),
      this.route('PUT', SUBSCRIPTION, 'SystemTopicEventSubscriptions_CreateOrUpdate', (req) =>
        this.putSubscription(req),
      ),
      this.route('DELETE', SUBSCRIPTION, 'SystemTopicEventSubscriptions_Delete', (req) =>
        this.deleteSubscription(req),
      ),
      this.route(
        'GET',
        '/subscriptions/:subscriptionId/providers/Microsoft.EventGrid/locations/:location/operationsStatus/:operationId',
        'EventGrid_OperationsStatus',
        (req) => this.operationStatus(req),
      ),
    ];
  }

  private checkSubscription(req: EmuRequest): void {
    if (lower(req.params['subscriptionId'] ?? '') !== lower(this.ctx.options.subscriptionId))
      throw resourceManagerErrors.subscriptionNotFound(req.params['subscriptionId'] ?? '');
  }

  private findTopic(req: EmuRequest): SystemTopic {
    this.checkSubscription(req);
    const name = req.params['systemTopicName'] ?? '';
    const topic = this.broker.st().systemTopics[lower(name)];
    if (!topic || lower(topic.resourceGroup) !== lower(req.params['resourceGroupName'] ?? ''))
      throw eventGridErrors.systemTopicNotFound(name, req.params['resourceGroupName']);
    return topic;
  }

  private findSubscription(req: EmuRequest): { topic: SystemTopic; sub: Subscription } {
    const topic = this.findTopic(req);
    const sub = this.broker.getSubscription(
      { kind: 'system', name: topic.name },
      req.params['eventSubscriptionName'] ?? '',
    );
    if (!sub)
      throw eventGridErrors.eventSubscriptionNotFound(
        topic.name,
        req.params['eventSubscriptionName'],
        req.params['resourceGroupName'],
      );
    return { topic, sub };
  }

  private listTopics(req: EmuRequest): EmuResponse {
    this.checkSubscription(req);
    const rg = lower(req.params['resourceGroupName'] ?? '');
    return {
      status: 200,
      body: {
        value: Object.values(this.broker.st().systemTopics)
          .filter((t) => lower(t.resourceGroup) === rg)
          .map((t) => topicView(this.broker, t)),
      },
    };
  }

  private putTopic(req: EmuRequest): EmuResponse {
    this.checkSubscription(req);
    const body = (req.body ?? {}) as {
      location?: string;
      tags?: Record<string, string>;
      properties?: Record<string, unknown>;
    };
    const source = body.properties?.['source'];
    const topicType = body.properties?.['topicType'];
    if (typeof body.location !== 'string') throw eventGridErrors.invalidRequest('location is required.');
    if (typeof source !== 'string') throw eventGridErrors.invalidRequest('properties.source is required.');
    if (typeof topicType === 'string' && lower(topicType) !== 'microsoft.containerregistry.registries')
      throw notImplemented(`system topics of type '${topicType}'`);
    const { topic, created } = arm(() =>
      this.broker.putSystemTopic({
        name: req.params['systemTopicName'] ?? '',
        resourceGroup: req.params['resourceGroupName'] ?? '',
        location: body.location!,
        source,
        tags: body.tags ?? {},
      }),
    );
    return { status: created ? 201 : 200, body: topicView(this.broker, topic) };
  }

  private listSubscriptions(req: EmuRequest): EmuResponse {
    const topic = this.findTopic(req);
    return {
      status: 200,
      body: {
        value: this.broker
          .subscriptionsOf({ kind: 'system', name: topic.name })
          .map((s) => subscriptionView(this.broker, topic, s)),
      },
    };
  }

  /** Creating or changing a subscription runs the validation handshake: an LRO while it is in flight. */
  private putSubscription(req: EmuRequest): EmuResponse {
    const topic = this.findTopic(req);
    const spec = specFromBody(req, topic);
    const { subscription, created, done } = arm(() => this.broker.putSubscriptionAsync(spec));
    const body = subscriptionView(this.broker, topic, subscription);
    if (!done) return { status: 200, body };
    const id = crypto.randomUUID();
    this.operations.set(id, { status: 'InProgress' });
    void done.then((result: ValidationResult) => {
      this.operations.set(
        id,
        result.ok
          ? { status: 'Succeeded' }
          : { status: 'Failed', error: eventGridErrors.urlValidationFailed(result.reason) },
      );
    });
    const apiVersion = req.query.get('api-version') ?? '2025-02-15';
    return {
      status: created ? 201 : 200,
      headers: {
        'azure-asyncoperation': `${this.ctx.url}/subscriptions/${this.ctx.options.subscriptionId}/providers/Microsoft.EventGrid/locations/${topic.location}/operationsStatus/${id}?api-version=${apiVersion}`,
        'retry-after': String(this.ctx.options.timings.lroRetryAfterSeconds),
      },
      body,
    };
  }

  private deleteSubscription(req: EmuRequest): EmuResponse {
    const topic = this.findTopic(req);
    const sub = this.broker.getSubscription(
      { kind: 'system', name: topic.name },
      req.params['eventSubscriptionName'] ?? '',
    );
    if (!sub) return { status: 204 };
    this.broker.deleteSubscription(sub);
    return { status: 200 };
  }

  private operationStatus(req: EmuRequest): EmuResponse {
    this.checkSubscription(req);
    const id = req.params['operationId'] ?? '';
    const op = this.operations.get(id);
    if (!op) throw eventGridErrors.operationNotFound(id);
    return {
      status: 200,
      body: { id: req.path, name: id, status: op.status, ...(op.error ? { error: op.error } : {}) },
    };
  }
}
