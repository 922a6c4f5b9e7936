/**
 * Event delivery as Event Grid does it for webhooks:
 * - each event goes to every matching subscription as its own request; the body is an array holding the one
 *   event (Event Grid schema) or a single CloudEvent (`application/cloudevents+json`);
 * - headers `aeg-event-type: Notification`, `aeg-subscription-name` (upper case), `aeg-delivery-count` (0 on the
 *   first attempt), `aeg-metadata-version`, `aeg-data-version`;
 * - success is 200-204 within the delivery timeout (Azure: 30 s; `timings.eventGridDeliveryTimeoutMs`);
 * - 400, 401, 403 and 413 are not retried: the event is dead-lettered at once (reason
 *   `UndeliverableDueToHttp<Outcome>`, e.g. `UndeliverableDueToHttpBadRequest`);
 * - anything else (other statuses, timeouts, refused connections) is retried after the n-th interval of
 *   `timings.eventGridRetryScheduleMs` (the last interval repeats; Azure's schedule is 10 s, 30 s, 1 min, 5 min,
 *   10 min, 30 min, 1 h, ... with some jitter, which the emulator leaves out so tests are repeatable), until the
 *   subscription's maxDeliveryAttempts (default 30: dead letter `MaxDeliveryAttemptsExceeded`) or the event's
 *   time to live (default 1440 min: dead letter `TimeToLiveExceeded`) runs out.
 * Azure drops undeliverable events when no dead-letter destination is configured; the emulator always keeps them
 * in its dead-letter list so tests can see them. Deliveries still pending are in the persisted state and resume
 * when the emulator starts again; an attempt cut short by a stop is not counted.
 */
import crypto from 'node:crypto';
import type { EmulatorContext } from '../core/context.js';
import { DeliveryFaults, type DeliveryFault } from './deliveryFaults.js';
import {
  eventGridState,
  pushCapped,
  subscriptionKey,
  type DeadLetter,
  type Delivery,
  type DeliveryAttempt,
  type DeliveryOutcome,
  type EventGridState,
  type EventSchema,
  type Subscription,
  type TopicRef,
} from './eventGridStore.js';
import { eventIdentity, matchesFilter, toDeliverySchema } from './eventSchemas.js';
import type { CallWebhook, WebhookResult } from './webhookClient.js';

/** Statuses Event Grid never retries for a webhook (they mean the delivery can never succeed). */
const NOT_RETRIED = new Set([400, 401, 403, 413]);

function outcomeOf(result: WebhookResult): DeliveryOutcome {
  if (result.kind === 'timeout') return 'TimedOut';
  if (result.kind !== 'response') return 'GenericError';
  const s = result.status;
  if (s >= 200 && s <= 204) return 'Delivered';
  const named: Record<number, DeliveryOutcome> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    408: 'TimedOut',
    413: 'RequestEntityTooLarge',
    429: 'Busy',
    503: 'Busy',
  };
  return named[s] ?? 'GenericError';
}

export interface EnqueueInput {
  event: Record<string, unknown>;
  schema: EventSchema;
  topic: TopicRef;
  /** Resource id stamped as `topic`/`source` when the event is converted between schemas. */
  topicId: string;
}

export class DeliveryEngine {
  readonly faults = new DeliveryFaults();
  private timers = new Map<string, NodeJS.Timeout>();
  private inFlight = new Map<string, AbortController>();
  private reorderBatches = new Map<string, { timer: NodeJS.Timeout; ids: string[] }>();
  /** Bumped by stop/reset so answers to requests from before are ignored. */
  private generation = 0;
  private running = false;

  constructor(
    private readonly ctx: EmulatorContext,
    private readonly callWebhook: CallWebhook,
  ) {}

  private st(): EventGridState {
    return eventGridState(this.ctx.state);
  }

  /** Fans an accepted event out to the matching subscriptions of its topic. Returns the deliveries created. */
  enqueue(input: EnqueueInput): Delivery[] {
    const st = this.st();
    const identity = eventIdentity(input.event, input.schema);
    const created: Delivery[] = [];
    const now = Date.now();
    for (const sub of Object.values(st.subscriptions)) {
      if (
        sub.topic.kind !== input.topic.kind ||
        sub.topic.name.toLowerCase() !== input.topic.name.toLowerCase()
      )
        continue;
      if (sub.provisioningState !== 'Succeeded') continue;
      if (!matchesFilter(sub, identity.type, identity.subject)) continue;
      const fired = this.faults.pick({
        subscription: sub.name,
        subject: identity.subject,
        eventType: identity.type,
      });
      if (fired.some((f) => f.kind === 'drop')) {
        created.push(this.dropped(sub, input, identity, fired, now));
        continue;
      }
      const duplicate = fired.find((f) => f.kind === 'duplicate');
      const delay = fired.find((f) => f.kind === 'delay');
      const reorder = fired.find((f) => f.kind === 'reorder');
      const copies = duplicate?.times ?? 1;
      const firstAttemptAt = now + (delay?.delayMs ?? 0);
      const event = toDeliverySchema(input.event, input.schema, sub.deliverySchema, input.topicId);
      for (let copy = 1; copy <= copies; copy++) {
        const delivery: Delivery = {
          id: crypto.randomUUID(),
          eventId: identity.id,
          eventType: identity.type,
          subject: identity.subject,
          topic: { ...sub.topic },
          subscription: sub.name,
          event,
          schema: sub.deliverySchema,
          publishedAt: new Date(now).toISOString(),
          state: 'pending',
          nextAttemptAt: firstAttemptAt,
          attempts: [],
          copy,
          faults: fired.map((f) => f.kind),
        };
        st.pending[delivery.id] = delivery;
        created.push(delivery);
        if (reorder) this.hold(reorder, sub, delivery, firstAttemptAt);
        else this.schedule(delivery);
      }
    }
    if (created.length) this.ctx.state.changed();
    return created;
  }

  /** Drop fault: the delivery is recorded as dropped and never attempted. */
  private dropped(
    sub: Subscription,
    input: EnqueueInput,
    identity: { id: string; type: string; subject: string },
    fired: DeliveryFault[],
    now: number,
  ): Delivery {
    const delivery: Delivery = {
      id: crypto.randomUUID(),
      eventId: identity.id,
      eventType: identity.type,
      subject: identity.subject,
      topic: { ...sub.topic },
      subscription: sub.name,
      event: toDeliverySchema(input.event, input.schema, sub.deliverySchema, input.topicId),
      schema: sub.deliverySchema,
      publishedAt: new Date(now).toISOString(),
      state: 'pending',
      attempts: [],
      copy: 1,
      faults: fired.map((f) => f.kind),
    };
    this.ctx.log(`event ${identity.id} to subscription ${sub.name} dropped by a drop fault`);
    this.finish(delivery, 'dropped', "Dropped by the emulator's drop fault: never sent.");
    return delivery;
  }

  /** Reorder fault: hold the delivery in the subscription's open window; the window's end sends them reversed. */
  private hold(fault: DeliveryFault, sub: Subscription, delivery: Delivery, notBefore: number): void {
    const key = `${fault.id}|${subscriptionKey(sub.topic, sub.name)}`;
    let batch = this.reorderBatches.get(key);
    if (!batch) {
      const releaseAt = notBefore + (fault.windowMs ?? 1000);
      const ids: string[] = [];
      const timer = setTimeout(() => {
        this.reorderBatches.delete(key);
        void this.releaseReversed(ids);
      }, releaseAt - Date.now());
      timer.unref();
      batch = { timer, ids };
      this.reorderBatches.set(key, batch);
      delivery.nextAttemptAt = releaseAt;
    } else {
      const first = this.st().pending[batch.ids[0] ?? ''];
      delivery.nextAttemptAt = first?.nextAttemptAt ?? notBefore;
    }
    batch.ids.push(delivery.id);
  }

  private async releaseReversed(ids: string[]): Promise<void> {
    for (const id of [...ids].reverse()) {
      if (!this.running) return;
      await this.attempt(id);
    }
  }

  private schedule(delivery: Delivery): void {
    if (!this.running) return;
    const existing = this.timers.get(delivery.id);
    if (existing) clearTimeout(existing);
    const wait = Math.max(0, (delivery.nextAttemptAt ?? Date.now()) - Date.now());
    const timer = setTimeout(() => {
      this.timers.delete(delivery.id);
      void this.attempt(delivery.id);
    }, wait);
    timer.unref();
    this.timers.set(delivery.id, timer);
  }

  private retryInterval(attemptsMade: number): number {
    const schedule = this.ctx.options.timings.eventGridRetryScheduleMs;
    if (schedule.length === 0) return 10_000;
    return schedule[Math.min(attemptsMade - 1, schedule.length - 1)] ?? schedule[schedule.length - 1]!;
  }

  /** One delivery attempt; resolves once the webhook answered (or not) and the outcome is recorded. */
  private async attempt(id: string): Promise<void> {
    const delivery = this.st().pending[id];
    if (!delivery || this.inFlight.has(id) || !this.running) return;
    const sub = this.st().subscriptions[subscriptionKey(delivery.topic, delivery.subscription)];
    if (!sub || sub.provisioningState === 'Failed' || sub.provisioningState === 'Deleting') {
      this.finish(delivery, 'dropped', 'The event subscription no longer exists.');
      return;
    }
    if (sub.provisioningState === 'Creating') {
      // Being re-validated after an update: try again shortly without counting an attempt.
      delivery.nextAttemptAt = Date.now() + this.retryInterval(1);
      this.schedule(delivery);
      return;
    }
    const expiresAt = Date.parse(delivery.publishedAt) + sub.eventTimeToLiveMinutes * 60_000;
    if (Date.now() >= expiresAt) {
      this.deadLetter(delivery, 'TimeToLiveExceeded');
      return;
    }
    if (delivery.attempts.length >= sub.maxDeliveryAttempts) {
      this.deadLetter(delivery, 'MaxDeliveryAttemptsExceeded');
      return;
    }

    const deliveryCount = delivery.attempts.length;
    const cloud = delivery.schema === 'CloudEventSchemaV1_0';
    const headers: Record<string, string> = {
      'content-type': cloud ? 'application/cloudevents+json; charset=utf-8' : 'application/json',
      'aeg-event-type': 'Notification',
      'aeg-subscription-name': sub.name.toUpperCase(),
      'aeg-delivery-count': String(deliveryCount),
      'aeg-metadata-version': '1',
      'aeg-data-version': cloud ? '' : String(delivery.event['dataVersion'] ?? ''),
    };
    const body = JSON.stringify(cloud ? delivery.event : [delivery.event]);
    const controller = new AbortController();
    this.inFlight.set(id, controller);
    const generation = this.generation;
    const startedAt = new Date();
    const result = await this.callWebhook({
      url: sub.endpointUrl,
      method: 'POST',
      headers,
      body,
      timeoutMs: this.ctx.options.timings.eventGridDeliveryTimeoutMs,
      signal: controller.signal,
    });
    this.inFlight.delete(id);
    // Stopped or reset meanwhile: the attempt does not count; a restart retries it.
    if (result.kind === 'aborted' || generation !== this.generation) return;
    if (this.st().pending[id] !== delivery) return;

    const outcome = outcomeOf(result);
    const record: DeliveryAttempt = {
      attempt: delivery.attempts.length + 1,
      deliveryCount,
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      outcome,
    };
    if (result.kind === 'response') record.status = result.status;
    if (result.kind === 'timeout')
      record.error = `No answer within ${this.ctx.options.timings.eventGridDeliveryTimeoutMs} ms.`;
    if (result.kind === 'error') record.error = result.message;
    if (result.kind === 'response' && outcome !== 'Delivered' && result.body)
      record.error = result.body.slice(0, 500);
    delivery.attempts.push(record);

    if (outcome === 'Delivered') {
      this.finish(delivery, 'delivered');
      return;
    }
    if (result.kind === 'response' && NOT_RETRIED.has(result.status)) {
      this.deadLetter(delivery, `UndeliverableDueToHttp${outcome}`);
      return;
    }
    if (delivery.attempts.length >= sub.maxDeliveryAttempts) {
      this.deadLetter(delivery, 'MaxDeliveryAttemptsExceeded');
      return;
    }
    // The next attempt, or the moment the event expires (the attempt then dead-letters it).
    delivery.nextAttemptAt = Math.min(Date.now() + this.retryInterval(delivery.attempts.length), expiresAt);
    this.ctx.state.changed();
    this.schedule(delivery);
  }

  private finish(delivery: Delivery, state: Delivery['state'], reason?: string): void {
    const st = this.st();
    delete st.pending[delivery.id];
    delivery.state = state;
    delete delivery.nextAttemptAt;
    delivery.finishedAt = new Date().toISOString();
    if (reason) delivery.reason = reason;
    pushCapped(st.history, delivery);
    this.ctx.state.changed();
  }

  private deadLetter(delivery: Delivery, reason: string): void {
    const last = delivery.attempts.at(-1);
    const letter: DeadLetter = {
      event: delivery.event,
      subscription: delivery.subscription,
      topic: delivery.topic,
      deliveryId: delivery.id,
      deadLetterReason: reason,
      deliveryAttempts: delivery.attempts.length,
      lastDeliveryOutcome: last?.outcome ?? 'GenericError',
      lastHttpStatusCode: last?.status ?? (last?.outcome === 'TimedOut' ? 408 : 0),
      publishTime: delivery.publishedAt,
      lastDeliveryAttemptTime: last?.startedAt ?? new Date().toISOString(),
    };
    pushCapped(this.st().deadLetters, letter);
    this.ctx.log(
      `event ${delivery.eventId} to subscription ${delivery.subscription} dead-lettered: ${reason} after ${letter.deliveryAttempts} attempt(s)`,
    );
    this.finish(delivery, 'deadLettered', reason);
  }

  /** Pending and finished deliveries, oldest first. */
  list(filter: { subscription?: string; eventId?: string; state?: string } = {}): Delivery[] {
    const st = this.st();
    return [...st.history, ...Object.values(st.pending)]
      .filter(
        (d) =>
          (!filter.subscription || d.subscription.toLowerCase() === filter.subscription.toLowerCase()) &&
          (!filter.eventId || d.eventId === filter.eventId) &&
          (!filter.state || d.state === filter.state),
      )
      .sort((a, b) => a.publishedAt.localeCompare(b.publishedAt));
  }

  /** Drops pending deliveries of a deleted subscription, as Azure does. */
  dropSubscription(sub: Subscription): void {
    const key = subscriptionKey(sub.topic, sub.name);
    for (const d of Object.values(this.st().pending)) {
      if (subscriptionKey(d.topic, d.subscription) !== key) continue;
      const timer = this.timers.get(d.id);
      if (timer) clearTimeout(timer);
      this.timers.delete(d.id);
      this.inFlight.get(d.id)?.abort();
      this.finish(d, 'dropped', 'The event subscription was deleted.');
    }
  }

  /** Resume persisted pending deliveries. */
  start(): void {
    this.running = true;
    for (const d of Object.values(this.st().pending)) this.schedule(d);
  }

  /** Clear timers and cut in-flight requests; pending deliveries stay in the state. */
  stop(): void {
    this.running = false;
    this.generation++;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const batch of this.reorderBatches.values()) clearTimeout(batch.timer);
    this.reorderBatches.clear();
    for (const controller of this.inFlight.values()) controller.abort();
    this.inFlight.clear();
    this.ctx.state.changed();
  }

  reset(): void {
    this.stop();
    this.faults.remove();
    this.running = true;
  }
}
