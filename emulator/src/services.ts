/** The emulated Azure services, in routing order. */
import type { ServiceFactory } from './core/context.js';
import { containerInstanceService } from './containerInstance/containerInstanceService.js';
import { containerRegistryService } from './containerRegistry/containerRegistryService.js';
import { eventGridService } from './eventGrid/eventGridService.js';
import { keyVaultService } from './keyVault/keyVaultService.js';
import { privateDnsService } from './privateDns/privateDnsService.js';

export const SERVICE_FACTORIES: readonly ServiceFactory[] = [
  // The registry first: it provides ctx.registryLookup that container groups use to pull images.
  containerRegistryService,
  containerInstanceService,
  keyVaultService,
  eventGridService,
  privateDnsService,
];
