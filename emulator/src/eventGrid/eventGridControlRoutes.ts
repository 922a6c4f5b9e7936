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
import crypto from 'node:crypto';
import type { EmulatorContext, RegistryEvent } from '../core/context.js';
import { EmulatorHttpError } from '../core/errors.js';
import type { EmuRequest, Route } from '../core/router.js';
import type { DeliveryEngine } from './deliveryEngine.js';
import type { DeliveryFaultSpec } from './deliveryFaults.js';
import {
  DEFAULT_LOCATION,
  DEFAULT_REGISTRY_RESOURCE_GROUP,
  EventGridRequestError,
  type EventGridBroker,
  type SubscriptionSpec,
} from './eventGridBroker.js';
import { lower, type EventSchema, type Subscription, type TopicRef } from './eventGridStore.js';

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

function objectBody(req: EmuRequest): Record<string, unknown> {
  if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body))
    throw plain(400, 'BadRequest', 'The body must be a JSON object.');
  return req.body as Record<string, unknown>;
}

function requiredString(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '') throw plain(400, 'BadRequest', `'${key}' is required.`);
  return value;
}

/** 9 fractional digits, as the registry writes `data.timestamp`. */
function registryTimestamp(): string {
  const nanos = String(process.hrtime()[1] % 1_000_000).padStart(6, '0');
  return new Date().toISOString().replace(/\.(\d{3})Z$/, `.$1${nanos}Z`);
}

export function eventGridControlRoutes(
  ctx: EmulatorContext,
  broker: EventGridBroker,
  engine: DeliveryEngine,
): Route[] {
  const subscriptionView = (sub: Subscription) => {
    const identity = broker.topicIdentity(sub.topic);
    const system = sub.topic.kind === 'system' ? broker.st().systemTopics[lower(sub.topic.name)] : undefined;
    return {
      name: sub.name,
      topicType: sub.topic.kind,
      topicName: sub.topic.name,
      ...(system ? { registryName: system.registryName } : {}),
      topicId: identity?.topicId,
      endpointUrl: sub.endpointUrl,
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
  };

  /** `?registryName=` / `?topicName=` narrowing, shared by list, get and delete. */
  const topicFromQuery = (req: EmuRequest): TopicRef | undefined => {
    const registryName = req.query.get('registryName');
    const topicName = req.query.get('topicName');
    if (registryName) {
      const topic = broker.findSystemTopicForRegistry(registryName);
      return { kind: 'system', name: topic?.name ?? `${registryName}-events` };
    }
    if (topicName) return { kind: 'custom', name: topicName };
    return undefined;
  };

  const byName = (req: EmuRequest): Subscription[] => {
    const name = lower(req.params['name'] ?? '');
    return broker.subscriptionsOf(topicFromQuery(req)).filter((s) => lower(s.name) === name);
  };

  const topicView = (name: string) => {
    const topic = broker.st().customTopics[lower(name)];
    if (!topic) throw plain(404, 'NotFound', `Topic ${name} does not exist.`);
    return {
      name: topic.name,
      id: broker.customTopicId(topic),
      endpoint: broker.customTopicEndpoint(topic.name),
      inputSchema: topic.inputSchema ?? null,
      key1: topic.key1,
      key2: topic.key2,
      createdAt: topic.createdAt,
    };
  };

  const route = (method: string, pattern: string, operation: string, handler: Route['handler']): Route => ({
    method,
    pattern: `/_emulator/eventgrid${pattern}`,
    auth: 'none',
    operation,
    handler,
  });

  return [
    route('POST', '/subscriptions', 'Emulator_EventGridPutSubscription', async (req) => {
      const body = objectBody(req);
      const registryName = body['registryName'];
      const topicName = body['topicName'];
      let topic: TopicRef;
      if (typeof registryName === 'string' && registryName) {
        const system = broker.systemTopicForRegistry(registryName, {
          ...(typeof body['resourceGroup'] === 'string' ? { resourceGroup: body['resourceGroup'] } : {}),
        });
        topic = { kind: 'system', name: system.name };
      } else if (typeof topicName === 'string' && topicName) {
        if (!broker.st().customTopics[lower(topicName)])
          throw plain(
            404,
            'NotFound',
            `Topic ${topicName} does not exist: create it with POST /_emulator/eventgrid/topics.`,
          );
        topic = { kind: 'custom', name: topicName };
      } else {
        throw plain(
          400,
          'BadRequest',
          "Either 'registryName' (system topic) or 'topicName' (custom topic) is required.",
        );
      }
      const spec: SubscriptionSpec = {
        name: requiredString(body, 'name'),
        topic,
        endpointUrl: requiredString(body, 'endpointUrl'),
        ...(body as Partial<SubscriptionSpec>),
      };
      spec.topic = topic;
      try {
        const { subscription, validated } = await broker.putSubscriptionValidated(spec);
        return { status: 200, body: { subscription: subscriptionView(subscription), validated } };
      } catch (err) {
        if (err instanceof EventGridRequestError) throw plain(err.status, err.code, err.message);
        throw err;
      }
    }),
    route('GET', '/subscriptions', 'Emulator_EventGridListSubscriptions', (req) => ({
      status: 200,
      body: { value: broker.subscriptionsOf(topicFromQuery(req)).map(subscriptionView) },
    })),
    route('GET', '/subscriptions/:name', 'Emulator_EventGridGetSubscription', (req) => {
      const found = byName(req);
      if (found.length === 0)
        throw plain(404, 'NotFound', `Subscription ${req.params['name']} does not exist.`);
      if (found.length > 1)
        throw plain(
          409,
          'Ambiguous',
          `Several topics have a subscription named ${req.params['name']}: add ?registryName= or ?topicName=.`,
        );
      return { status: 200, body: subscriptionView(found[0]!) };
    }),
    route('DELETE', '/subscriptions/:name', 'Emulator_EventGridDeleteSubscription', (req) => {
      const found = byName(req);
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
    route('POST', '/topics', 'Emulator_EventGridCreateTopic', (req) => {
      const body = objectBody(req);
      const input: Parameters<EventGridBroker['createCustomTopic']>[0] = {
        name: requiredString(body, 'name'),
      };
      if (body['inputSchema'] !== undefined) input.inputSchema = body['inputSchema'] as EventSchema;
      if (typeof body['resourceGroup'] === 'string') input.resourceGroup = body['resourceGroup'];
      if (typeof body['location'] === 'string') input.location = body['location'];
      const { topic, created } = asPlain(() => broker.createCustomTopic(input));
      return { status: created ? 201 : 200, body: topicView(topic.name) };
    }),
    route('GET', '/topics', 'Emulator_EventGridListTopics', () => ({
      status: 200,
      body: { value: Object.values(broker.st().customTopics).map((t) => topicView(t.name)) },
    })),
    route('GET', '/topics/:name', 'Emulator_EventGridGetTopic', (req) => ({
      status: 200,
      body: topicView(req.params['name'] ?? ''),
    })),
    route('DELETE', '/topics/:name', 'Emulator_EventGridDeleteTopic', (req) => ({
      status: broker.deleteCustomTopic(req.params['name'] ?? '') ? 204 : 404,
    })),
    route('GET', '/topics/:name/events', 'Emulator_EventGridListTopicEvents', (req) => {
      topicView(req.params['name'] ?? '');
      return { status: 200, body: { value: broker.st().received[lower(req.params['name'] ?? '')] ?? [] } };
    }),
    route('DELETE', '/topics/:name/events', 'Emulator_EventGridClearTopicEvents', (req) => {
      topicView(req.params['name'] ?? '');
      broker.st().received[lower(req.params['name'] ?? '')] = [];
      ctx.state.changed();
      return { status: 204 };
    }),
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
    route('GET', '/faults', 'Emulator_EventGridListFaults', () => ({
      status: 200,
      body: { value: engine.faults.list() },
    })),
    route('POST', '/faults', 'Emulator_EventGridAddFault', (req) => {
      try {
        return { status: 201, body: engine.faults.add(objectBody(req) as unknown as DeliveryFaultSpec) };
      } catch (err) {
        if (err instanceof EmulatorHttpError) throw err;
        throw plain(400, 'BadRequest', (err as Error).message);
      }
    }),
    route('DELETE', '/faults', 'Emulator_EventGridClearFaults', () => ({
      status: 200,
      body: { removed: engine.faults.remove() },
    })),
    route('DELETE', '/faults/:id', 'Emulator_EventGridRemoveFault', (req) => ({
      status: engine.faults.remove(req.params['id']) ? 204 : 404,
    })),
    route('POST', '/registries/:registryName/events', 'Emulator_EventGridRaiseRegistryEvent', (req) => {
      const body = objectBody(req);
      const registryName = req.params['registryName'] ?? '';
      const repository = requiredString(body, 'repository');
      const rawType = typeof body['eventType'] === 'string' ? body['eventType'] : 'ImagePushed';
      const short = rawType.replace(/^Microsoft\.ContainerRegistry\./i, '');
      if (!/^Image(Pushed|Deleted)$/i.test(short))
        throw plain(
          400,
          'BadRequest',
          'eventType must be Microsoft.ContainerRegistry.ImagePushed or ImageDeleted.',
        );
      const pushed = /^ImagePushed$/i.test(short);
      const tag = typeof body['tag'] === 'string' ? body['tag'] : pushed ? 'latest' : undefined;
      const digest =
        typeof body['digest'] === 'string'
          ? body['digest']
          : `sha256:${crypto.createHash('sha256').update(crypto.randomUUID()).digest('hex')}`;
      const known = broker.findSystemTopicForRegistry(registryName);
      const resourceGroup =
        typeof body['resourceGroup'] === 'string'
          ? body['resourceGroup']
          : (known?.resourceGroup ?? DEFAULT_REGISTRY_RESOURCE_GROUP);
      const location =
        typeof body['location'] === 'string' ? body['location'] : (known?.location ?? DEFAULT_LOCATION);
      const loginServer = `${registryName.toLowerCase()}.azurecr.io`;
      const mediaType = 'application/vnd.docker.distribution.manifest.v2+json';
      const event: RegistryEvent = {
        registryName,
        registryResourceId: known?.source ?? broker.registryResourceId(resourceGroup, registryName),
        loginServer,
        location,
        eventType: pushed
          ? 'Microsoft.ContainerRegistry.ImagePushed'
          : 'Microsoft.ContainerRegistry.ImageDeleted',
        subject: pushed ? `${repository}:${tag}` : repository,
        data: {
          id: crypto.randomUUID(),
          timestamp: registryTimestamp(),
          action: pushed ? 'push' : 'delete',
          location,
          target: pushed
            ? { mediaType, size: 3023, digest, length: 3023, repository, tag }
            : { mediaType, digest, repository },
          request: {
            id: crypto.randomUUID(),
            host: loginServer,
            method: pushed ? 'PUT' : 'DELETE',
            useragent: 'docker/27.0.3 go/go1.22.5 os/linux arch/amd64',
          },
        },
      };
      ctx.bus.emit('registryEvent', event);
      return {
        status: 202,
        body: { registryName, eventType: event.eventType, subject: event.subject, repository, tag, digest },
      };
    }),
  ];
}
