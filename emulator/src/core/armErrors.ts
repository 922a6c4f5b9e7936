/**
 * Error codes every Resource Manager resource provider shares, each written once (Azurite's error-factory idea),
 * in ARM's envelope `{ error: { code, message } }` (azure-resource-manager-rpc, v1.0/common-api-details.md, "Error
 * Response Content"). Provider-specific codes live in each service's own factory (aciErrors, registryErrors, ...);
 * the subscription and resource-group codes in resourceManager/resourceManagerErrors.ts.
 */
import { armError, type EmulatorHttpError } from './errors.js';

export const armErrors = {
  /** ARM's paging token is opaque; one it did not issue is refused. */
  invalidSkipToken: (token: string): EmulatorHttpError =>
    armError(400, 'InvalidSkipToken', `The skip token '${token}' is not valid.`),

  invalidTopValue: (raw: string): EmulatorHttpError =>
    armError(400, 'InvalidTopValue', `The value '${raw}' of '$top' is not a positive integer.`),
};
