/**
 * Event shapes: ACR system events in the Event Grid schema, CloudEvents 1.0, conversions between them, the
 * checks Event Grid applies to published events, and subscription filters.
 */
import crypto from 'node:crypto';
import type { RegistryEvent } from '../core/context.js';
import type { EventSchema, Subscription } from './eventGridStore.js';

/** ISO time with 7 fractional digits, as Event Grid writes `eventTime` (`2026-11-21T10:00:00.1234567Z`). */
export function eventTime(date = new Date()): string {
  const subMs = String(process.hrtime()[1] % 10_000).padStart(4, '0');
  return date.toISOString().replace(/\.(\d{3})Z$/, `.$1${subMs}Z`);
}

/** ACR's event in the Event Grid schema; `topic` is the registry's resource id, as for every system event. */
export function registryEventToEventGrid(event: RegistryEvent): Record<string, unknown> {
  const data: Record<string, unknown> = { ...event.data };
  // dataVersion 2.0 of ACR's events carries the registry's location.
  if (data['location'] === undefined) data['location'] = event.location;
  return {
    id: crypto.randomUUID(),
    topic: event.registryResourceId,
    subject: event.subject,
    eventType: event.eventType,
    eventTime: eventTime(),
    data,
    dataVersion: '2.0',
    metadataVersion: '1',
  };
}

/** An Event Grid schema event as Event Grid delivers it to a CloudEvents subscription. */
export function eventGridToCloudEvent(event: Record<string, unknown>): Record<string, unknown> {
  return {
    id: event['id'],
    source: event['topic'],
    specversion: '1.0',
    type: event['eventType'],
    subject: event['subject'],
    time: event['eventTime'],
    data: event['data'],
  };
}

/**
 * A CloudEvent as an Event Grid schema event. Azure refuses this combination (a CloudEvents topic delivers only
 * CloudEvents); the emulator needs it only for topics created without an input schema.
 */
export function cloudEventToEventGrid(
  event: Record<string, unknown>,
  topicId: string,
): Record<string, unknown> {
  return {
    id: event['id'],
    topic: topicId,
    subject: typeof event['subject'] === 'string' ? event['subject'] : '',
    eventType: event['type'],
    eventTime: typeof event['time'] === 'string' ? event['time'] : eventTime(),
    data: event['data'] ?? event['data_base64'],
    dataVersion: '',
    metadataVersion: '1',
  };
}

export function eventIdentity(
  event: Record<string, unknown>,
  schema: EventSchema,
): { id: string; type: string; subject: string } {
  if (schema === 'CloudEventSchemaV1_0') {
    return {
      id: String(event['id'] ?? ''),
      type: String(event['type'] ?? ''),
      subject: typeof event['subject'] === 'string' ? event['subject'] : '',
    };
  }
  return {
    id: String(event['id'] ?? ''),
    type: String(event['eventType'] ?? ''),
    subject: String(event['subject'] ?? ''),
  };
}

/** The event in the subscription's delivery schema. */
export function toDeliverySchema(
  event: Record<string, unknown>,
  from: EventSchema,
  to: EventSchema,
  topicId: string,
): Record<string, unknown> {
  if (from === to) return event;
  return to === 'CloudEventSchemaV1_0' ? eventGridToCloudEvent(event) : cloudEventToEventGrid(event, topicId);
}

/**
 * Subscription filters as Event Grid applies them: event types match case-insensitively; subject prefix and
 * suffix match case-insensitively unless `isSubjectCaseSensitive`.
 */
export function matchesFilter(sub: Subscription, eventType: string, subject: string): boolean {
  if (sub.includedEventTypes && sub.includedEventTypes.length > 0) {
    const wanted = eventType.toLowerCase();
    if (!sub.includedEventTypes.some((t) => t.toLowerCase() === wanted)) return false;
  }
  const norm = (s: string) => (sub.isSubjectCaseSensitive ? s : s.toLowerCase());
  if (sub.subjectBeginsWith && !norm(subject).startsWith(norm(sub.subjectBeginsWith))) return false;
  if (sub.subjectEndsWith && !norm(subject).endsWith(norm(sub.subjectEndsWith))) return false;
  return true;
}

/** Checks Event Grid makes on an Event Grid schema event published to a topic; returns the problem or undefined. */
export function eventGridEventProblem(event: unknown, topicId: string): string | undefined {
  if (!event || typeof event !== 'object' || Array.isArray(event)) return 'Each event must be a JSON object.';
  const e = event as Record<string, unknown>;
  for (const key of ['id', 'subject', 'eventType', 'eventTime'] as const) {
    if (typeof e[key] !== 'string' || e[key] === '') return `The event's '${key}' property is required.`;
  }
  if (Number.isNaN(Date.parse(String(e['eventTime'])))) return `The event's 'eventTime' is not a valid time.`;
  if (e['topic'] !== undefined && String(e['topic']).toLowerCase() !== topicId.toLowerCase()) {
    return `The event's 'topic' property, if present, must be the topic's resource id '${topicId}'.`;
  }
  if (e['dataVersion'] !== undefined && typeof e['dataVersion'] !== 'string')
    return `The event's 'dataVersion' must be a string.`;
  return undefined;
}

/** Checks Event Grid makes on a CloudEvent published to a topic. */
export function cloudEventProblem(event: unknown): string | undefined {
  if (!event || typeof event !== 'object' || Array.isArray(event)) return 'Each event must be a JSON object.';
  const e = event as Record<string, unknown>;
  for (const key of ['id', 'source', 'type', 'specversion'] as const) {
    if (typeof e[key] !== 'string' || e[key] === '') return `Required attribute '${key}' is missing.`;
  }
  if (e['specversion'] !== '1.0') return `Unsupported specversion '${String(e['specversion'])}': use 1.0.`;
  if (e['time'] !== undefined && Number.isNaN(Date.parse(String(e['time']))))
    return `Attribute 'time' is not a valid RFC 3339 time.`;
  return undefined;
}
