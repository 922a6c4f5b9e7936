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

export function imagePushedEvent(
  subscriptionId: string,
  registry: RegistryRecord,
  repository: string,
  tag: string,
  manifest: ManifestRecord,
  userAgent = 'docker/27.0.3 go/go1.22.5 os/linux arch/amd64',
): RegistryEvent {
  return {
    registryName: registry.name,
    registryResourceId: registryResourceId(subscriptionId, registry),
    loginServer: loginServerOf(registry),
    location: registry.location,
    eventType: 'Microsoft.ContainerRegistry.ImagePushed',
    subject: `${repository}:${tag}`,
    data: {
      id: crypto.randomUUID(),
      timestamp: eventTimestamp(),
      action: 'push',
      location: registry.location,
      target: {
        mediaType: manifest.mediaType,
        size: manifest.size,
        digest: manifest.digest,
        length: manifest.size,
        repository,
        tag,
      },
      request: {
        id: crypto.randomUUID(),
        host: loginServerOf(registry),
        method: 'PUT',
        useragent: userAgent,
      },
    },
  };
}

export function imageDeletedEvent(
  subscriptionId: string,
  registry: RegistryRecord,
  repository: string,
  manifest: ManifestRecord,
  userAgent = 'azure-cli/2.66',
): RegistryEvent {
  return {
    registryName: registry.name,
    registryResourceId: registryResourceId(subscriptionId, registry),
    loginServer: loginServerOf(registry),
    location: registry.location,
    eventType: 'Microsoft.ContainerRegistry.ImageDeleted',
    subject: repository,
    data: {
      id: crypto.randomUUID(),
      timestamp: eventTimestamp(),
      action: 'delete',
      location: registry.location,
      target: { mediaType: manifest.mediaType, digest: manifest.digest, repository },
      request: {
        id: crypto.randomUUID(),
        host: loginServerOf(registry),
        method: 'DELETE',
        useragent: userAgent,
      },
    },
  };
}
