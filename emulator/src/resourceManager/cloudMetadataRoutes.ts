/**
 * ARM's cloud metadata endpoint, `GET {arm}/metadata/endpoints?api-version=2015-01-01`, anonymous: where to sign
 * in and which token audiences this Resource Manager accepts ("Make API requests to Azure Stack Hub",
 * azure-stack/user/azure-stack-rest-api-use, shows the request and its `authentication.audiences`). `az cloud
 * register --endpoint-resource-manager URL` reads it (msrestazure `_populate_from_metadata_endpoint`: `galleryEndpoint`,
 * `graphEndpoint`, `authentication.loginEndpoint`, `authentication.audiences[0]`). The emulator stands in for the
 * public cloud, so it answers the public cloud's values; tokens for either audience are accepted on ARM routes.
 */
import type { Route } from '../core/router.js';
import { METADATA_API_VERSIONS } from './apiVersions.js';

export function cloudMetadataRoutes(): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/metadata/endpoints',
      auth: 'none',
      operation: 'Metadata_GetEndpoints',
      apiVersions: METADATA_API_VERSIONS,
      handler: () => ({
        status: 200,
        body: {
          galleryEndpoint: 'https://gallery.azure.com/',
          graphEndpoint: 'https://graph.windows.net/',
          portalEndpoint: 'https://portal.azure.com/',
          authentication: {
            loginEndpoint: 'https://login.windows.net/',
            // In the public cloud's order: the Azure CLI asks for tokens for audiences[0].
            audiences: ['https://management.core.windows.net/', 'https://management.azure.com/'],
          },
        },
      }),
    },
  ];
}
