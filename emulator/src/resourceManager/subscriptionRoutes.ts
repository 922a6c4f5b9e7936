/**
 * Subscriptions_List (`GET /subscriptions`) and Subscriptions_Get (`GET /subscriptions/{id}`): the one subscription
 * the emulator serves, in the shape of azure-rest-api-specs `Microsoft.Resources/stable/2022-12-01/subscriptions.json`
 * (examples GetSubscriptions.json, GetSubscription.json). `az login --identity` lists subscriptions to build its
 * profile and needs `id`, `subscriptionId`, `tenantId`, `displayName` and `state`.
 */
import type { EmulatorContext } from '../core/context.js';
import type { EmuRequest, Route } from '../core/router.js';
import { SUBSCRIPTIONS_API_VERSIONS } from './apiVersions.js';
import { resourceManagerErrors } from './resourceManagerErrors.js';

export const SUBSCRIPTION_DISPLAY_NAME = 'Emulated subscription';

export function subscriptionRoutes(ctx: EmulatorContext): Route[] {
  const subscription = () => {
    const { subscriptionId, tenantId } = ctx.options;
    return {
      id: `/subscriptions/${subscriptionId}`,
      subscriptionId,
      tenantId,
      displayName: SUBSCRIPTION_DISPLAY_NAME,
      state: 'Enabled',
      subscriptionPolicies: {
        locationPlacementId: 'Public_2014-09-01',
        quotaId: 'PayAsYouGo_2014-09-01',
        spendingLimit: 'Off',
      },
      authorizationSource: 'RoleBased',
      managedByTenants: [],
    };
  };

  const get = (req: EmuRequest) => {
    const requested = req.params['subscriptionId'] ?? '';
    if (requested.toLowerCase() !== ctx.options.subscriptionId.toLowerCase()) {
      throw resourceManagerErrors.subscriptionNotFound(requested);
    }
    return { status: 200, body: subscription() };
  };

  return [
    {
      method: 'GET',
      pattern: '/subscriptions',
      auth: 'arm',
      operation: 'Subscriptions_List',
      apiVersions: SUBSCRIPTIONS_API_VERSIONS,
      // One page: the emulator serves one subscription.
      handler: () => ({ status: 200, body: { value: [subscription()] } }),
    },
    {
      method: 'GET',
      pattern: '/subscriptions/:subscriptionId',
      auth: 'arm',
      operation: 'Subscriptions_Get',
      apiVersions: SUBSCRIPTIONS_API_VERSIONS,
      handler: get,
    },
  ];
}
