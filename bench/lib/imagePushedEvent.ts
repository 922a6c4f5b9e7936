/**
 * ACR `ImagePushed` events in the Event Grid schema (Microsoft Learn, "Azure Container Registry as an Event Grid
 * source", `dataVersion` 2.0), and their delivery to a Functions Event Grid webhook the way a subscription sends
 * them: one event per request, `aeg-event-type: Notification`. Shared by the benchmarks and the event-storm test.
 */

export interface RegistryRef {
  name: string;
  /** The registry's ARM id: the event's `topic`. */
  resourceId: string;
  /** `contoso.azurecr.io` (the emulator's `registryLoginServer`): the event's `data.request.host`. */
  loginServer: string;
}

export interface PushedImage {
  repository: string;
  tag: string;
  digest: string;
}

export function imagePushedEvent(id: string, image: PushedImage, registry: RegistryRef, at: Date): unknown {
  return {
    id,
    topic: registry.resourceId,
    subject: `${image.repository}:${image.tag}`,
    eventType: 'Microsoft.ContainerRegistry.ImagePushed',
    eventTime: at.toISOString(),
    dataVersion: '2.0',
    metadataVersion: '1',
    data: {
      id,
      timestamp: at.toISOString(),
      action: 'push',
      target: {
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        digest: image.digest,
        repository: image.repository,
        tag: image.tag,
      },
      request: { id, host: registry.loginServer, method: 'PUT', useragent: 'bench' },
    },
  };
}

export interface DeliveryAnswer {
  /** HTTP status; 0 when the request itself failed (connection refused or reset). */
  status: number;
  /** From sending to the whole answer read. */
  ms: number;
  /** Epoch ms when the request was sent. */
  sentAt: number;
}

/** POSTs one delivery (a batch of events) to the webhook and reads the whole answer. */
export async function deliver(webhookUrl: string, events: unknown[]): Promise<DeliveryAnswer> {
  const sentAt = Date.now();
  const started = performance.now();
  try {
    const res = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
      body: JSON.stringify(events),
    });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - started, sentAt };
  } catch {
    return { status: 0, ms: performance.now() - started, sentAt };
  }
}

/** Answers counted by HTTP status (`"202": 998`, `"0"` for requests that failed). */
export function countStatuses(answers: DeliveryAnswer[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) out[String(a.status)] = (out[String(a.status)] ?? 0) + 1;
  return out;
}

/** A 5xx, or no answer at all: what Event Grid would redeliver. */
export const failedAnswer = (a: DeliveryAnswer) => a.status >= 500 || a.status === 0;
