/**
 * The endpoint validation Event Grid performs before a webhook subscription exists.
 *
 * Event Grid schema: one `Microsoft.EventGrid.SubscriptionValidationEvent` POSTed with
 * `aeg-event-type: SubscriptionValidation`; the endpoint proves ownership by answering 200
 * `{ "validationResponse": "<validationCode>" }`, or by a GET on `data.validationUrl` (Azure's manual validation).
 * The emulator accepts the GET while the handshake request is open or within a short grace after a 2xx answer
 * without the code (Azure waits up to 10 minutes, which a synchronous control call cannot).
 *
 * CloudEvents schema: the CloudEvents webhook abuse-protection handshake, an OPTIONS request with
 * `WebHook-Request-Origin: eventgrid.azure.net` answered by 200 with `WebHook-Allowed-Origin` naming that origin
 * (or `*`).
 */
import crypto from 'node:crypto';
import type { EmulatorContext } from '../core/context.js';
import type { EventSchema } from './eventGridStore.js';
import { eventTime } from './eventSchemas.js';
import type { CallWebhook, WebhookResult } from './webhookClient.js';

export type ValidationResult =
  { ok: true; via: 'response' | 'validationUrl' | 'options' } | { ok: false; reason: string };

const MANUAL_VALIDATION_GRACE_MS = 1000;
const EVENTGRID_ORIGIN = 'eventgrid.azure.net';

/** The reason is stored and shown (failureReason, logs): the URL without its query string, which holds the key. */
function handshakeFailure(url: string, detail: string): ValidationResult {
  const u = new URL(url);
  return {
    ok: false,
    reason: `Webhook validation handshake failed for ${u.origin}${u.pathname}. ${detail} For troubleshooting, visit https://aka.ms/esvalidation.`,
  };
}

function describeFailure(result: WebhookResult, method: string): string {
  if (result.kind === 'timeout') return `Http ${method} request timed out.`;
  if (result.kind === 'error' || result.kind === 'aborted')
    return `Http ${method} request failed with response code Unknown (${result.kind === 'error' ? result.message : 'aborted'}).`;
  return `Http ${method} request failed with response code ${result.status}.`;
}

export class SubscriptionValidator {
  /** Open validations by validation code: the token in the URL and whether the URL was visited. */
  private open = new Map<string, { token: string; subscription: string; visited: boolean }>();

  constructor(
    private readonly ctx: EmulatorContext,
    private readonly callWebhook: CallWebhook,
  ) {}

  async validate(input: {
    subscriptionName: string;
    endpointUrl: string;
    schema: EventSchema;
    topicId: string;
  }): Promise<ValidationResult> {
    const timeoutMs = this.ctx.options.timings.eventGridDeliveryTimeoutMs;
    if (input.schema === 'CloudEventSchemaV1_0') {
      const result = await this.callWebhook({
        url: input.endpointUrl,
        method: 'OPTIONS',
        headers: { 'webhook-request-origin': EVENTGRID_ORIGIN, 'webhook-request-rate': '120' },
        timeoutMs,
      });
      if (result.kind !== 'response' || result.status !== 200)
        return handshakeFailure(input.endpointUrl, describeFailure(result, 'OPTIONS'));
      const allowed = String(result.headers['webhook-allowed-origin'] ?? '')
        .split(',')
        .map((s) => s.trim().toLowerCase());
      if (!allowed.includes(EVENTGRID_ORIGIN) && !allowed.includes('*'))
        return handshakeFailure(
          input.endpointUrl,
          `Http OPTIONS request returned 200 without a WebHook-Allowed-Origin header allowing ${EVENTGRID_ORIGIN}.`,
        );
      return { ok: true, via: 'options' };
    }

    const code = crypto.randomUUID();
    const token = crypto.randomBytes(16).toString('hex');
    const now = eventTime();
    const validationUrl =
      `${this.ctx.url}/eventgrid/eventsubscriptions/${encodeURIComponent(input.subscriptionName)}/validate` +
      `?id=${code}&t=${encodeURIComponent(now)}&apiVersion=2025-02-15&token=${token}`;
    const entry = { token, subscription: input.subscriptionName, visited: false };
    this.open.set(code, entry);
    try {
      const event = {
        id: crypto.randomUUID(),
        topic: input.topicId,
        subject: '',
        data: { validationCode: code, validationUrl },
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        eventTime: now,
        metadataVersion: '1',
        dataVersion: '1',
      };
      const result = await this.callWebhook({
        url: input.endpointUrl,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'aeg-event-type': 'SubscriptionValidation',
          'aeg-subscription-name': input.subscriptionName.toUpperCase(),
          'aeg-delivery-count': '0',
          'aeg-metadata-version': '1',
          'aeg-data-version': '1',
        },
        body: JSON.stringify([event]),
        timeoutMs,
      });
      if (entry.visited) return { ok: true, via: 'validationUrl' };
      if (result.kind !== 'response' || result.status < 200 || result.status > 299)
        return handshakeFailure(input.endpointUrl, describeFailure(result, 'POST'));
      let answered: unknown;
      try {
        answered = (JSON.parse(result.body) as { validationResponse?: unknown }).validationResponse;
      } catch {
        answered = undefined;
      }
      if (result.status === 200 && typeof answered === 'string' && answered.toLowerCase() === code)
        return { ok: true, via: 'response' };
      // Manual validation: the endpoint may visit validationUrl right after answering.
      const deadline = Date.now() + MANUAL_VALIDATION_GRACE_MS;
      while (Date.now() < deadline && !entry.visited) await new Promise((r) => setTimeout(r, 50));
      if (entry.visited) return { ok: true, via: 'validationUrl' };
      const detail =
        answered === undefined
          ? `Http POST request returned ${result.status} without a validationResponse in the body.`
          : `Http POST request returned ${result.status} with validationResponse '${String(answered)}', which is not the validationCode.`;
      return handshakeFailure(input.endpointUrl, detail);
    } finally {
      this.open.delete(code);
    }
  }

  /** GET on validationUrl: completes the open validation it names. */
  visit(subscriptionName: string, code: string, token: string): boolean {
    const entry = this.open.get(code);
    if (
      !entry ||
      entry.token !== token ||
      entry.subscription.toLowerCase() !== subscriptionName.toLowerCase()
    )
      return false;
    entry.visited = true;
    return true;
  }
}
