/**
 * An ACR event raised through the control API (`POST /_emulator/eventgrid/registries/{name}/events`) as a push or
 * delete would raise it, for testing and debugging: the shape of registryEvents.ts's events, with a random digest
 * unless one is given.
 */
import crypto from 'node:crypto';
import type { RegistryEvent } from '../core/context.js';
import { requiredString } from '../core/controlBody.js';
import { controlErrors } from '../core/controlErrors.js';
import {
  DEFAULT_LOCATION,
  DEFAULT_REGISTRY_RESOURCE_GROUP,
  type EventGridBroker,
} from './eventGridBroker.js';

/** 9 fractional digits, as the registry writes `data.timestamp`. */
function registryTimestamp(): string {
  const nanos = String(process.hrtime()[1] % 1_000_000).padStart(6, '0');
  return new Date().toISOString().replace(/\.(\d{3})Z$/, `.$1${nanos}Z`);
}

export function raisedRegistryEvent(
  broker: EventGridBroker,
  registryName: string,
  body: Record<string, unknown>,
): { event: RegistryEvent; summary: Record<string, unknown> } {
  const repository = requiredString(body, 'repository');
  const rawType = typeof body['eventType'] === 'string' ? body['eventType'] : 'ImagePushed';
  const short = rawType.replace(/^Microsoft\.ContainerRegistry\./i, '');
  if (!/^Image(Pushed|Deleted)$/i.test(short))
    throw controlErrors.badRequest(
      'eventType must be Microsoft.ContainerRegistry.ImagePushed or ImageDeleted.',
    );
  const pushed = /^ImagePushed$/i.test(short);
  const tag = typeof body['tag'] === 'string' ? body['tag'] : pushed ? 'latest' : undefined;
  const digest =
    typeof body['digest'] === 'string'
      ? body['digest']
      : `sha256:${crypto.createHash('sha256').update(crypto.randomUUID()).digest('hex')}`;
  const known = broker.findSystemTopicForRegistry(registryName);
  const resourceGroup =
    typeof body['resourceGroup'] === 'string'
      ? body['resourceGroup']
      : (known?.resourceGroup ?? DEFAULT_REGISTRY_RESOURCE_GROUP);
  const location =
    typeof body['location'] === 'string' ? body['location'] : (known?.location ?? DEFAULT_LOCATION);
  const loginServer = `${registryName.toLowerCase()}.azurecr.io`;
  const mediaType = 'application/vnd.docker.distribution.manifest.v2+json';
  const event: RegistryEvent = {
    registryName,
    registryResourceId: known?.source ?? broker.registryResourceId(resourceGroup, registryName),
    loginServer,
    location,
    eventType: pushed
      ? 'Microsoft.ContainerRegistry.ImagePushed'
      : 'Microsoft.ContainerRegistry.ImageDeleted',
    subject: pushed ? `${repository}:${tag}` : repository,
    data: {
      id: crypto.randomUUID(),
      timestamp: registryTimestamp(),
      action: pushed ? 'push' : 'delete',
      location,
      target: pushed
        ? { mediaType, size: 3023, digest, length: 3023, repository, tag }
        : { mediaType, digest, repository },
      request: {
        id: crypto.randomUUID(),
        host: loginServer,
        method: pushed ? 'PUT' : 'DELETE',
        useragent: 'docker/27.0.3 go/go1.22.5 os/linux arch/amd64',
      },
    },
  };
  return {
    event,
    summary: { registryName, eventType: event.eventType, subject: event.subject, repository, tag, digest },
  };
}
