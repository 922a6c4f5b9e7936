/**
 * Error codes every Resource Manager resource provider shares, each written once (Azurite's error-factory idea),
 * in ARM's envelope `{ error: { code, message } }` (azure-resource-manager-rpc, v1.0/common-api-details.md, "Error
 * Response Content"). Provider-specific codes live in each service's own factory (aciErrors, registryErrors, ...);
 * the subscription and resource-group codes in resourceManager/resourceManagerErrors.ts.
 */
import { armError, EmulatorHttpError } from './errors.js';

export const armErrors = {
  /** ARM's 404 for a resource of `type` (e.g. `Microsoft.ContainerInstance/containerGroups`) that does not exist. */
  resourceNotFound: (type: string, resourceGroup: string, name: string): EmulatorHttpError =>
    armError(
      404,
      'ResourceNotFound',
      `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    ),

  /** ARM's paging token is opaque; one it did not issue is refused. */
  invalidSkipToken: (token: string): EmulatorHttpError =>
    armError(400, 'InvalidSkipToken', `The skip token '${token}' is not valid.`),

  invalidTopValue: (raw: string): EmulatorHttpError =>
    armError(400, 'InvalidTopValue', `The value '${raw}' of '$top' is not a positive integer.`),

  /** ARM's 401 without a token, with its challenge. */
  authenticationHeaderMissing: (): EmulatorHttpError =>
    new EmulatorHttpError(
      401,
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is missing.",
      'arm',
      {
        'www-authenticate': `Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`,
      },
    ),

  invalidAuthenticationToken: (reason: string): EmulatorHttpError =>
    armError(401, 'InvalidAuthenticationToken', `The access token is invalid. ${reason}`),

  invalidAuthenticationTokenAudience: (audience: string, allowed: Iterable<string>): EmulatorHttpError =>
    armError(
      401,
      'InvalidAuthenticationTokenAudience',
      `The access token has been obtained for wrong audience or resource '${audience}'. It should exactly match with one of the allowed audiences ${[...allowed].map((a) => `'${a}/'`).join(',')}.`,
    ),

  missingApiVersionParameter: (): EmulatorHttpError =>
    armError(
      400,
      'MissingApiVersionParameter',
      'The api-version query parameter (?api-version=) is required for all requests.',
    ),

  noRegisteredProviderFound: (
    version: string,
    type: string,
    supported: readonly string[],
  ): EmulatorHttpError =>
    armError(
      400,
      'NoRegisteredProviderFound',
      `No registered resource provider found for location 'westeurope' and API version '${version}' for type '${type}'. The supported api-versions are '${supported.join(', ')}'.`,
    ),

  tooManyRequests: (headers: Record<string, string>): EmulatorHttpError =>
    new EmulatorHttpError(
      429,
      'TooManyRequests',
      'The request is being throttled as the limit has been reached for operation type.',
      'arm',
      headers,
    ),

  noRoute: (method: string, path: string): EmulatorHttpError =>
    armError(404, 'NotFound', `The emulator has no resource at ${method} ${path}.`),

  methodNotAllowed: (method: string): EmulatorHttpError =>
    armError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`),

  /** A bug in the emulator, not an Azure answer: the message says so. */
  internalServerError: (message: string): EmulatorHttpError =>
    armError(500, 'InternalServerError', `Emulator error: ${message}`),
};
