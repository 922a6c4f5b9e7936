/**
 * Resource Manager's own resources: the subscription, resource groups and the cloud metadata endpoint, which
 * clients ask before they touch a provider (`az login` lists subscriptions, `az container create` reads the
 * resource group's location, `az cloud register` reads the metadata). Resource groups in use are asked of the
 * other services through `resourceGroups()`.
 */
import type { EmulatorContext, EmulatorService, ResourceGroupUse } from '../core/context.js';
import { cloudMetadataRoutes } from './cloudMetadataRoutes.js';
import { resourceGroupRoutes } from './resourceGroupRoutes.js';
import { ResourceGroupStore } from './resourceGroupStore.js';
import { subscriptionRoutes } from './subscriptionRoutes.js';

export function resourceManagerService(
  ctx: EmulatorContext,
  resourceGroupsInUse: () => ResourceGroupUse[],
): EmulatorService {
  const store = new ResourceGroupStore(ctx.state, resourceGroupsInUse);
  return {
    name: 'resourceManager',
    routes: [...subscriptionRoutes(ctx), ...resourceGroupRoutes(ctx, store), ...cloudMetadataRoutes()],
  };
}
