/**
 * Event Grid in the emulator, driven as Azure drives a webhook: a real HTTP server on 127.0.0.1 receives the
 * validation handshake and the notifications; events come from real pushes to the emulated registry; the custom
 * topic is fed by EventGridPublisherClient.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  AzureKeyCredential,
  EventGridDeserializer,
  EventGridPublisherClient,
  generateSharedAccessSignature,
  isSystemEvent,
} from '@azure/eventgrid';
import { DefaultAzureCredential } from '@azure/identity';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../support/waiting.js';
import { startTestEmulator, useManagedIdentity, type TestEmulator } from '../support/emulator.js';

interface Received {
  path: string;
  method: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'hang';
type Behaviour = (req: Received, nthNotification: number) => Answer | Promise<Answer>;

/** A webhook receiver: answers the handshake like the Functions host does, then follows a per-path behaviour. */
class Webhook {
  readonly received: Received[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly hanging = new Set<http.ServerResponse>();
  private server!: http.Server;
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    const received: Received = {
      path: new URL(req.url ?? '/', this.url).pathname,
      method: req.method ?? 'GET',
      headers: req.headers,
      body,
      at: Date.now(),
    };
    this.received.push(received);
    const behaviour = this.behaviours.get(received.path) ?? (() => ({ status: 200 }));
    let answer: Answer;
    if (
      received.headers['aeg-event-type'] === 'SubscriptionValidation' &&
      !this.behaviours.has(`${received.path}#validation`)
    ) {
      const [event] = JSON.parse(body) as [{ data: { validationCode: string } }];
      answer = { status: 200, body: { validationResponse: event.data.validationCode } };
    } else if (received.headers['aeg-event-type'] === 'SubscriptionValidation') {
      answer = await this.behaviours.get(`${received.path}#validation`)!(received, 0);
    } else {
      answer = await behaviour(received, this.notifications(received.path).length);
    }
    if (answer === 'hang') {
      this.hanging.add(res);
      return;
    }
    const payload = answer.body === undefined ? '' : JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(payload);
  }

  on(pathname: string, behaviour: Behaviour): string {
    this.behaviours.set(pathname, behaviour);
    return `${this.url}${pathname}`;
  }

  onValidation(pathname: string, behaviour: Behaviour): string {
    this.behaviours.set(`${pathname}#validation`, behaviour);
    return `${this.url}${pathname}`;
  }

  notifications(pathname: string): Received[] {
    return this.received.filter((r) => r.path === pathname && r.headers['aeg-event-type'] === 'Notification');
  }

  validations(pathname: string): Received[] {
    return this.received.filter(
      (r) => r.path === pathname && r.headers['aeg-event-type'] === 'SubscriptionValidation',
    );
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// Deliveries here take milliseconds, and some tests act between two attempts: poll every 25 ms.
const SOON = { timeoutMs: 8000, intervalMs: 25 };

interface DeliveryView {
  id: string;
  eventId: string;
  subject: string;
  subscription: string;
  state: string;
  copy: number;
  faults: string[];
  attempts: {
    attempt: number;
    deliveryCount: number;
    startedAt: string;
    durationMs: number;
    status?: number;
    outcome: string;
    error?: string;
  }[];
}

interface DeadLetterView {
  event: { id: string; subject: string };
  subscription: string;
  deadLetterReason: string;
  deliveryAttempts: number;
  lastDeliveryOutcome: string;
  lastHttpStatusCode: number;
}

const SUBSCRIPTION_ID = '00000000-0000-0000-0000-000000000001';
const CONTOSO_ID = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/contoso`;
const CONTOSO_TOPIC_ID = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-platform/providers/Microsoft.EventGrid/systemTopics/contoso-events`;

describe('emulator Event Grid: system topic per registry, webhook delivery, retries, faults, custom topics', () => {
  let emulator: TestEmulator;
  let webhook: Webhook;
  let restoreEnv: () => void;
  let tagCounter = 0;

  const subscribe = (body: Record<string, unknown>) =>
    emulator.control<{
      subscription?: { name: string; topicId: string; provisioningState: string };
      code?: string;
      message?: string;
    }>('POST', '/_emulator/eventgrid/subscriptions', { registryName: 'contoso', ...body });

  const push = async (repository = 'web', tag = `1.0.${++tagCounter}`) => {
    const res = await emulator.control<{ digest: string; tag: string }>(
      'POST',
      '/_emulator/registries/contoso/push',
      {
        repository,
        tag,
      },
    );
    expect(res.status).toBe(200);
    return { ...res.body, subject: `${repository}:${tag}` };
  };

  const deliveries = async (subscription: string) =>
    (
      await emulator.control<{ value: DeliveryView[] }>(
        'GET',
        `/_emulator/eventgrid/deliveries?subscription=${subscription}`,
      )
    ).body.value;

  const deadLetters = async (subscription: string) =>
    (
      await emulator.control<{ value: DeadLetterView[] }>(
        'GET',
        `/_emulator/eventgrid/deadletters?subscription=${subscription}`,
      )
    ).body.value;

  beforeAll(async () => {
    webhook = new Webhook();
    await webhook.start();
    emulator = await startTestEmulator({
      timings: { eventGridRetryScheduleMs: [200, 400, 800], eventGridDeliveryTimeoutMs: 1000 },
    });
    restoreEnv = useManagedIdentity(emulator);
  });

  afterEach(async () => {
    const subs = await emulator.control<{ value: { name: string }[] }>(
      'GET',
      '/_emulator/eventgrid/subscriptions',
    );
    for (const s of subs.body.value)
      await emulator.control('DELETE', `/_emulator/eventgrid/subscriptions/${s.name}`);
    await emulator.control('DELETE', '/_emulator/eventgrid/faults');
  });

  afterAll(async () => {
    restoreEnv();
    await emulator.close();
    await webhook.close();
  });

  it('defect 8 (issue 16): the control API lists a webhook subscription without its code= key', async () => {
    const key = 'Sys7emKeyOfTheFunction0123456789abcdefghij==';
    const endpointUrl = webhook.on('/keyed', () => ({ status: 200 }));
    const keyed = `${endpointUrl}?functionName=onImagePushed&code=${encodeURIComponent(key)}`;
    const created = await subscribe({ name: 'keyed', endpointUrl: keyed });
    expect(created.status).toBe(200);
    const listed = await emulator.control('GET', '/_emulator/eventgrid/subscriptions?registryName=contoso');
    const one = await emulator.control('GET', '/_emulator/eventgrid/subscriptions/keyed');
    for (const body of [
      JSON.stringify(created.body),
      JSON.stringify(listed.body),
      JSON.stringify(one.body),
    ]) {
      expect(body).not.toContain(key);
      expect(body).not.toContain(encodeURIComponent(key));
      expect(body).toContain('code=[redacted]');
    }
    // Only what is shown is redacted: the handshake went to the stored URL.
    expect(webhook.validations('/keyed')).toHaveLength(1);
    await emulator.control('DELETE', '/_emulator/eventgrid/subscriptions/keyed');
  });

  describe('subscription validation handshake', () => {
    it('POSTs a SubscriptionValidationEvent and keeps the subscription once the code is echoed', async () => {
      const endpointUrl = webhook.on('/hs-ok', () => ({ status: 200 }));
      const res = await subscribe({ name: 'hs-ok', endpointUrl });
      expect(res.status).toBe(200);
      expect(res.body.subscription).toMatchObject({
        name: 'hs-ok',
        topicId: CONTOSO_TOPIC_ID,
        provisioningState: 'Succeeded',
      });

      const [validation] = webhook.validations('/hs-ok');
      expect(validation).toBeDefined();
      expect(validation!.method).toBe('POST');
      expect(validation!.headers['aeg-subscription-name']).toBe('HS-OK');
      expect(validation!.headers['aeg-metadata-version']).toBe('1');
      expect(validation!.headers['aeg-data-version']).toBe('1');
      const events = JSON.parse(validation!.body) as Record<string, unknown>[];
      expect(events).toHaveLength(1);
      const event = events[0] as {
        eventType: string;
        topic: string;
        subject: string;
        data: Record<string, string>;
      };
      expect(event.eventType).toBe('Microsoft.EventGrid.SubscriptionValidationEvent');
      expect(event.topic).toBe(CONTOSO_TOPIC_ID);
      expect(event.subject).toBe('');
      expect(event.data['validationCode']).toMatch(/^[0-9a-f-]{36}$/);
      expect(event.data['validationUrl']).toContain(
        `${emulator.url}/eventgrid/eventsubscriptions/hs-ok/validate?id=`,
      );

      const listed = await emulator.control<{ value: { name: string; endpointUrl: string }[] }>(
        'GET',
        '/_emulator/eventgrid/subscriptions?registryName=contoso',
      );
      expect(listed.body.value).toEqual([expect.objectContaining({ name: 'hs-ok', endpointUrl })]);
      const topics = await emulator.control<{ value: { name: string; source: string }[] }>(
        'GET',
        '/_emulator/eventgrid/systemtopics',
      );
      expect(topics.body.value).toContainEqual(
        expect.objectContaining({ name: 'contoso-events', source: CONTOSO_ID }),
      );
    });

    it.each([
      [
        'a wrong validationResponse',
        () => ({ status: 200, body: { validationResponse: 'not-the-code' } }),
        /not the validationCode/,
      ],
      ['no validationResponse', () => ({ status: 200, body: {} }), /without a validationResponse/],
      ['a 404', () => ({ status: 404 }), /response code 404/],
    ] as const)(
      'answers 400 and keeps nothing when the endpoint gives %s',
      async (_label, answer, reason) => {
        const name = `hs-bad-${crypto.randomBytes(3).toString('hex')}`;
        const endpointUrl = webhook.onValidation(`/${name}`, answer);
        const res = await subscribe({ name, endpointUrl });
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('Url validation');
        expect(res.body.message).toMatch(/Webhook validation handshake failed/);
        expect(res.body.message).toMatch(reason);
        expect((await emulator.control('GET', `/_emulator/eventgrid/subscriptions/${name}`)).status).toBe(
          404,
        );
      },
    );

    it('answers 400 when the endpoint is unreachable', async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const res = await subscribe({ name: 'hs-unreachable', endpointUrl: `http://127.0.0.1:${port}/hook` });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/ECONNREFUSED/);
    });

    it('accepts manual validation: a GET on validationUrl while the handshake is open', async () => {
      const endpointUrl = webhook.onValidation('/hs-manual', async (req) => {
        const [event] = JSON.parse(req.body) as [{ data: { validationUrl: string } }];
        const visit = await fetch(event.data.validationUrl);
        expect(visit.status).toBe(200);
        return { status: 200, body: {} };
      });
      const res = await subscribe({ name: 'hs-manual', endpointUrl });
      expect(res.status).toBe(200);
      expect(res.body.subscription?.provisioningState).toBe('Succeeded');
    });
  });

  describe('delivery', () => {
    it('delivers a push to the subscriber in the Event Grid schema with the aeg-* headers', async () => {
      const endpointUrl = webhook.on('/push', () => ({ status: 200 }));
      expect((await subscribe({ name: 'redeploy', endpointUrl })).status).toBe(200);
      const pushed = await push('web', '1.4.0');

      const [notification] = await waitFor(
        'the push notification',
        () => webhook.notifications('/push').length > 0 && webhook.notifications('/push'),
        SOON,
      );
      expect(notification!.headers['aeg-event-type']).toBe('Notification');
      expect(notification!.headers['aeg-subscription-name']).toBe('REDEPLOY');
      expect(notification!.headers['aeg-delivery-count']).toBe('0');
      expect(notification!.headers['aeg-metadata-version']).toBe('1');
      expect(notification!.headers['aeg-data-version']).toBe('2.0');
      expect(notification!.headers['content-type']).toMatch(/^application\/json/);

      const raw = JSON.parse(notification!.body) as Record<string, unknown>[];
      expect(raw).toHaveLength(1);
      expect(raw[0]).toMatchObject({
        topic: CONTOSO_ID,
        subject: 'web:1.4.0',
        eventType: 'Microsoft.ContainerRegistry.ImagePushed',
        dataVersion: '2.0',
        metadataVersion: '1',
      });
      expect(raw[0]!['id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(raw[0]!['eventTime']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);

      const [event] = await new EventGridDeserializer().deserializeEventGridEvents(notification!.body);
      expect(event).toBeDefined();
      if (!isSystemEvent('Microsoft.ContainerRegistry.ImagePushed', event!))
        throw new Error('not an ImagePushed event');
      expect(event.data.target?.digest).toBe(pushed.digest);
      expect(event.data.target?.repository).toBe('web');
      expect(event.data.target?.tag).toBe('1.4.0');
      expect(event.data.request?.host).toBe('contoso.azurecr.io');

      const [delivery] = await waitFor(
        'the delivery to be recorded as delivered',
        async () => {
          const list = await deliveries('redeploy');
          return list[0]?.state === 'delivered' && list;
        },
        SOON,
      );
      expect(delivery!.attempts).toEqual([
        expect.objectContaining({ attempt: 1, deliveryCount: 0, status: 200, outcome: 'Delivered' }),
      ]);
    });

    it('redelivers after a 500 with an incremented aeg-delivery-count, on the retry schedule', async () => {
      const endpointUrl = webhook.on('/flaky', (_req, n) =>
        n === 1 ? { status: 500, body: { error: 'boom' } } : { status: 200 },
      );
      await subscribe({ name: 'flaky', endpointUrl });
      const pushed = await push();
      const notifications = await waitFor(
        'a first attempt and its retry',
        () => webhook.notifications('/flaky').length >= 2 && webhook.notifications('/flaky'),
        SOON,
      );
      expect(notifications.map((n) => n.headers['aeg-delivery-count'])).toEqual(['0', '1']);
      const ids = notifications.map((n) => (JSON.parse(n.body) as { id: string }[])[0]!.id);
      expect(ids[0]).toBe(ids[1]);
      expect(notifications[1]!.at - notifications[0]!.at).toBeGreaterThanOrEqual(180);
      const [delivery] = await waitFor(
        'the retried delivery to be recorded as delivered',
        async () => {
          const list = await deliveries('flaky');
          return list[0]?.state === 'delivered' && list;
        },
        SOON,
      );
      expect(delivery!.subject).toBe(pushed.subject);
      expect(delivery!.attempts.map((a) => [a.status, a.outcome])).toEqual([
        [500, 'GenericError'],
        [200, 'Delivered'],
      ]);
      await sleep(500);
      expect(webhook.notifications('/flaky')).toHaveLength(2);
    });

    it.each([400, 401, 403, 413])('does not retry a %i and dead-letters the event', async (status) => {
      const name = `reject-${status}`;
      const endpointUrl = webhook.on(`/${name}`, () => ({ status }));
      await subscribe({ name, endpointUrl });
      const pushed = await push();
      await waitFor('the one rejected request', () => webhook.notifications(`/${name}`).length === 1, SOON);
      const [letter] = await waitFor(
        'the dead letter',
        async () => {
          const letters = await deadLetters(name);
          return letters.length > 0 && letters;
        },
        SOON,
      );
      const outcome = {
        400: 'BadRequest',
        401: 'Unauthorized',
        403: 'Forbidden',
        413: 'RequestEntityTooLarge',
      }[status];
      expect(letter).toMatchObject({
        subscription: name,
        deadLetterReason: `UndeliverableDueToHttp${outcome}`,
        deliveryAttempts: 1,
        lastDeliveryOutcome: outcome,
        lastHttpStatusCode: status,
        event: expect.objectContaining({ subject: pushed.subject }),
      });
      // Well past the first retry interval (200 ms): still one request.
      await sleep(700);
      expect(webhook.notifications(`/${name}`)).toHaveLength(1);
      expect((await deliveries(name))[0]?.state).toBe('deadLettered');
    });

    it('counts a webhook that never answers as a failure and retries it', async () => {
      const endpointUrl = webhook.on('/slow', (_req, n) => (n === 1 ? 'hang' : { status: 202 }));
      await subscribe({ name: 'slow', endpointUrl });
      await push();
      const notifications = await waitFor(
        'the timed-out attempt and its retry',
        () => webhook.notifications('/slow').length >= 2 && webhook.notifications('/slow'),
        SOON,
      );
      expect(notifications.map((n) => n.headers['aeg-delivery-count'])).toEqual(['0', '1']);
      // The retry waits for the timeout (1000 ms in this suite), not for the hung request to close.
      expect(notifications[1]!.at - notifications[0]!.at).toBeGreaterThanOrEqual(900);
      const [delivery] = await waitFor(
        'the retried delivery to be recorded as delivered',
        async () => {
          const list = await deliveries('slow');
          return list[0]?.state === 'delivered' && list;
        },
        SOON,
      );
      expect(delivery!.attempts[0]).toMatchObject({ outcome: 'TimedOut' });
      expect(delivery!.attempts[0]!.durationMs).toBeGreaterThanOrEqual(990);
      // Timeout plus the first retry interval (200 ms), measured where the emulator sends.
      const started = delivery!.attempts.map((a) => Date.parse(a.startedAt));
      expect(started[1]! - started[0]!).toBeGreaterThanOrEqual(1190);
      expect(delivery!.attempts[0]!.status).toBeUndefined();
      expect(delivery!.attempts[1]).toMatchObject({ outcome: 'Delivered', status: 202 });
    });

    it('dead-letters after maxDeliveryAttempts, waiting the schedule between attempts', async () => {
      const endpointUrl = webhook.on('/down', () => ({ status: 503 }));
      await subscribe({ name: 'down', endpointUrl, maxDeliveryAttempts: 3 });
      await push();
      const [letter] = await waitFor(
        'the dead letter after three attempts',
        async () => {
          const letters = await deadLetters('down');
          return letters.length > 0 && letters;
        },
        SOON,
      );
      expect(letter).toMatchObject({
        deadLetterReason: 'MaxDeliveryAttemptsExceeded',
        deliveryAttempts: 3,
        lastDeliveryOutcome: 'Busy',
        lastHttpStatusCode: 503,
      });
      const times = webhook.notifications('/down').map((n) => n.at);
      expect(times).toHaveLength(3);
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(180);
      expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(380);
    });

    it('applies includedEventTypes and case-insensitive subject filters', async () => {
      const onlyDeleted = webhook.on('/only-deleted', () => ({ status: 200 }));
      const apiPrefix = webhook.on('/api-prefix', () => ({ status: 200 }));
      const suffix = webhook.on('/suffix', () => ({ status: 200 }));
      await subscribe({
        name: 'only-deleted',
        endpointUrl: onlyDeleted,
        includedEventTypes: ['Microsoft.ContainerRegistry.ImageDeleted'],
      });
      await subscribe({ name: 'api-prefix', endpointUrl: apiPrefix, subjectBeginsWith: 'API:' });
      await subscribe({ name: 'suffix', endpointUrl: suffix, subjectEndsWith: ':2.0.0-RC' });

      const web = await push('web', '9.9.9');
      await push('api', '2.0.0-rc');
      const deleted = await emulator.control(
        'DELETE',
        `/_emulator/registries/contoso/repositories/web/manifests/${web.digest}`,
      );
      expect(deleted.status).toBeLessThan(300);

      await waitFor(
        'one notification for each matching filter',
        () =>
          webhook.notifications('/only-deleted').length === 1 &&
          webhook.notifications('/api-prefix').length === 1 &&
          webhook.notifications('/suffix').length === 1,
        SOON,
      );
      const subjectOf = (r: Received) => (JSON.parse(r.body) as { subject: string; eventType: string }[])[0]!;
      expect(subjectOf(webhook.notifications('/only-deleted')[0]!)).toMatchObject({
        subject: 'web',
        eventType: 'Microsoft.ContainerRegistry.ImageDeleted',
      });
      expect(subjectOf(webhook.notifications('/api-prefix')[0]!).subject).toBe('api:2.0.0-rc');
      expect(subjectOf(webhook.notifications('/suffix')[0]!).subject).toBe('api:2.0.0-rc');
      // Deliveries are created when the event is accepted: the filtered-out ones never existed.
      expect((await deliveries('only-deleted')).map((d) => d.subject)).toEqual(['web']);
      expect((await deliveries('api-prefix')).map((d) => d.subject)).toEqual(['api:2.0.0-rc']);
    });

    it('raises registry events through the debug control route for any registry', async () => {
      const endpointUrl = webhook.on('/other', () => ({ status: 200 }));
      await subscribe({ registryName: 'fabrikam', name: 'other', endpointUrl, resourceGroup: 'rg-other' });
      const raised = await emulator.control<{ subject: string; digest: string }>(
        'POST',
        '/_emulator/eventgrid/registries/fabrikam/events',
        { repository: 'worker', tag: '3.1.0' },
      );
      expect(raised.status).toBe(202);
      const [notification] = await waitFor(
        'the notification for the other registry',
        () => webhook.notifications('/other').length > 0 && webhook.notifications('/other'),
        SOON,
      );
      const [event] = await new EventGridDeserializer().deserializeEventGridEvents(notification!.body);
      if (!isSystemEvent('Microsoft.ContainerRegistry.ImagePushed', event!))
        throw new Error('not an ImagePushed event');
      expect(event.topic).toBe(
        `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-other/providers/Microsoft.ContainerRegistry/registries/fabrikam`,
      );
      expect(event.subject).toBe('worker:3.1.0');
      expect(event.data.target?.digest).toBe(raised.body.digest);
    });
  });

  describe('delivery faults', () => {
    it('duplicate: delivers the same event twice, for `count` events', async () => {
      const endpointUrl = webhook.on('/dup', () => ({ status: 200 }));
      await subscribe({ name: 'dup', endpointUrl });
      const fault = await emulator.control('POST', '/_emulator/eventgrid/faults', {
        kind: 'duplicate',
        match: { subscription: 'dup' },
        count: 1,
      });
      expect(fault.status).toBe(201);
      await push();
      const first = await waitFor(
        'both copies of the duplicated delivery',
        () => webhook.notifications('/dup').length === 2 && webhook.notifications('/dup'),
        SOON,
      );
      const ids = first.map((n) => (JSON.parse(n.body) as { id: string }[])[0]!.id);
      expect(ids[0]).toBe(ids[1]);
      await push();
      await waitFor('the third copy', () => webhook.notifications('/dup').length === 3, SOON);
      await sleep(300);
      expect(webhook.notifications('/dup')).toHaveLength(3);
      const list = await deliveries('dup');
      expect(
        list
          .filter((d) => d.faults.includes('duplicate'))
          .map((d) => d.copy)
          .sort(),
      ).toEqual([1, 2]);
    });

    it('reorder: holds events for the window and delivers them in reverse order', async () => {
      const endpointUrl = webhook.on('/reo', () => ({ status: 200 }));
      await subscribe({ name: 'reo', endpointUrl });
      await emulator.control('POST', '/_emulator/eventgrid/faults', {
        kind: 'reorder',
        windowMs: 600,
        match: { subscription: 'reo' },
      });
      const started = Date.now();
      const a = await push('web', '5.0.1');
      const b = await push('web', '5.0.2');
      const c = await push('web', '5.0.3');
      const notifications = await waitFor(
        'the three reordered notifications',
        () => webhook.notifications('/reo').length === 3 && webhook.notifications('/reo'),
        SOON,
      );
      expect(notifications[0]!.at - started).toBeGreaterThanOrEqual(550);
      const subjects = notifications.map((n) => (JSON.parse(n.body) as { subject: string }[])[0]!.subject);
      expect(subjects).toEqual([c.subject, b.subject, a.subject]);
    });

    it('delay: postpones the first attempt', async () => {
      const endpointUrl = webhook.on('/late', () => ({ status: 200 }));
      await subscribe({ name: 'late', endpointUrl });
      await emulator.control('POST', '/_emulator/eventgrid/faults', {
        kind: 'delay',
        delayMs: 700,
        match: { subjectBeginsWith: 'WEB:7' },
      });
      const started = Date.now();
      await push('web', '7.0.0');
      const [notification] = await waitFor(
        'the delayed notification',
        () => webhook.notifications('/late').length === 1 && webhook.notifications('/late'),
        SOON,
      );
      expect(notification!.at - started).toBeGreaterThanOrEqual(650);
    });

    it('drop: never sends matching events (recorded as dropped); the next one arrives once the fault is used up', async () => {
      const endpointUrl = webhook.on('/lost', () => ({ status: 200 }));
      await subscribe({ name: 'lost', endpointUrl });
      const fault = await emulator.control('POST', '/_emulator/eventgrid/faults', {
        kind: 'drop',
        match: { subscription: 'lost' },
        count: 1,
      });
      expect(fault.status).toBe(201);
      const dropped = await push('web', '8.0.0');
      const kept = await push('web', '8.0.1');
      const [notification] = await waitFor(
        'the notification after the dropped one',
        () => webhook.notifications('/lost').length === 1 && webhook.notifications('/lost'),
        SOON,
      );
      expect((JSON.parse(notification!.body) as { subject: string }[])[0]!.subject).toBe(kept.subject);
      await sleep(300);
      expect(webhook.notifications('/lost')).toHaveLength(1);
      const list = await deliveries('lost');
      expect(list.map((d) => [d.subject, d.state, d.faults])).toEqual([
        [dropped.subject, 'dropped', ['drop']],
        [kept.subject, 'delivered', []],
      ]);
    });

    it('rejects a fault of unknown kind', async () => {
      const res = await emulator.control<{ message: string }>('POST', '/_emulator/eventgrid/faults', {
        kind: 'explode',
      });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/duplicate, reorder, delay, drop/);
    });
  });

  describe('custom topics (EventGridPublisherClient)', () => {
    let topic: { name: string; endpoint: string; key1: string; id: string };

    beforeAll(async () => {
      const res = await emulator.control<typeof topic>('POST', '/_emulator/eventgrid/topics', {
        name: 'rollout-notifications',
      });
      expect(res.status).toBe(201);
      topic = res.body;
      expect(topic.endpoint).toBe(
        String(emulator.stack['eventGridTopicEndpointTemplate']).replace('{topic}', 'rollout-notifications'),
      );
    });

    const received = async () =>
      (
        await emulator.control<{ value: { schema: string; event: Record<string, unknown> }[] }>(
          'GET',
          `/_emulator/eventgrid/topics/${topic.name}/events`,
        )
      ).body.value;

    it('accepts CloudEvents with the topic key (AzureKeyCredential)', async () => {
      const client = new EventGridPublisherClient(
        topic.endpoint,
        'CloudEvent',
        new AzureKeyCredential(topic.key1),
      );
      const id = crypto.randomUUID();
      await client.send([
        {
          id,
          type: 'Contoso.Rollout.Completed',
          source: '/apps/web',
          subject: 'web',
          data: { digest: 'sha256:1' },
        },
      ]);
      const found = (await received()).find((r) => r.event['id'] === id);
      expect(found).toMatchObject({
        schema: 'CloudEventSchemaV1_0',
        event: {
          specversion: '1.0',
          type: 'Contoso.Rollout.Completed',
          source: '/apps/web',
          data: { digest: 'sha256:1' },
        },
      });
    });

    it('accepts a managed-identity token (DefaultAzureCredential)', async () => {
      const client = new EventGridPublisherClient(topic.endpoint, 'CloudEvent', new DefaultAzureCredential());
      const id = crypto.randomUUID();
      await client.send([
        { id, type: 'Contoso.Rollout.Failed', source: '/apps/web', data: { reason: 'health 503' } },
      ]);
      expect((await received()).some((r) => r.event['id'] === id)).toBe(true);
    });

    it('accepts Event Grid schema events with a shared access signature and stamps the topic', async () => {
      const sas = await generateSharedAccessSignature(
        topic.endpoint,
        new AzureKeyCredential(topic.key1),
        new Date(Date.now() + 600_000),
      );
      const client = new EventGridPublisherClient(topic.endpoint, 'EventGrid', { signature: sas });
      const id = crypto.randomUUID();
      await client.send([
        { id, eventType: 'Contoso.Rollout.Started', subject: 'web', dataVersion: '1.0', data: { step: 1 } },
      ]);
      const found = (await received()).find((r) => r.event['id'] === id);
      expect(found).toMatchObject({
        schema: 'EventGridSchema',
        event: { topic: topic.id, metadataVersion: '1', dataVersion: '1.0' },
      });
    });

    it('refuses a wrong key with 401', async () => {
      const client = new EventGridPublisherClient(
        topic.endpoint,
        'CloudEvent',
        new AzureKeyCredential('d3Jvbmc='),
      );
      await expect(client.send([{ type: 'X', source: '/x', data: {} }])).rejects.toMatchObject({
        statusCode: 401,
      });
    });

    it('forwards published events to subscriptions on the topic (CloudEvents handshake and delivery)', async () => {
      const endpointUrl = webhook.on('/ce', (req) =>
        req.method === 'OPTIONS'
          ? { status: 200, headers: { 'webhook-allowed-origin': 'eventgrid.azure.net' } }
          : { status: 200 },
      );
      const sub = await emulator.control('POST', '/_emulator/eventgrid/subscriptions', {
        topicName: topic.name,
        name: 'notify-ce',
        endpointUrl,
        deliverySchema: 'CloudEventSchemaV1_0',
      });
      expect(sub.status).toBe(200);
      expect(webhook.received.filter((r) => r.path === '/ce' && r.method === 'OPTIONS')).toHaveLength(1);
      const client = new EventGridPublisherClient(
        topic.endpoint,
        'CloudEvent',
        new AzureKeyCredential(topic.key1),
      );
      const id = crypto.randomUUID();
      await client.send([{ id, type: 'Contoso.Rollout.Completed', source: '/apps/web', data: { ok: true } }]);
      const [notification] = await waitFor(
        'the CloudEvents notification',
        () => webhook.notifications('/ce').length > 0 && webhook.notifications('/ce'),
        SOON,
      );
      expect(notification!.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
      const [event] = await new EventGridDeserializer().deserializeCloudEvents(notification!.body);
      expect(event).toMatchObject({
        id,
        type: 'Contoso.Rollout.Completed',
        source: '/apps/web',
        data: { ok: true },
      });
    });
  });

  describe('ARM system topic event subscriptions', () => {
    const base = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-platform/providers/Microsoft.EventGrid/systemTopics/contoso-events`;
    const armCall = async (method: string, pathAndQuery: string, body?: unknown) => {
      const token = await new DefaultAzureCredential().getToken('https://management.azure.com/.default');
      const res = await fetch(`${emulator.url}${pathAndQuery}`, {
        method,
        headers: { authorization: `Bearer ${token.token}`, 'content-type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
      });
      const text = await res.text();
      return {
        status: res.status,
        headers: res.headers,
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- ARM JSON, inspected field by field below
        body: (text ? JSON.parse(text) : undefined) as Record<string, any>,
      };
    };
    const waitOperation = (url: string) =>
      waitFor(
        'the ARM operation to leave InProgress',
        async () => {
          const op = await armCall('GET', url.replace(emulator.url, ''));
          return op.body['status'] !== 'InProgress' && op.body;
        },
        SOON,
      );
    const webhookDestination = (endpointUrl: string) => ({
      properties: {
        destination: { endpointType: 'WebHook', properties: { endpointUrl } },
        filter: { includedEventTypes: ['Microsoft.ContainerRegistry.ImagePushed'] },
        eventDeliverySchema: 'EventGridSchema',
        retryPolicy: { maxDeliveryAttempts: 10, eventTimeToLiveInMinutes: 60 },
      },
    });

    it('creates a webhook subscription as an LRO after the handshake and hides the URL query in GET', async () => {
      await subscribe({ name: 'ensure-topic', endpointUrl: webhook.on('/ensure', () => ({ status: 200 })) });
      const endpointUrl = `${webhook.on('/arm', () => ({ status: 200 }))}?code=secret`;
      const put = await armCall(
        'PUT',
        `${base}/eventSubscriptions/arm-sub?api-version=2025-02-15`,
        webhookDestination(endpointUrl),
      );
      expect(put.status).toBe(201);
      expect(put.body['properties'].provisioningState).toBe('Creating');
      const op = await waitOperation(put.headers.get('azure-asyncoperation')!);
      expect(op['status']).toBe('Succeeded');
      const got = await armCall('GET', `${base}/eventSubscriptions/arm-sub?api-version=2022-06-15`);
      expect(got.body['properties']).toMatchObject({
        provisioningState: 'Succeeded',
        topic: CONTOSO_ID,
        destination: { endpointType: 'WebHook', properties: { endpointBaseUrl: `${webhook.url}/arm` } },
        retryPolicy: { maxDeliveryAttempts: 10, eventTimeToLiveInMinutes: 60 },
      });
      const full = await armCall(
        'POST',
        `${base}/eventSubscriptions/arm-sub/getFullUrl?api-version=2025-02-15`,
      );
      expect(full.body['endpointUrl']).toBe(endpointUrl);
      await push();
      await waitFor(
        'the notification after the subscription is created over ARM',
        () => webhook.notifications('/arm').length === 1,
        SOON,
      );
    });

    it('fails the operation with "Url validation" when the handshake fails, and keeps the subscription Failed', async () => {
      const endpointUrl = webhook.onValidation('/arm-bad', () => ({ status: 500 }));
      const put = await armCall(
        'PUT',
        `${base}/eventSubscriptions/arm-bad?api-version=2025-02-15`,
        webhookDestination(endpointUrl),
      );
      expect(put.status).toBe(201);
      const op = await waitOperation(put.headers.get('azure-asyncoperation')!);
      expect(op).toMatchObject({ status: 'Failed', error: { code: 'Url validation' } });
      const got = await armCall('GET', `${base}/eventSubscriptions/arm-bad?api-version=2025-02-15`);
      expect(got.body['properties'].provisioningState).toBe('Failed');
    });

    it('refuses an unknown api-version and a missing token', async () => {
      const bad = await armCall('GET', `${base}?api-version=2019-01-01`);
      expect(bad.status).toBe(400);
      expect(bad.body['error'].code).toBe('NoRegisteredProviderFound');
      const anonymous = await fetch(`${emulator.url}${base}?api-version=2025-02-15`);
      expect(anonymous.status).toBe(401);
    });
  });
});

describe('emulator Event Grid: pending deliveries survive a restart', () => {
  it('resumes a delivery that was still retrying when the emulator stopped', async () => {
    const webhook = new Webhook();
    await webhook.start();
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aci-emu-eg-'));
    let healthy = false;
    const endpointUrl = webhook.on('/resume', () => (healthy ? { status: 200 } : { status: 500 }));
    const timings = { eventGridRetryScheduleMs: [1500], eventGridDeliveryTimeoutMs: 1000 };
    let emulator = await startTestEmulator({ stateDir, timings });
    try {
      const sub = await emulator.control('POST', '/_emulator/eventgrid/subscriptions', {
        registryName: 'contoso',
        name: 'resume',
        endpointUrl,
      });
      expect(sub.status).toBe(200);
      const pushed = await emulator.control<{ digest: string }>(
        'POST',
        '/_emulator/registries/contoso/push',
        {
          repository: 'web',
          tag: '2.0.0',
        },
      );
      await waitFor(
        'the first attempt before the restart',
        () => webhook.notifications('/resume').length === 1,
        SOON,
      );
      await sleep(100);
      await emulator.close();

      healthy = true;
      emulator = await startTestEmulator({ stateDir, timings });
      const notifications = await waitFor(
        'the retry after the restart',
        () => webhook.notifications('/resume').length === 2 && webhook.notifications('/resume'),
        SOON,
      );
      expect(notifications[1]!.headers['aeg-delivery-count']).toBe('1');
      const body = JSON.parse(notifications[1]!.body) as { data: { target: { digest: string } } }[];
      expect(body[0]!.data.target.digest).toBe(pushed.body.digest);
      const list = await waitFor(
        'the delivery record after the restart',
        async () => {
          const res = await emulator.control<{ value: DeliveryView[] }>(
            'GET',
            '/_emulator/eventgrid/deliveries?subscription=resume',
          );
          return res.body.value[0]?.state === 'delivered' && res.body.value;
        },
        SOON,
      );
      expect(list[0]!.attempts.map((a) => a.status)).toEqual([500, 200]);
    } finally {
      await emulator.close();
      await webhook.close();
    }
  });
});
