/**
 * Event Grid's model: system topics (one per registry, created lazily as `{registry}-events`), custom topics,
 * webhook subscriptions (created only after the validation handshake) and the entry points that hand events to
 * the delivery engine. The control API and the ARM routes both go through here.
 */
import crypto from 'node:crypto';
import type { EmulatorContext, RegistryEvent } from '../core/context.js';
import type { DeliveryEngine } from './deliveryEngine.js';
import {
  eventGridState,
  lower,
  pushCapped,
  subscriptionKey,
  type CustomTopic,
  type EventGridState,
  type EventSchema,
  type Subscription,
  type SystemTopic,
  type TopicRef,
} from './eventGridStore.js';
import { registryEventToEventGrid } from './eventSchemas.js';
import type { SubscriptionValidator, ValidationResult } from './subscriptionValidation.js';

/** The seed's registries live here; used when a subscription names a registry the emulator has seen no event of. */
export const DEFAULT_REGISTRY_RESOURCE_GROUP = 'rg-platform';
export const DEFAULT_LOCATION = 'westeurope';
export const SCHEMAS: readonly EventSchema[] = ['EventGridSchema', 'CloudEventSchemaV1_0'];

/** A problem with what the caller asked for; routes render it in their own error format. */
export class EventGridRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new EventGridRequestError(400, 'InvalidRequest', message);

export interface SubscriptionSpec {
  name: string;
  topic: TopicRef;
  endpointUrl: string;
  includedEventTypes?: string[];
  subjectBeginsWith?: string;
  subjectEndsWith?: string;
  isSubjectCaseSensitive?: boolean;
  maxDeliveryAttempts?: number;
  eventTimeToLiveMinutes?: number;
  deliverySchema?: EventSchema;
  labels?: string[];
}

const REGISTRY_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)$/i;

export function parseRegistryId(
  id: string,
): { subscriptionId: string; resourceGroup: string; name: string } | undefined {
  const m = REGISTRY_ID.exec(id);
  return m ? { subscriptionId: m[1]!, resourceGroup: m[2]!, name: m[3]! } : undefined;
}

export class EventGridBroker {
  constructor(
    private readonly ctx: EmulatorContext,
    private readonly engine: DeliveryEngine,
    private readonly validator: SubscriptionValidator,
  ) {}

  st(): EventGridState {
    return eventGridState(this.ctx.state);
  }

  registryResourceId(resourceGroup: string, registryName: string): string {
    return `/subscriptions/${this.ctx.options.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ContainerRegistry/registries/${registryName}`;
  }

  systemTopicId(topic: SystemTopic): string {
    return `/subscriptions/${this.ctx.options.subscriptionId}/resourceGroups/${topic.resourceGroup}/providers/Microsoft.EventGrid/systemTopics/${topic.name}`;
  }

  customTopicId(topic: CustomTopic): string {
    return `/subscriptions/${this.ctx.options.subscriptionId}/resourceGroups/${topic.resourceGroup}/providers/Microsoft.EventGrid/topics/${topic.name}`;
  }

  customTopicEndpoint(name: string): string {
    return `${this.ctx.url}/eventgrid/topics/${name}/api/events`;
  }

  /** The id events of this topic are stamped with (system events: the source resource). */
  topicIdentity(ref: TopicRef): { topicId: string; eventTopic: string } | undefined {
    if (ref.kind === 'system') {
      const t = this.st().systemTopics[lower(ref.name)];
      return t && { topicId: this.systemTopicId(t), eventTopic: t.source };
    }
    const t = this.st().customTopics[lower(ref.name)];
    return t && { topicId: this.customTopicId(t), eventTopic: this.customTopicId(t) };
  }

  findSystemTopicForRegistry(registryName: string): SystemTopic | undefined {
    return Object.values(this.st().systemTopics).find((t) => lower(t.registryName) === lower(registryName));
  }

  /** The registry's system topic, created as `{registry}-events` the first time the registry is seen. */
  systemTopicForRegistry(
    registryName: string,
    hint: { resourceId?: string; resourceGroup?: string; location?: string } = {},
  ): SystemTopic {
    const st = this.st();
    const parsed = hint.resourceId ? parseRegistryId(hint.resourceId) : undefined;
    const existing = this.findSystemTopicForRegistry(registryName);
    if (existing) {
      // A lazily created topic learns the registry's real resource group from its first event.
      if (existing.createdBy === 'lazy' && parsed && lower(existing.source) !== lower(hint.resourceId!)) {
        existing.source = hint.resourceId!;
        existing.resourceGroup = parsed.resourceGroup;
        this.ctx.state.changed();
      }
      return existing;
    }
    const resourceGroup = parsed?.resourceGroup ?? hint.resourceGroup ?? DEFAULT_REGISTRY_RESOURCE_GROUP;
    const topic: SystemTopic = {
      name: `${registryName}-events`,
      resourceGroup,
      location: hint.location ?? DEFAULT_LOCATION,
      registryName,
      source: hint.resourceId ?? this.registryResourceId(resourceGroup, registryName),
      createdBy: 'lazy',
      tags: {},
      createdAt: new Date().toISOString(),
    };
    st.systemTopics[lower(topic.name)] = topic;
    this.ctx.state.changed();
    this.ctx.log(`event grid: system topic ${topic.name} created for registry ${registryName}`);
    return topic;
  }

  /**
   * ARM PUT of a system topic. Azure allows one system topic per source: a lazily created one for the same registry
   * is replaced (its subscriptions move over); one created through ARM is a conflict.
   */
  putSystemTopic(input: {
    name: string;
    resourceGroup: string;
    location: string;
    source: string;
    tags: Record<string, string>;
  }): { topic: SystemTopic; created: boolean } {
    const parsed = parseRegistryId(input.source);
    if (!parsed) throw invalid(`The source '${input.source}' is not a container registry resource id.`);
    const st = this.st();
    const current = st.systemTopics[lower(input.name)];
    if (current && lower(current.source) !== lower(input.source))
      throw invalid(`The source of system topic ${input.name} cannot be changed.`);
    const other = this.findSystemTopicForRegistry(parsed.name);
    if (other && lower(other.name) !== lower(input.name)) {
      if (other.createdBy !== 'lazy')
        throw invalid(
          `Only one system topic is allowed per source. System topic ${other.name} already exists for source ${other.source}.`,
        );
      this.moveSubscriptions(other.name, input.name);
      delete st.systemTopics[lower(other.name)];
    }
    const topic: SystemTopic = {
      name: current?.name ?? input.name,
      resourceGroup: input.resourceGroup,
      location: input.location,
      registryName: parsed.name,
      source: input.source,
      createdBy: 'arm',
      tags: input.tags,
      createdAt: current?.createdAt ?? new Date().toISOString(),
    };
    st.systemTopics[lower(topic.name)] = topic;
    this.ctx.state.changed();
    return { topic, created: !current };
  }

  private moveSubscriptions(fromTopic: string, toTopic: string): void {
    const st = this.st();
    for (const [key, sub] of Object.entries(st.subscriptions)) {
      if (sub.topic.kind !== 'system' || lower(sub.topic.name) !== lower(fromTopic)) continue;
      delete st.subscriptions[key];
      sub.topic = { kind: 'system', name: toTopic };
      st.subscriptions[subscriptionKey(sub.topic, sub.name)] = sub;
    }
  }

  deleteSystemTopic(name: string): boolean {
    const st = this.st();
    const topic = st.systemTopics[lower(name)];
    if (!topic) return false;
    for (const sub of this.subscriptionsOf({ kind: 'system', name: topic.name }))
      this.deleteSubscription(sub);
    delete st.systemTopics[lower(name)];
    this.ctx.state.changed();
    return true;
  }

  createCustomTopic(input: {
    name: string;
    inputSchema?: EventSchema;
    resourceGroup?: string;
    location?: string;
  }): { topic: CustomTopic; created: boolean } {
    if (!/^[A-Za-z0-9-]{3,50}$/.test(input.name))
      throw invalid('Topic names are 3-50 characters: letters, digits and hyphens.');
    if (input.inputSchema !== undefined && !SCHEMAS.includes(input.inputSchema))
      throw invalid(`inputSchema must be one of ${SCHEMAS.join(', ')}.`);
    const st = this.st();
    const existing = st.customTopics[lower(input.name)];
    if (existing) {
      if (input.inputSchema && existing.inputSchema !== input.inputSchema) {
        existing.inputSchema = input.inputSchema;
        this.ctx.state.changed();
      }
      return { topic: existing, created: false };
    }
    const key = () => crypto.randomBytes(32).toString('base64');
    const topic: CustomTopic = {
      name: input.name,
      resourceGroup: input.resourceGroup ?? DEFAULT_REGISTRY_RESOURCE_GROUP,
      location: input.location ?? DEFAULT_LOCATION,
      ...(input.inputSchema ? { inputSchema: input.inputSchema } : {}),
      key1: key(),
      key2: key(),
      createdAt: new Date().toISOString(),
    };
    st.customTopics[lower(topic.name)] = topic;
    this.ctx.state.changed();
    return { topic, created: true };
  }

  deleteCustomTopic(name: string): boolean {
    const st = this.st();
    const topic = st.customTopics[lower(name)];
    if (!topic) return false;
    for (const sub of this.subscriptionsOf({ kind: 'custom', name: topic.name }))
      this.deleteSubscription(sub);
    delete st.customTopics[lower(name)];
    delete st.received[lower(name)];
    this.ctx.state.changed();
    return true;
  }

  subscriptionsOf(topic?: TopicRef): Subscription[] {
    return Object.values(this.st().subscriptions).filter(
      (s) => !topic || (s.topic.kind === topic.kind && lower(s.topic.name) === lower(topic.name)),
    );
  }

  getSubscription(topic: TopicRef, name: string): Subscription | undefined {
    return this.st().subscriptions[subscriptionKey(topic, name)];
  }

  deleteSubscription(sub: Subscription): void {
    this.engine.dropSubscription(sub);
    delete this.st().subscriptions[subscriptionKey(sub.topic, sub.name)];
    this.ctx.state.changed();
  }

  /** Checks a subscription spec and fills Azure's defaults. */
  normalise(spec: SubscriptionSpec, existing?: Subscription): Subscription {
    if (!/^[A-Za-z0-9-]{3,64}$/.test(spec.name ?? ''))
      throw invalid('Event subscription names are 3-64 characters: letters, digits and hyphens.');
    let endpoint: URL;
    try {
      endpoint = new URL(spec.endpointUrl);
    } catch {
      throw invalid(`endpointUrl '${String(spec.endpointUrl)}' is not an absolute URL.`);
    }
    // Azure requires https; the local functions host speaks http, so the emulator takes both.
    if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:')
      throw invalid('endpointUrl must be an http or https URL.');
    const stringList = (value: unknown, name: string): string[] | undefined => {
      if (value === undefined || value === null) return undefined;
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
        throw invalid(`${name} must be an array of strings.`);
      return value as string[];
    };
    const optionalString = (value: unknown, name: string): string | undefined => {
      if (value === undefined || value === null || value === '') return undefined;
      if (typeof value !== 'string') throw invalid(`${name} must be a string.`);
      return value;
    };
    const bounded = (value: unknown, name: string, min: number, max: number, fallback: number): number => {
      if (value === undefined || value === null) return fallback;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
        throw invalid(`${name} must be an integer from ${min} to ${max}.`);
      return value;
    };
    const topicInfo =
      spec.topic.kind === 'custom' ? this.st().customTopics[lower(spec.topic.name)] : undefined;
    const defaultSchema: EventSchema = topicInfo?.inputSchema ?? 'EventGridSchema';
    const deliverySchema = spec.deliverySchema ?? defaultSchema;
    if (!SCHEMAS.includes(deliverySchema))
      throw invalid(`deliverySchema must be one of ${SCHEMAS.join(', ')}.`);
    if (topicInfo?.inputSchema === 'CloudEventSchemaV1_0' && deliverySchema !== 'CloudEventSchemaV1_0')
      throw invalid('A topic whose input schema is CloudEventSchemaV1_0 delivers only CloudEventSchemaV1_0.');
    const now = new Date().toISOString();
    const includedEventTypes = stringList(spec.includedEventTypes, 'includedEventTypes');
    const subjectBeginsWith = optionalString(spec.subjectBeginsWith, 'subjectBeginsWith');
    const subjectEndsWith = optionalString(spec.subjectEndsWith, 'subjectEndsWith');
    return {
      name: existing?.name ?? spec.name,
      topic: { ...spec.topic },
      endpointUrl: spec.endpointUrl,
      ...(includedEventTypes && includedEventTypes.length > 0 ? { includedEventTypes } : {}),
      ...(subjectBeginsWith ? { subjectBeginsWith } : {}),
      ...(subjectEndsWith ? { subjectEndsWith } : {}),
      isSubjectCaseSensitive: spec.isSubjectCaseSensitive === true,
      maxDeliveryAttempts: bounded(spec.maxDeliveryAttempts, 'maxDeliveryAttempts', 1, 30, 30),
      eventTimeToLiveMinutes: bounded(spec.eventTimeToLiveMinutes, 'eventTimeToLiveMinutes', 1, 1440, 1440),
      deliverySchema,
      provisioningState: 'Creating',
      labels: stringList(spec.labels, 'labels') ?? [],
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
  }

  /** Azure validates the endpoint on create and whenever it changes; other updates apply directly. */
  needsValidation(next: Subscription, existing: Subscription | undefined): boolean {
    return (
      !existing ||
      existing.provisioningState !== 'Succeeded' ||
      existing.endpointUrl !== next.endpointUrl ||
      existing.deliverySchema !== next.deliverySchema
    );
  }

  async validate(sub: Subscription): Promise<ValidationResult> {
    const identity = this.topicIdentity(sub.topic);
    return this.validator.validate({
      subscriptionName: sub.name,
      endpointUrl: sub.endpointUrl,
      schema: sub.deliverySchema,
      topicId: identity?.topicId ?? '',
    });
  }

  /**
   * Control-API create/replace: the handshake runs first and only a validated subscription is stored (a failed
   * replace leaves the previous subscription as it was).
   */
  async putSubscriptionValidated(
    spec: SubscriptionSpec,
  ): Promise<{ subscription: Subscription; created: boolean; validated: boolean }> {
    const existing = this.getSubscription(spec.topic, spec.name);
    const next = this.normalise(spec, existing);
    const validate = this.needsValidation(next, existing);
    if (validate) {
      const result = await this.validate(next);
      if (!result.ok) throw new EventGridRequestError(400, 'Url validation', result.reason);
    }
    next.provisioningState = 'Succeeded';
    this.st().subscriptions[subscriptionKey(next.topic, next.name)] = next;
    this.ctx.state.changed();
    // As Azure's GET does, leave the query string (it carries the function's system key) out of the log.
    const endpoint = new URL(next.endpointUrl);
    this.ctx.log(
      `event grid: subscription ${next.name} on ${next.topic.name} -> ${endpoint.origin}${endpoint.pathname}` +
        (endpoint.search ? ' (query string not shown)' : ''),
    );
    return { subscription: next, created: !existing, validated: validate };
  }

  /**
   * ARM create/update: stored at once as Creating while the handshake runs; it ends Succeeded or Failed (kept, as
   * Azure keeps a failed event subscription until it is fixed or deleted).
   */
  putSubscriptionAsync(spec: SubscriptionSpec): {
    subscription: Subscription;
    created: boolean;
    done?: Promise<ValidationResult>;
  } {
    const existing = this.getSubscription(spec.topic, spec.name);
    const next = this.normalise(spec, existing);
    const key = subscriptionKey(next.topic, next.name);
    const st = this.st();
    if (!this.needsValidation(next, existing)) {
      next.provisioningState = 'Succeeded';
      st.subscriptions[key] = next;
      this.ctx.state.changed();
      return { subscription: next, created: false };
    }
    st.subscriptions[key] = next;
    this.ctx.state.changed();
    const done = this.validate(next).then((result) => {
      const current = this.st().subscriptions[key];
      if (current !== next) return result;
      next.provisioningState = result.ok ? 'Succeeded' : 'Failed';
      if (result.ok) delete next.failureReason;
      else next.failureReason = result.reason;
      this.ctx.state.changed();
      return result;
    });
    return { subscription: next, created: !existing, done };
  }

  /** A registry event from the bus (a push or delete): Event Grid schema, to the registry's system topic. */
  publishRegistryEvent(event: RegistryEvent): void {
    const topic = this.systemTopicForRegistry(event.registryName, {
      resourceId: event.registryResourceId,
      location: event.location,
    });
    const egEvent = registryEventToEventGrid(event);
    this.engine.enqueue({
      event: egEvent,
      schema: 'EventGridSchema',
      topic: { kind: 'system', name: topic.name },
      topicId: topic.source,
    });
  }

  /** Events accepted by a custom topic: kept for inspection and fanned out to the topic's subscriptions. */
  acceptCustomEvents(topic: CustomTopic, schema: EventSchema, events: Record<string, unknown>[]): void {
    const st = this.st();
    const list = (st.received[lower(topic.name)] ??= []);
    const receivedAt = new Date().toISOString();
    for (const event of events) {
      pushCapped(list, { receivedAt, schema, event }, 1000);
      this.engine.enqueue({
        event,
        schema,
        topic: { kind: 'custom', name: topic.name },
        topicId: this.customTopicId(topic),
      });
    }
    this.ctx.state.changed();
  }

  /** On start: a validation cut short by a restart cannot finish; mark it failed as Azure would time it out. */
  failInterruptedValidations(): void {
    for (const sub of Object.values(this.st().subscriptions)) {
      if (sub.provisioningState !== 'Creating') continue;
      sub.provisioningState = 'Failed';
      sub.failureReason = 'The endpoint validation was interrupted by an emulator restart.';
      this.ctx.state.changed();
    }
  }
}
