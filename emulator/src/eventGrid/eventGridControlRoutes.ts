/**
 * Event Grid's part of the control API (`/_emulator/eventgrid/...`), answering plain `{ code, message }` errors:
 *
 * - `POST /subscriptions` `{ registryName | topicName, name, endpointUrl, includedEventTypes?, subjectBeginsWith?,
 *   subjectEndsWith?, isSubjectCaseSensitive?, maxDeliveryAttempts?, eventTimeToLiveMinutes?, deliverySchema?,
 *   resourceGroup? }` creates or replaces a webhook subscription on a registry's system topic (`registryName`) or a
 *   custom topic (`topicName`) after the validation handshake: 200 `{ subscription, validated }`, or 400
 *   `{ code: "Url validation", message }` saying why (nothing is stored). The handshake is skipped, as in Azure,
 *   when only filters or retry settings change.
 * - `GET /subscriptions[?registryName=|topicName=]`, `GET /subscriptions/{name}`, `DELETE /subscriptions/{name}`
 *   (every subscription of that name unless narrowed by `?registryName=` / `?topicName=`).
 * - `GET /systemtopics`; `POST /topics` `{ name, inputSchema?, resourceGroup?, location? }` (201 new, 200 existing:
 *   `{ name, id, endpoint, inputSchema, key1, key2 }`), `GET /topics`, `GET|DELETE /topics/{name}`,
 *   `GET|DELETE /topics/{name}/events` (what publishers sent).
 * - `GET /deliveries[?subscription=&eventId=&state=]` every event's delivery with its attempts;
 *   `DELETE /deliveries` forgets finished ones. `GET|DELETE /deadletters[?subscription=]`.
 * - `GET|POST|DELETE /faults`, `DELETE /faults/{id}`: delivery faults (see deliveryFaults.ts).
 * - `POST /registries/{registryName}/events` `{ repository, tag?, digest?, eventType?, resourceGroup?, location? }`
 *   raises an ACR event on the emulator's event bus as a push would (testing and debugging); 202
 *   `{ registryName, eventType, subject, repository, tag, digest }`.
 */
import { redactSecrets } from '../../../src/adapters/logRedaction.js';
import type { EmulatorContext } from '../core/context.js';
import { objectBody, requiredString } from '../core/controlBody.js';
import { controlErrors } from '../core/controlErrors.js';
import { EmulatorHttpError } from '../core/errors.js';
import { controlRoute, type EmuRequest, type EmuResponse, type Route } from '../core/router.js';
import type { DeliveryEngine } from './deliveryEngine.js';
import type { DeliveryFaultSpec } from './deliveryFaults.js';
import { EventGridRequestError, type EventGridBroker, type SubscriptionSpec } from './eventGridBroker.js';
import { lower, type EventSchema, type Subscription, type TopicRef } from './eventGridStore.js';
import { raisedRegistryEvent } from './raisedRegistryEvent.js';

/** The broker's refusals carry their own status and code: answered in the control API's plain body. */
const plain = (status: number, code: string, message: string) =>
  new EmulatorHttpError(status, code, message, 'plain');

function asPlain<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof EventGridRequestError) throw plain(err.status, err.code, err.message);
    throw err;
  }
}

export function eventGridControlRoutes(
  ctx: EmulatorContext,
  broker: EventGridBroker,
  engine: DeliveryEngine,
): Route[] {
  const routes = new EventGridControlRoutes(ctx, broker, engine);
  return [
    ...routes.subscriptionRoutes(),
    ...routes.topicRoutes(),
    ...routes.deliveryRoutes(),
    ...routes.faultRoutes(),
    route('POST', '/registries/:registryName/events', 'Emulator_EventGridRaiseRegistryEvent', (req) => {
      const event = raisedRegistryEvent(broker, req.params['registryName'] ?? '', objectBody(req));
      ctx.bus.emit('registryEvent', event.event);
      return { status: 202, body: event.summary };
    }),
  ];
}

/** Event Grid's control routes live under `/_emulator/eventgrid`. */
function route(method: string, pattern: string, operation: string, handler: Route['handler']): Route {
  return controlRoute(method, `/_emulator/eventgrid${pattern}`, operation, handler);
}

class EventGridControlRoutes {
  constructor(
    private readonly ctx: EmulatorContext,
    private readonly broker: EventGridBroker,
    private readonly engine: DeliveryEngine,
  ) {}

  subscriptionRoutes(): Route[] {
    const broker = this.broker;
    return [
      route('POST', '/subscriptions', 'Emulator_EventGridPutSubscription', (req) =>
        this.putSubscription(req),
      ),
      route('GET', '/subscriptions', 'Emulator_EventGridListSubscriptions', (req) => ({
        status: 200,
        body: {
          value: broker.subscriptionsOf(this.topicFromQuery(req)).map((s) => this.subscriptionView(s)),
        },
      })),
      route('GET', '/subscriptions/:name', 'Emulator_EventGridGetSubscription', (req) => {
        const found = this.byName(req);
        if (found.length === 0)
          throw controlErrors.notFound(`Subscription ${req.params['name']} does not exist.`);
        if (found.length > 1)
          throw plain(
            409,
            'Ambiguous',
            `Several topics have a subscription named ${req.params['name']}: add ?registryName= or ?topicName=.`,
          );
        return { status: 200, body: this.subscriptionView(found[0]!) };
      }),
      route('DELETE', '/subscriptions/:name', 'Emulator_EventGridDeleteSubscription', (req) => {
        const found = this.byName(req);
        for (const sub of found) broker.deleteSubscription(sub);
        return found.length
          ? { status: 204 }
          : { status: 404, body: { code: 'NotFound', message: 'No such subscription.' } };
      }),
      route('GET', '/systemtopics', 'Emulator_EventGridListSystemTopics', () => ({
        status: 200,
        body: {
          value: Object.values(broker.st().systemTopics).map((t) => ({
            name: t.name,
            id: broker.systemTopicId(t),
            registryName: t.registryName,
            source: t.source,
            location: t.location,
            createdBy: t.createdBy,
          })),
        },
      })),
    ];
  }

  topicRoutes(): Route[] {
    const { broker, ctx } = this;
    return [
      route('POST', '/topics', 'Emulator_EventGridCreateTopic', (req) => {
        const body = objectBody(req);
        const input: Parameters<EventGridBroker['createCustomTopic']>[0] = {
          name: requiredString(body, 'name'),
        };
        if (body['inputSchema'] !== undefined) input.inputSchema = body['inputSchema'] as EventSchema;
        if (typeof body['resourceGroup'] === 'string') input.resourceGroup = body['resourceGroup'];
        if (typeof body['location'] === 'string') input.location = body['location'];
        const { topic, created } = asPlain(() => broker.createCustomTopic(input));
        return { status: created ? 201 : 200, body: this.topicView(topic.name) };
      }),
      route('GET', '/topics', 'Emulator_EventGridListTopics', () => ({
        status: 200,
        body: { value: Object.values(broker.st().customTopics).map((t) => this.topicView(t.name)) },
      })),
      route('GET', '/topics/:name', 'Emulator_EventGridGetTopic', (req) => ({
        status: 200,
        body: this.topicView(req.params['name'] ?? ''),
      })),
      route('DELETE', '/topics/:name', 'Emulator_EventGridDeleteTopic', (req) => ({
        status: broker.deleteCustomTopic(req.params['name'] ?? '') ? 204 : 404,
      })),
      route('GET', '/topics/:name/events', 'Emulator_EventGridListTopicEvents', (req) => {
        this.topicView(req.params['name'] ?? '');
        return { status: 200, body: { value: broker.st().received[lower(req.params['name'] ?? '')] ?? [] } };
      }),
      route('DELETE', '/topics/:name/events', 'Emulator_EventGridClearTopicEvents', (req) => {
        this.topicView(req.params['name'] ?? '');
        broker.st().received[lower(req.params['name'] ?? '')] = [];
        ctx.state.changed();
        return { status: 204 };
      }),
    ];
  }

  deliveryRoutes(): Route[] {
    const { broker, ctx, engine } = this;
    return [
      route('GET', '/deliveries', 'Emulator_EventGridListDeliveries', (req) => {
        const filter: { subscription?: string; eventId?: string; state?: string } = {};
        for (const key of ['subscription', 'eventId', 'state'] as const) {
          const value = req.query.get(key);
          if (value) filter[key] = value;
        }
        return { status: 200, body: { value: engine.list(filter) } };
      }),
      route('DELETE', '/deliveries', 'Emulator_EventGridClearDeliveries', () => {
        broker.st().history = [];
        ctx.state.changed();
        return { status: 204 };
      }),
      route('GET', '/deadletters', 'Emulator_EventGridListDeadLetters', (req) => {
        const subscription = req.query.get('subscription');
        const value = broker
          .st()
          .deadLetters.filter((d) => !subscription || lower(d.subscription) === lower(subscription));
        return { status: 200, body: { value } };
      }),
      route('DELETE', '/deadletters', 'Emulator_EventGridClearDeadLetters', () => {
        broker.st().deadLetters = [];
        ctx.state.changed();
        return { status: 204 };
      }),
    ];
  }

  faultRoutes(): Route[] {
    const faults = this.engine.faults;
    return [
      route('GET', '/faults', 'Emulator_EventGridListFaults', () => ({
        status: 200,
        body: { value: faults.list() },
      })),
      route('POST', '/faults', 'Emulator_EventGridAddFault', (req) => {
        try {
          return { status: 201, body: faults.add(objectBody(req) as unknown as DeliveryFaultSpec) };
        } catch (err) {
          if (err instanceof EmulatorHttpError) throw err;
          throw controlErrors.badRequest((err as Error).message);
        }
      }),
      route('DELETE', '/faults', 'Emulator_EventGridClearFaults', () => ({
        status: 200,
        body: { removed: faults.remove() },
      })),
      route('DELETE', '/faults/:id', 'Emulator_EventGridRemoveFault', (req) => ({
        status: faults.remove(req.params['id']) ? 204 : 404,
      })),
    ];
  }

  private async putSubscription(req: EmuRequest): Promise<EmuResponse> {
    const body = objectBody(req);
    const topic = this.topicOf(body);
    const spec: SubscriptionSpec = {
      name: requiredString(body, 'name'),
      topic,
      endpointUrl: requiredString(body, 'endpointUrl'),
      ...(body as Partial<SubscriptionSpec>),
    };
    spec.topic = topic;
    try {
      const { subscription, validated } = await this.broker.putSubscriptionValidated(spec);
      return { status: 200, body: { subscription: this.subscriptionView(subscription), validated } };
    } catch (err) {
      if (err instanceof EventGridRequestError) throw plain(err.status, err.code, err.message);
      throw err;
    }
  }

  /** The topic a subscription PUT names: a registry's system topic or an existing custom topic. */
  private topicOf(body: Record<string, unknown>): TopicRef {
    const registryName = body['registryName'];
    const topicName = body['topicName'];
    if (typeof registryName === 'string' && registryName) {
      const system = this.broker.systemTopicForRegistry(registryName, {
        ...(typeof body['resourceGroup'] === 'string' ? { resourceGroup: body['resourceGroup'] } : {}),
      });
      return { kind: 'system', name: system.name };
    }
    if (typeof topicName === 'string' && topicName) {
      if (!this.broker.st().customTopics[lower(topicName)])
        throw controlErrors.notFound(
          `Topic ${topicName} does not exist: create it with POST /_emulator/eventgrid/topics.`,
        );
      return { kind: 'custom', name: topicName };
    }
    throw controlErrors.badRequest(
      "Either 'registryName' (system topic) or 'topicName' (custom topic) is required.",
    );
  }

  private subscriptionView(sub: Subscription) {
    const identity = this.broker.topicIdentity(sub.topic);
    const system =
      sub.topic.kind === 'system' ? this.broker.st().systemTopics[lower(sub.topic.name)] : undefined;
    return {
      name: sub.name,
      topicType: sub.topic.kind,
      topicName: sub.topic.name,
      ...(system ? { registryName: system.registryName } : {}),
      topicId: identity?.topicId,
      // The URL carries the function's system key as `code=`: shown redacted, as everything the emulator prints
      // (ARM's own GET shows only `endpointBaseUrl`; armViews.ts).
      endpointUrl: redactSecrets(sub.endpointUrl),
      includedEventTypes: sub.includedEventTypes ?? null,
      subjectBeginsWith: sub.subjectBeginsWith ?? '',
      subjectEndsWith: sub.subjectEndsWith ?? '',
      isSubjectCaseSensitive: sub.isSubjectCaseSensitive,
      maxDeliveryAttempts: sub.maxDeliveryAttempts,
      eventTimeToLiveMinutes: sub.eventTimeToLiveMinutes,
      deliverySchema: sub.deliverySchema,
      provisioningState: sub.provisioningState,
      ...(sub.failureReason ? { failureReason: sub.failureReason } : {}),
      createdAt: sub.createdAt,
      updatedAt: sub.updatedAt,
    };
  }

  /** `?registryName=` / `?topicName=` narrowing, shared by list, get and delete. */
  private topicFromQuery(req: EmuRequest): TopicRef | undefined {
    const registryName = req.query.get('registryName');
    const topicName = req.query.get('topicName');
    if (registryName) {
      const topic = this.broker.findSystemTopicForRegistry(registryName);
      return { kind: 'system', name: topic?.name ?? `${registryName}-events` };
    }
    if (topicName) return { kind: 'custom', name: topicName };
    return undefined;
  }

  private byName(req: EmuRequest): Subscription[] {
    const name = lower(req.params['name'] ?? '');
    return this.broker.subscriptionsOf(this.topicFromQuery(req)).filter((s) => lower(s.name) === name);
  }

  private topicView(name: string) {
    const topic = this.broker.st().customTopics[lower(name)];
    if (!topic) throw controlErrors.notFound(`Topic ${name} does not exist.`);
    return {
      name: topic.name,
      id: this.broker.customTopicId(topic),
      endpoint: this.broker.customTopicEndpoint(topic.name),
      inputSchema: topic.inputSchema ?? null,
      key1: topic.key1,
      key2: topic.key2,
      createdAt: topic.createdAt,
    };
  }
}
