/**
 * Turns one incoming event (Event Grid schema or CloudEvents 1.0) into what the domain needs, or says why not.
 * Never throws: anything unexpected is `malformed` with a reason, so the binding can log it and answer 2xx
 * (Event Grid would otherwise retry a poison event for 24 h).
 */
import { z } from 'zod';
import { EVENT_ID_MAX, EVENT_TOPIC_MAX, HOST_MAX, MEDIA_TYPE_MAX, REPOSITORY_MAX } from './fieldLimits.js';

export const IMAGE_PUSHED = 'Microsoft.ContainerRegistry.ImagePushed';

export interface ImagePushedEvent {
  kind: 'imagePushed';
  id: string;
  /** Registry resource id (Event Grid `topic`, CloudEvents `source`). */
  topic: string;
  /** `data.request.host`, e.g. contoso.azurecr.io. */
  registryLoginServer: string;
  repository: string;
  tag: string;
  /** `sha256:<64 hex>`. */
  digest: string;
  /**
   * `data.target.mediaType`, e.g. `application/vnd.docker.distribution.manifest.v2+json`, or
   * `application/vnd.oci.image.index.v1+json` for an image index (multi-platform, buildx attestations).
   */
  mediaType?: string;
  /** ISO 8601, millisecond precision. */
  eventTime: string;
  schema: 'eventGrid' | 'cloudEvents';
}

export interface IgnoredEvent {
  kind: 'ignored';
  reason: string;
  id?: string;
  eventType?: string;
}

export interface MalformedEvent {
  kind: 'malformed';
  reason: string;
  id?: string;
}

export type ParsedEvent = ImagePushedEvent | IgnoredEvent | MalformedEvent;

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const REPOSITORY = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;
const HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/i;

const pushData = z.object({
  target: z.object({
    digest: z.string().regex(DIGEST, { message: 'not a sha256 digest' }),
    mediaType: z.string().max(MEDIA_TYPE_MAX).optional(),
    repository: z.string().max(REPOSITORY_MAX).regex(REPOSITORY, { message: 'not a repository name' }),
    tag: z.string().optional(),
  }),
  request: z.object({
    host: z.string().max(HOST_MAX).regex(HOST, { message: 'not a host name' }),
  }),
});

// Lengths are bounded (fieldLimits.ts): what is accepted here is stored in the app's row.
const eventGridEnvelope = z.object({
  id: z.string().min(1).max(EVENT_ID_MAX),
  topic: z.string().min(1).max(EVENT_TOPIC_MAX),
  eventType: z.string().min(1),
  eventTime: z.string().min(1),
  subject: z.string().optional(),
  data: z.unknown(),
});

const cloudEventEnvelope = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1).max(EVENT_ID_MAX),
  source: z.string().min(1).max(EVENT_TOPIC_MAX),
  type: z.string().min(1),
  time: z.string().min(1).optional(),
  subject: z.string().optional(),
  data: z.unknown(),
});

function firstIssue(error: z.ZodError, prefix?: string): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = [...(prefix ? [prefix] : []), ...issue.path.map(String)].join('.');
  const msg = issue.code === 'invalid_type' ? `expected ${issue.expected}` : issue.message;
  return path ? `${path}: ${msg}` : msg;
}

function isoTime(raw: string): string | undefined {
  const ms = Date.parse(raw);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

interface Envelope {
  id: string;
  topic: string;
  type: string;
  time: string | undefined;
  data: unknown;
  schema: ImagePushedEvent['schema'];
}

function envelope(input: Record<string, unknown>): Envelope | MalformedEvent {
  // An id past its limit is not echoed back into logs or the ignored list either.
  const id = typeof input.id === 'string' && input.id.length <= EVENT_ID_MAX ? input.id : undefined;
  const withId = id ? { id } : {};
  if ('specversion' in input) {
    const ce = cloudEventEnvelope.safeParse(input);
    if (!ce.success) return { kind: 'malformed', reason: `CloudEvent ${firstIssue(ce.error)}`, ...withId };
    return {
      id: ce.data.id,
      topic: ce.data.source,
      type: ce.data.type,
      time: ce.data.time,
      data: ce.data.data,
      schema: 'cloudEvents',
    };
  }
  const eg = eventGridEnvelope.safeParse(input);
  if (!eg.success)
    return { kind: 'malformed', reason: `Event Grid event ${firstIssue(eg.error)}`, ...withId };
  return {
    id: eg.data.id,
    topic: eg.data.topic,
    type: eg.data.eventType,
    time: eg.data.eventTime,
    data: eg.data.data,
    schema: 'eventGrid',
  };
}

/** Parse one event object. */
export function parseRegistryEvent(input: unknown): ParsedEvent {
  try {
    if (input === null || typeof input !== 'object' || Array.isArray(input))
      return {
        kind: 'malformed',
        reason: `expected an event object, got ${Array.isArray(input) ? 'an array' : typeof input}`,
      };
    const env = envelope(input as Record<string, unknown>);
    if ('kind' in env) return env;
    if (env.type !== IMAGE_PUSHED)
      return {
        kind: 'ignored',
        reason: `event type ${env.type} is not handled`,
        id: env.id,
        eventType: env.type,
      };
    const data = pushData.safeParse(env.data);
    if (!data.success)
      return { kind: 'malformed', reason: `ImagePushed ${firstIssue(data.error, 'data')}`, id: env.id };
    const { target, request } = data.data;
    if (target.tag === undefined || target.tag === '')
      return {
        kind: 'ignored',
        reason: 'ImagePushed without a tag (pushed by digest)',
        id: env.id,
        eventType: env.type,
      };
    if (!TAG.test(target.tag))
      return { kind: 'malformed', reason: `ImagePushed data.target.tag: not a tag`, id: env.id };
    if (env.time === undefined) return { kind: 'malformed', reason: 'CloudEvent time: required', id: env.id };
    const eventTime = isoTime(env.time);
    if (!eventTime)
      return { kind: 'malformed', reason: `event time "${env.time}" is not a date`, id: env.id };
    return {
      kind: 'imagePushed',
      id: env.id,
      topic: env.topic,
      registryLoginServer: request.host.toLowerCase(),
      repository: target.repository,
      tag: target.tag,
      digest: target.digest,
      ...(target.mediaType ? { mediaType: target.mediaType } : {}),
      eventTime,
      schema: env.schema,
    };
  } catch (e) {
    return { kind: 'malformed', reason: `unreadable event: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** Parse a delivery body: an array of events (Event Grid, CloudEvents batch) or one event. */
export function parseRegistryEvents(body: unknown): ParsedEvent[] {
  if (Array.isArray(body)) return body.map(parseRegistryEvent);
  return [parseRegistryEvent(body)];
}
