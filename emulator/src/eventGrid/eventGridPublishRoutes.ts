/**
 * Event Grid's data plane for custom topics, as `EventGridPublisherClient` (@azure/eventgrid 5.x) calls it:
 * `POST {endpoint}?api-version=2018-01-01` where the emulator's endpoint is
 * `https://127.0.0.1:{port}/eventgrid/topics/{topic}/api/events` (Azure's is
 * `https://{topic}.{region}-1.eventgrid.azure.net/api/events`).
 *
 * Authentication, checked here because the core's token check cannot accept keys: `aeg-sas-key` equal to one of the
 * topic's keys (AzureKeyCredential), `aeg-sas-token` signed with one (generateSharedAccessSignature), or a Bearer
 * token for `https://eventgrid.azure.net` (TokenCredential). Bodies: an array of Event Grid schema events
 * (`application/json`), a CloudEvents batch (`application/cloudevents-batch+json`) or one CloudEvent
 * (`application/cloudevents+json`); a topic created with an inputSchema accepts only that schema. 200 with an empty
 * body on success, Event Grid's `{ error: { code, message } }` otherwise.
 *
 * Also here: `GET /eventgrid/eventsubscriptions/{name}/validate?id=&token=`, the `validationUrl` of the
 * handshake (Azure's manual validation).
 */
import crypto from 'node:crypto';
import type { EmulatorContext } from '../core/context.js';
import type { EmuRequest, EmuResponse, Route } from '../core/router.js';
import { AUDIENCES } from '../core/tokens.js';
import type { EventGridBroker } from './eventGridBroker.js';
import { lower, type CustomTopic, type EventSchema } from './eventGridStore.js';
import { cloudEventProblem, eventGridEventProblem } from './eventSchemas.js';
import type { SubscriptionValidator } from './subscriptionValidation.js';

/** Event Grid's publish limit: 1 MB per request. */
const MAX_REQUEST_BYTES = 1024 * 1024;
const EVENTGRID_AUDIENCES = new Set<string>(AUDIENCES.eventgrid);

const dataPlaneError = (status: number, code: string, message: string): EmuResponse => ({
  status,
  body: { error: { code, message } },
});

function header(req: EmuRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `M/D/YYYY h:mm:ss AM` (UTC), the expiry format of @azure/eventgrid's shared access signatures. */
function parseSasExpiry(value: string): number {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) (AM|PM)$/.exec(value);
  if (!m) return Number.NaN;
  const hour = (Number(m[4]) % 12) + (m[7] === 'PM' ? 12 : 0);
  return Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]), hour, Number(m[5]), Number(m[6]));
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function sasTokenValid(token: string, topic: CustomTopic): boolean {
  const at = token.lastIndexOf('&s=');
  if (at < 0) return false;
  const unsigned = token.slice(0, at);
  const signature = decodeURIComponent(token.slice(at + 3));
  const expires = new URLSearchParams(unsigned).get('e');
  if (!expires || !(parseSasExpiry(expires) > Date.now())) return false;
  return [topic.key1, topic.key2].some((key) => {
    const expected = crypto
      .createHmac('sha256', Buffer.from(key, 'base64'))
      .update(unsigned)
      .digest('base64');
    return safeEqual(expected, signature);
  });
}

export function eventGridPublishRoutes(
  ctx: EmulatorContext,
  broker: EventGridBroker,
  validator: SubscriptionValidator,
): Route[] {
  const authorise = (req: EmuRequest, topic: CustomTopic): string | undefined => {
    const host = `${topic.name.toUpperCase()}.${topic.location.toUpperCase()}-1.EVENTGRID.AZURE.NET`;
    const key = header(req, 'aeg-sas-key');
    if (key !== undefined) {
      const ok = [topic.key1, topic.key2].some((k) => safeEqual(k, key));
      return ok
        ? undefined
        : `The request authorization key is not authorized for ${host}. The specified key is not valid.`;
    }
    const sas = header(req, 'aeg-sas-token');
    if (sas !== undefined)
      return sasTokenValid(sas, topic)
        ? undefined
        : `The request authorization key is not authorized for ${host}. The shared access signature is invalid or expired.`;
    const bearer = /^Bearer\s+(.+)$/i.exec(header(req, 'authorization') ?? '')?.[1];
    if (bearer) {
      const verified = ctx.tokens.verify(bearer);
      if (!verified.ok) return `The access token is invalid. ${verified.reason}`;
      if (!EVENTGRID_AUDIENCES.has(verified.claims.aud))
        return `The access token audience '${verified.claims.aud}' is not valid: it should be https://eventgrid.azure.net.`;
      req.caller = { oid: verified.claims.oid, audience: verified.claims.aud };
      return undefined;
    }
    return `The request authorization key is not authorized for ${host}. Supply aeg-sas-key, aeg-sas-token or an Authorization bearer token.`;
  };

  const publish = (req: EmuRequest): EmuResponse => {
    const topic = broker.st().customTopics[lower(req.params['topic'] ?? '')];
    if (!topic) return dataPlaneError(404, 'NotFound', `The topic ${req.params['topic']} does not exist.`);
    const authProblem = authorise(req, topic);
    if (authProblem) return dataPlaneError(401, 'Unauthorized', authProblem);
    if (req.rawBody.length > MAX_REQUEST_BYTES)
      return dataPlaneError(413, 'RequestEntityTooLarge', 'The maximum size for a publish request is 1 MB.');
    if (req.body === undefined)
      return dataPlaneError(400, 'BadRequest', 'The request body is not valid JSON.');
    const contentType = lower(header(req, 'content-type') ?? '');
    const schema: EventSchema = contentType.includes('cloudevents')
      ? 'CloudEventSchemaV1_0'
      : 'EventGridSchema';
    if (topic.inputSchema && topic.inputSchema !== schema) {
      return dataPlaneError(
        400,
        'BadRequest',
        `This resource is configured to receive events in the '${topic.inputSchema}' schema, but the request is in the '${schema}' schema (content-type '${contentType}').`,
      );
    }
    const single =
      schema === 'CloudEventSchemaV1_0' && !contentType.includes('batch') && !Array.isArray(req.body);
    const events = single ? [req.body] : req.body;
    if (!Array.isArray(events))
      return dataPlaneError(400, 'BadRequest', 'The request body must be a JSON array of events.');
    const topicId = broker.customTopicId(topic);
    for (const [i, event] of events.entries()) {
      const problem =
        schema === 'CloudEventSchemaV1_0' ? cloudEventProblem(event) : eventGridEventProblem(event, topicId);
      if (problem) return dataPlaneError(400, 'BadRequest', `Event ${i}: ${problem}`);
    }
    const accepted = (events as Record<string, unknown>[]).map((event) =>
      schema === 'EventGridSchema'
        ? { ...event, topic: topicId, dataVersion: event['dataVersion'] ?? '', metadataVersion: '1' }
        : event,
    );
    broker.acceptCustomEvents(topic, schema, accepted);
    return { status: 200 };
  };

  return [
    {
      method: 'POST',
      pattern: '/eventgrid/topics/:topic/api/events',
      auth: 'none',
      operation: 'PublishEvents',
      apiVersions: ['2018-01-01'],
      handler: publish,
    },
    {
      method: 'GET',
      pattern: '/eventgrid/eventsubscriptions/:name/validate',
      auth: 'none',
      operation: 'EventSubscriptions_ManualValidation',
      handler: (req) => {
        const ok = validator.visit(
          req.params['name'] ?? '',
          req.query.get('id') ?? '',
          req.query.get('token') ?? '',
        );
        return ok
          ? {
              status: 200,
              headers: { 'content-type': 'text/plain; charset=utf-8' },
              body: 'Webhook successfully validated as a part of the subscription validation process.',
            }
          : dataPlaneError(400, 'BadRequest', 'The validation URL is invalid or has expired.');
      },
    },
  ];
}
