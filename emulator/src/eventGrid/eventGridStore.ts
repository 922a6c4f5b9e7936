/**
 * Event Grid's persisted state: topics, subscriptions, deliveries still to make, delivery history and dead
 * letters. Everything lives in one state slice so pending deliveries survive an emulator restart.
 */
import type { StateStore } from '../core/stateStore.js';

export type EventSchema = 'EventGridSchema' | 'CloudEventSchemaV1_0';

/** A system topic: ACR's events for one registry (Azure allows one system topic per source). */
export interface SystemTopic {
  name: string;
  resourceGroup: string;
  location: string;
  registryName: string;
  /** The registry's resource id: system events carry it as `topic`. */
  source: string;
  /** 'lazy' when the emulator created it on first use, 'arm' when created through ARM. */
  createdBy: 'lazy' | 'arm';
  tags: Record<string, string>;
  createdAt: string;
}

/** A custom topic the app publishes to (`EventGridPublisherClient`). */
export interface CustomTopic {
  name: string;
  resourceGroup: string;
  location: string;
  /** Omitted: the topic accepts both schemas (emulator leniency; Azure fixes one per topic). */
  inputSchema?: EventSchema;
  key1: string;
  key2: string;
  createdAt: string;
}

export interface TopicRef {
  kind: 'system' | 'custom';
  name: string;
}

export type ProvisioningState = 'Creating' | 'Succeeded' | 'Failed' | 'Deleting';

export interface Subscription {
  name: string;
  topic: TopicRef;
  endpointUrl: string;
  includedEventTypes?: string[];
  subjectBeginsWith?: string;
  subjectEndsWith?: string;
  isSubjectCaseSensitive: boolean;
  maxDeliveryAttempts: number;
  eventTimeToLiveMinutes: number;
  deliverySchema: EventSchema;
  provisioningState: ProvisioningState;
  /** Why the last validation failed (ARM shows the subscription as Failed with this reason). */
  failureReason?: string;
  labels: string[];
  createdAt: string;
  updatedAt: string;
}

export interface DeliveryAttempt {
  attempt: number;
  /** The `aeg-delivery-count` header sent (0 on the first attempt, as Azure). */
  deliveryCount: number;
  startedAt: string;
  durationMs: number;
  /** HTTP status, absent when no answer came (timeout, connection refused). */
  status?: number;
  outcome: DeliveryOutcome;
  error?: string;
}

export type DeliveryOutcome =
  | 'Delivered'
  | 'TimedOut'
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'RequestEntityTooLarge'
  | 'Busy'
  | 'GenericError';

export type DeliveryState = 'pending' | 'delivered' | 'deadLettered' | 'dropped';

/** One event on its way to one subscription (a duplicate fault makes several, one per `copy`). */
export interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  subject: string;
  topic: TopicRef;
  subscription: string;
  /** The event exactly as it is sent (Event Grid schema object or CloudEvent). */
  event: Record<string, unknown>;
  schema: EventSchema;
  /** When Event Grid accepted the event: the TTL counts from here. */
  publishedAt: string;
  state: DeliveryState;
  /** Epoch ms of the next attempt while pending. */
  nextAttemptAt?: number;
  attempts: DeliveryAttempt[];
  copy: number;
  /** Delivery faults that touched this delivery (duplicate, delay, reorder). */
  faults: string[];
  finishedAt?: string;
  reason?: string;
}

/** A dead-lettered event in the shape Azure writes to the dead-letter blob: the event plus these fields. */
export interface DeadLetter {
  event: Record<string, unknown>;
  subscription: string;
  topic: TopicRef;
  deliveryId: string;
  deadLetterReason: string;
  deliveryAttempts: number;
  lastDeliveryOutcome: DeliveryOutcome;
  lastHttpStatusCode: number;
  publishTime: string;
  lastDeliveryAttemptTime: string;
}

export interface ReceivedEvent {
  receivedAt: string;
  schema: EventSchema;
  event: Record<string, unknown>;
}

export interface EventGridState {
  systemTopics: Record<string, SystemTopic>;
  customTopics: Record<string, CustomTopic>;
  /** Keyed by `subscriptionKey(topic, name)`. */
  subscriptions: Record<string, Subscription>;
  pending: Record<string, Delivery>;
  history: Delivery[];
  deadLetters: DeadLetter[];
  /** Events published to custom topics, per topic (lower-case name), newest last. */
  received: Record<string, ReceivedEvent[]>;
}

/** How many finished deliveries, dead letters and received events per topic are kept. */
export const HISTORY_LIMIT = 1000;

export function emptyState(): EventGridState {
  return {
    systemTopics: {},
    customTopics: {},
    subscriptions: {},
    pending: {},
    history: [],
    deadLetters: [],
    received: {},
  };
}

export const lower = (s: string) => s.toLowerCase();

export function subscriptionKey(topic: TopicRef, name: string): string {
  return `${topic.kind}:${lower(topic.name)}/${lower(name)}`;
}

export function pushCapped<T>(list: T[], item: T, limit = HISTORY_LIMIT): void {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}

/** The slice is fetched on every use: a control-API reset replaces the whole state document. */
export function eventGridState(state: StateStore): EventGridState {
  const st = state.slice('eventGrid', emptyState);
  // Older state files may lack newer collections.
  const defaults = emptyState();
  for (const key of Object.keys(defaults) as (keyof EventGridState)[]) {
    if (st[key] === undefined) (st as unknown as Record<string, unknown>)[key] = defaults[key];
  }
  return st;
}
