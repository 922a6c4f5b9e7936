/**
 * Event Grid's ARM error codes for system topics and event subscriptions, each written once (Azurite's
 * error-factory idea), in ARM's envelope; and the error an event subscription's operation ends with when the
 * webhook's validation handshake fails.
 */
import { armError, type EmulatorHttpError, type OperationError } from '../core/errors.js';

export const eventGridErrors = {
  systemTopicNotFound: (name: string, resourceGroup: string | undefined): EmulatorHttpError =>
    armError(
      404,
      'ResourceNotFound',
      `The Resource 'Microsoft.EventGrid/systemTopics/${name}' under resource group '${resourceGroup}' was not found.`,
    ),

  eventSubscriptionNotFound: (
    topic: string,
    name: string | undefined,
    resourceGroup: string | undefined,
  ): EmulatorHttpError =>
    armError(
      404,
      'ResourceNotFound',
      `The Resource 'Microsoft.EventGrid/systemTopics/${topic}/eventSubscriptions/${name}' under resource group '${resourceGroup}' was not found.`,
    ),

  /** A required field missing from a PUT body. */
  invalidRequest: (message: string): EmulatorHttpError => armError(400, 'InvalidRequest', message),

  operationNotFound: (id: string): EmulatorHttpError =>
    armError(404, 'NotFound', `Operation ${id} was not found.`),

  urlValidationFailed: (reason: string): OperationError => ({ code: 'Url validation', message: reason }),
};
