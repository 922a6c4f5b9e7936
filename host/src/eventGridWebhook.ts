/**
 * The Event Grid extension's webhook, `POST /runtime/webhooks/eventgrid?functionName=NAME&code=KEY`, answering
 * as the Functions extension does: 401 without the `eventgrid_extension` system key (or the master key), 404 for
 * an unknown function, 400 without `aeg-event-type` or with a body that is not JSON, 200
 * `{ validationResponse }` to the subscription-validation handshake, and for a Notification one invocation per
 * event (Event Grid schema array, or CloudEvents 1.0 single or batch), all started at once and awaited together
 * as the extension does (one `TryExecuteAsync` per event, then `Task.WhenAll`, "we are going to process all events
 * in parallel": Azure/azure-functions-eventgrid-extension src/EventGridExtension/EventGridExtensionConfig.cs, and
 * `ProcessEventsAsync` of its successor Microsoft.Azure.WebJobs.Extensions.EventGrid in azure-sdk-for-net):
 * 202 when all succeeded, 500 when any failed (Event Grid then redelivers the whole batch). So a delivery of N
 * events takes as long as its slowest event, not the sum: each invocation's own budget is the delivery's.
 * `OPTIONS` answers the CloudEvents abuse-protection handshake.
 *
 * A body nesting deeper than 64 levels is refused with 400 before it is parsed: the extension parses the body with
 * Json.NET's `JToken.Parse`, whose reader refuses depths past `MaxDepth`, 64 by default since Json.NET 13.0.1
 * (https://github.com/JamesNK/Newtonsoft.Json/releases/tag/13.0.1). Event Grid does not retry a 400.
 */
import crypto from 'node:crypto';
import type { FunctionsCore, RegisteredFunction } from './functionsCore.js';
import type { RpcTypedData } from './functionsCoreTypes.js';
import type { HostLogger } from './hostLog.js';
import type { InvocationInput, InvocationOutcome } from './invoker.js';
import { EVENTGRID_SYSTEM_KEY, presentedKey, systemKeyAllows, type HostKeys } from './keys.js';
import { jsonNestsDeeperThan } from './requestBody.js';

/** Json.NET's default `JsonReader.MaxDepth` (13.0.1 and later). */
export const JSON_MAX_DEPTH = 64;

export const EVENTGRID_WEBHOOK_PATH = '/runtime/webhooks/eventgrid';

export interface WebhookRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  query: URLSearchParams;
  body: Buffer;
}

export interface WebhookReply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface WebhookDeps {
  core: FunctionsCore;
  keys: HostKeys;
  logger: HostLogger;
  invoke(fn: RegisteredFunction, input: InvocationInput): Promise<InvocationOutcome>;
}

function header(headers: WebhookRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function text(status: number, message: string): WebhookReply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: message };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toTypedData(value: unknown): RpcTypedData {
  if (typeof value === 'string') return { string: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { int: value } : { double: value };
  return { json: JSON.stringify(value ?? null) };
}

/** Trigger metadata as the extension's binding data: the event's properties plus `sys`. */
export function eventTriggerMetadata(
  event: Record<string, unknown>,
  functionName: string,
): Record<string, RpcTypedData> {
  const metadata: Record<string, RpcTypedData> = {};
  for (const [key, value] of Object.entries(event)) metadata[key] = toTypedData(value);
  metadata['sys'] = {
    json: JSON.stringify({
      MethodName: functionName,
      UtcNow: new Date().toISOString(),
      RandGuid: crypto.randomUUID(),
    }),
  };
  return metadata;
}

export async function handleEventGridWebhook(req: WebhookRequest, deps: WebhookDeps): Promise<WebhookReply> {
  if (!systemKeyAllows(EVENTGRID_SYSTEM_KEY, presentedKey(req.headers, req.query), deps.keys)) {
    return { status: 401 };
  }
  const functionName = req.query.get('functionName') ?? '';
  const fn = functionName ? deps.core.find(functionName) : undefined;
  if (!fn || fn.trigger.type.toLowerCase() !== 'eventgridtrigger') {
    const available = deps.core.byTrigger('eventGridTrigger').map((f) => f.name);
    deps.logger.system(
      `cannot find function: '${functionName}', available function names: [${available.join(', ')}]`,
      'warning',
    );
    return text(404, `cannot find function: '${functionName}'`);
  }

  const method = req.method.toUpperCase();
  if (method === 'OPTIONS') {
    // CloudEvents webhook validation (abuse protection): allow the requesting origin.
    const origin = header(req.headers, 'webhook-request-origin');
    if (!origin) return text(400, 'Missing WebHook-Request-Origin header.');
    return { status: 200, headers: { 'webhook-allowed-origin': origin, 'webhook-allowed-rate': '*' } };
  }
  if (method !== 'POST') return { status: 405, headers: { allow: 'POST, OPTIONS' } };

  const eventType = header(req.headers, 'aeg-event-type');
  if (!eventType) return text(400, "Missing 'aeg-event-type' header.");

  const bodyText = req.body.toString('utf8');
  if (jsonNestsDeeperThan(bodyText, JSON_MAX_DEPTH))
    return text(400, `The request body nests deeper than ${JSON_MAX_DEPTH} levels.`);
  let payload: unknown;
  try {
    payload = JSON.parse(bodyText);
  } catch {
    return text(400, 'The request body is not valid JSON.');
  }

  switch (eventType.toLowerCase()) {
    case 'subscriptionvalidation': {
      const events = Array.isArray(payload) ? payload : [payload];
      const first = events.find(isObject);
      const data = isObject(first?.['data']) ? first['data'] : undefined;
      const code = data?.['validationCode'];
      if (typeof code !== 'string') return text(400, 'The validation event has no data.validationCode.');
      deps.logger.system(`Event Grid subscription validated for function '${fn.name}'.`);
      return { status: 200, body: { validationResponse: code } };
    }
    case 'notification': {
      const events = Array.isArray(payload) ? payload : [payload];
      if (!events.every(isObject)) return text(400, 'Every event must be a JSON object.');
      const outcomes = await Promise.all(
        events.map((event) =>
          deps.invoke(fn, {
            inputData: [{ name: fn.trigger.name, data: { json: JSON.stringify(event) } }],
            triggerMetadata: eventTriggerMetadata(event, fn.name),
            reason: `EventGrid trigger fired at ${new Date().toISOString()}`,
          }),
        ),
      );
      const failures = outcomes.flatMap((outcome, i) =>
        outcome.ok
          ? []
          : [{ id: events[i]!['id'], invocationId: outcome.invocationId, error: outcome.error.message }],
      );
      if (failures.length > 0) {
        return {
          status: 500,
          body: { error: `${failures.length} of ${events.length} event(s) failed.`, failures },
        };
      }
      return { status: 202 };
    }
    case 'subscriptiondeletion':
    case 'unsubscribe':
      return { status: 202 };
    default:
      return text(400, `Unsupported aeg-event-type '${eventType}'.`);
  }
}
