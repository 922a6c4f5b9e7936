/**
 * Azure Container Registry's ARM error codes, each written once (Azurite's error-factory idea), in ARM's envelope;
 * and the control API's. Registry data-plane errors (distribution-spec body) are in dataPlaneErrors.ts.
 * DisablingPublicNetworkAccessNotSupported as ACR words it (quoted in
 * Azure-Samples/dotNET-Frontend-AB-Testing-on-Azure-Container-Apps#5); AlreadyInUse names the check-name API.
 */
import { armErrors } from '../core/armErrors.js';
import { controlErrors } from '../core/controlErrors.js';
import { armError, EmulatorHttpError } from '../core/errors.js';

const NAME_RULE =
  'Registry names may contain only alpha numeric characters and must be between 5 and 50 characters';

export const registryErrors = {
  /** The message of a refused name, also the checkNameAvailability answer's. */
  nameRule: NAME_RULE,

  resourceNotFound: (resourceGroup: string, name: string): EmulatorHttpError =>
    armErrors.resourceNotFound('Microsoft.ContainerRegistry/registries', resourceGroup, name),

  privateEndpointNotFound: (resourceGroup: string, name: string): EmulatorHttpError =>
    armErrors.resourceNotFound('Microsoft.Network/privateEndpoints', resourceGroup, name),

  invalidContent: (message: string): EmulatorHttpError =>
    armError(
      400,
      'InvalidRequestContent',
      `The request content was invalid and could not be deserialized: ${message}`,
    ),

  invalidResourceName: (): EmulatorHttpError => armError(400, 'InvalidResourceName', NAME_RULE),

  /** The registry's skip token is its own (the last name of the page), so its wording is too. */
  invalidSkipToken: (token: string): EmulatorHttpError =>
    armError(400, 'InvalidSkipToken', `The skip token '${token}' is invalid.`),

  alreadyInUse: (loginServer: string): EmulatorHttpError =>
    armError(
      409,
      'AlreadyInUse',
      `The registry DNS name ${loginServer} is already in use. You can check if the name is already claimed using following API: https://docs.microsoft.com/en-us/rest/api/containerregistry/registries/checknameavailability`,
    ),

  disablingPublicNetworkAccessNotSupported: (sku: string): EmulatorHttpError =>
    armError(
      400,
      'DisablingPublicNetworkAccessNotSupported',
      `Disabling public network access is not supported for the SKU ${sku}. For more information, please visit https://aka.ms/acr/private-link.`,
    ),

  // --- the emulator's control API (not Azure's: plain body) ---------------------------------------------------
  control: {
    registryNotFound: (name: string): EmulatorHttpError =>
      new EmulatorHttpError(
        404,
        'RegistryNotFound',
        `The emulator has no registry named '${name}'.`,
        'plain',
      ),
    registryExists: (name: string): EmulatorHttpError =>
      controlErrors.conflict('AlreadyInUse', `A registry named '${name}' exists already.`),
    repositoryInvalid: (repository: unknown): EmulatorHttpError =>
      new EmulatorHttpError(
        400,
        'NAME_INVALID',
        `'repository' must be a lower-case repository name such as 'web' or 'team/web', got ${JSON.stringify(repository)}.`,
        'plain',
      ),
    tagInvalid: (pattern: string, tag: unknown): EmulatorHttpError =>
      new EmulatorHttpError(
        400,
        'TAG_INVALID',
        `'tag' must match ${pattern}, got ${JSON.stringify(tag)}.`,
        'plain',
      ),
    digestInvalid: (): EmulatorHttpError =>
      new EmulatorHttpError(
        400,
        'DIGEST_INVALID',
        "'digest' must be 'sha256:' followed by 64 lower-case hex digits.",
        'plain',
      ),
    manifestImmutable: (digest: string, repository: string, behavior: unknown): EmulatorHttpError =>
      controlErrors.conflict(
        'MANIFEST_IMMUTABLE',
        `Manifest ${digest} already exists in '${repository}' with behavior ${JSON.stringify(behavior)}; a digest names immutable content.`,
      ),
    manifestUnknown: (digest: string, repository: string, loginServer: string): EmulatorHttpError =>
      new EmulatorHttpError(
        404,
        'MANIFEST_UNKNOWN',
        `manifest ${digest} is not found in repository '${repository}' of ${loginServer}.`,
        'plain',
      ),
    tagUnknown: (tag: string, repository: string): EmulatorHttpError =>
      new EmulatorHttpError(
        404,
        'TAG_UNKNOWN',
        `tag '${tag}' is not found in repository '${repository}'.`,
        'plain',
      ),
  },
};
