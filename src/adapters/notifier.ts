/**
 * Rollout notifications as CloudEvents 1.0 on an Event Grid topic (`EventGridPublisherClient`, Entra ID auth).
 * Only built when NOTIFY_TOPIC_ENDPOINT is set. The payload holds names, digests and times: no secret values.
 */
import type { EventGridPublisherClient } from '@azure/eventgrid';
import type { Notification } from '../domain/model.js';
import type { Notifier } from '../domain/ports.js';
import { fromAzureError } from './azureErrors.js';

export const NOTIFICATION_TYPE_PREFIX = 'AciBlueGreen.';

export class EventGridNotifier implements Notifier {
  constructor(
    private readonly client: EventGridPublisherClient<'CloudEvent'>,
    private readonly options: { requestTimeoutMs?: number } = {},
  ) {}

  async publish(event: Notification): Promise<void> {
    try {
      await this.client.send(
        [
          {
            id: event.id,
            type: `${NOTIFICATION_TYPE_PREFIX}${event.type}`,
            source: `/apps/${event.app}`,
            // An action that touched no rollout (pause, resume) is about the app itself.
            subject: event.rolloutId
              ? `${event.app}/rollouts/${event.rolloutId}`
              : `${event.app}/actions/${event.type}`,
            time: new Date(event.at),
            datacontenttype: 'application/json',
            data: { ...event },
          },
        ],
        { abortSignal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000) },
      );
    } catch (e) {
      throw fromAzureError(`Event Grid publish ${event.type} for ${event.app}`, e);
    }
  }
}
