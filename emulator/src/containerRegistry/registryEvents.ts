/** ACR's Event Grid events (ImagePushed, ImageDeleted): the `data` shapes of the fixtures in /work/shared/fixtures. */
import crypto from 'node:crypto';
import type { RegistryEvent } from '../core/context.js';
import {
  loginServerOf,
  registryResourceId,
  type ManifestRecord,
  type RegistryRecord,
} from './registryStore.js';

/** ACR timestamps carry seven fractional digits (.NET's round-trip format). */
export function eventTimestamp(at = new Date()): string {
  const extra = String(crypto.randomInt(0, 10_000)).padStart(4, '0');
  return at.toISOString().replace(/\.(\d{3})Z$/, `.$1${extra}Z`);
}

/** What every event of one registry shares: where it comes from, and the data fields around the target. */
function registryEvent(
  subscriptionId: string,
  registry: RegistryRecord,
  eventType: RegistryEvent['eventType'],
  subject: string,
  action: 'push' | 'delete',
  target: Record<string, unknown>,
  request: { method: 'PUT' | 'DELETE'; useragent: string },
): RegistryEvent {
  return {
    registryName: registry.name,
    registryResourceId: registryResourceId(subscriptionId, registry),
    loginServer: loginServerOf(registry),
    location: registry.location,
    eventType,
    subject,
    data: {
      id: crypto.randomUUID(),
      timestamp: eventTimestamp(),
      action,
      location: registry.location,
      target,
      request: { id: crypto.randomUUID(), host: loginServerOf(registry), ...request },
    },
  };
}

export function imagePushedEvent(
  subscriptionId: string,
  registry: RegistryRecord,
  repository: string,
  tag: string,
  manifest: ManifestRecord,
  userAgent = 'docker/27.0.3 go/go1.22.5 os/linux arch/amd64',
): RegistryEvent {
  return registryEvent(
    subscriptionId,
    registry,
    'Microsoft.ContainerRegistry.ImagePushed',
    `${repository}:${tag}`,
    'push',
    {
      mediaType: manifest.mediaType,
      size: manifest.size,
      digest: manifest.digest,
      length: manifest.size,
      repository,
      tag,
    },
    { method: 'PUT', useragent: userAgent },
  );
}

export function imageDeletedEvent(
  subscriptionId: string,
  registry: RegistryRecord,
  repository: string,
  manifest: ManifestRecord,
  userAgent = 'azure-cli/2.66',
): RegistryEvent {
  return registryEvent(
    subscriptionId,
    registry,
    'Microsoft.ContainerRegistry.ImageDeleted',
    repository,
    'delete',
    { mediaType: manifest.mediaType, digest: manifest.digest, repository },
    { method: 'DELETE', useragent: userAgent },
  );
}
