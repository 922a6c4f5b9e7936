/**
 * Resource Manager's own error codes, each written once (Azurite's error-factory pattern), in ARM's envelope
 * `{ error: { code, message } }`. Messages as ARM words them: ResourceGroupNotFound in "Troubleshoot common Azure
 * deployment errors" (azure-resource-manager/troubleshooting/common-deployment-errors) and in ARM answers quoted
 * by Azure's tools; InvalidResourceGroup as quoted in Azure/azure-cli#14481; InvalidResourceGroupLocation as ARM
 * answers a PUT that moves an existing group.
 */
import { armError, type EmulatorHttpError } from '../core/errors.js';

export const resourceManagerErrors = {
  subscriptionNotFound: (subscriptionId: string): EmulatorHttpError =>
    armError(404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`),

  resourceGroupNotFound: (name: string): EmulatorHttpError =>
    armError(404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`),

  invalidResourceGroup: (name: string, invalid: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidResourceGroup',
      `The provided resource group name '${name}' has these invalid characters: '${invalid}'. The name can only be a letter, digit, '-', '.', '(', ')' or '_'.`,
    ),

  resourceGroupNameTooLong: (name: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidResourceGroup',
      `The provided resource group name '${name}' is ${name.length} characters long; resource group names are 1-90 characters and cannot end in a period.`,
    ),

  locationRequired: (): EmulatorHttpError =>
    armError(400, 'LocationRequired', 'The location property is required for this definition.'),

  invalidRequestContent: (message: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidRequestContent',
      `The request content was invalid and could not be deserialized: ${message}`,
    ),

  invalidResourceGroupLocation: (requested: string, existing: string): EmulatorHttpError =>
    armError(
      409,
      'InvalidResourceGroupLocation',
      `Invalid resource group location '${requested}'. The Resource group already exists in location '${existing}'.`,
    ),
};
