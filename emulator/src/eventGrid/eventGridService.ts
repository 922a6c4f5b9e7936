/**
 * Event Grid: one system topic per registry (`{registry}-events`) carrying ACR's ImagePushed/ImageDeleted events
 * from the emulator's bus to validated webhook subscriptions, with Azure's retry and dead-letter rules; custom
 * topics the app can publish to; delivery faults; a control API under `/_emulator/eventgrid/`; ARM routes for
 * system topics and their event subscriptions.
 */
import type { EmulatorContext, EmulatorService } from '../core/context.js';
import { ensureCa } from '../core/ca.js';
import { DeliveryEngine } from './deliveryEngine.js';
import { EventGridBroker } from './eventGridBroker.js';
import { eventGridArmRoutes } from './eventGridArmRoutes.js';
import { eventGridControlRoutes } from './eventGridControlRoutes.js';
import { eventGridPublishRoutes } from './eventGridPublishRoutes.js';
import { SubscriptionValidator } from './subscriptionValidation.js';
import { createWebhookClient } from './webhookClient.js';

export function eventGridService(ctx: EmulatorContext): EmulatorService {
  // Webhooks served over https with the emulator's own CA (e.g. a test's server) are trusted like Azure trusts
  // public CAs.
  const callWebhook = createWebhookClient(ensureCa(ctx.options.caDir).certPem);
  const engine = new DeliveryEngine(ctx, callWebhook);
  const validator = new SubscriptionValidator(ctx, callWebhook);
  const broker = new EventGridBroker(ctx, engine, validator);

  const onRegistryEvent = (event: Parameters<EventGridBroker['publishRegistryEvent']>[0]) => {
    try {
      broker.publishRegistryEvent(event);
    } catch (err) {
      ctx.log(`event grid: could not accept registry event: ${(err as Error).message}`);
    }
  };
  ctx.bus.on('registryEvent', onRegistryEvent);

  return {
    name: 'eventGrid',
    routes: [
      ...eventGridControlRoutes(ctx, broker, engine),
      ...eventGridPublishRoutes(ctx, broker, validator),
      ...eventGridArmRoutes(ctx, broker),
    ],
    start() {
      broker.failInterruptedValidations();
      engine.start();
    },
    stop() {
      engine.stop();
      ctx.bus.off('registryEvent', onRegistryEvent);
    },
    reset() {
      engine.reset();
    },
    describe: () => ({
      eventGridTopicEndpointTemplate: `${ctx.url}/eventgrid/topics/{topic}/api/events`,
      eventGridSystemTopicNameTemplate: '{registry}-events',
      eventGridSubscriptionsUrl: `${ctx.url}/_emulator/eventgrid/subscriptions`,
    }),
  };
}
