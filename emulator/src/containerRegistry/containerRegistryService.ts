/**
 * Azure Container Registry: the ARM resource `Microsoft.ContainerRegistry/registries` and the registry's content
 * (repositories, tags, manifests with a behaviour), driven by the control API; pushes and deletes emit ACR's Event
 * Grid events on the bus; `ctx.registryLookup` tells container groups what a pull does. This file wires the parts:
 * registryStore (state), registryArmRoutes, privateEndpointRoutes, registryControlRoutes, registryPushes,
 * registryEventFeed, dataPlaneRoutes (the registry's own /v2 API), registryErrors.
 */
import type { EmulatorContext, EmulatorService } from '../core/context.js';
import { dataPlaneRoutes } from './dataPlaneRoutes.js';
import { DataPlaneTokens } from './dataPlaneTokens.js';
import { privateEndpointRoutes } from './privateEndpointRoutes.js';
import { RegistryArmRoutes } from './registryArmRoutes.js';
import { RegistryControlRoutes } from './registryControlRoutes.js';
import { RegistryEventFeed } from './registryEventFeed.js';
import { createRegistryLookup } from './registryLookup.js';
import { RegistryPushes } from './registryPushes.js';
import { loginServerOf, registryResourceId, RegistryStore } from './registryStore.js';

export function containerRegistryService(ctx: EmulatorContext): EmulatorService {
  const store = new RegistryStore(ctx);
  const lookup = createRegistryLookup(store);
  ctx.registryLookup = lookup;
  const events = new RegistryEventFeed(ctx);
  const pushes = new RegistryPushes(ctx, store, events);
  return {
    name: 'containerRegistry',
    routes: [
      ...new RegistryArmRoutes(ctx, store).routes(),
      ...privateEndpointRoutes(ctx, store),
      ...new RegistryControlRoutes(ctx, store, lookup, pushes, events).routes(),
      ...dataPlaneRoutes(ctx, store, new DataPlaneTokens(ctx)),
    ],
    start: () => store.ensureSeeded(),
    reset: () => {
      events.clear();
      store.ensureSeeded();
    },
    resourceGroups: () => store.all().map((r) => ({ name: r.resourceGroup, location: r.location })),
    describe: () => describeRegistries(ctx, store),
  };
}

/** The registry part of `.local/stack.json`: the main registry and each registry's data-plane template. */
function describeRegistries(ctx: EmulatorContext, store: RegistryStore): Record<string, unknown> {
  const sub = ctx.options.subscriptionId;
  const main = store.get('contoso') ?? store.all()[0];
  // Each registry's data plane (its login server in Azure): the app's ACR_ENDPOINT_TEMPLATE.
  const registryEndpointTemplate = `https://{registry}.azurecr.localhost:${ctx.port}`;
  return main
    ? {
        registryName: main.name,
        registryLoginServer: loginServerOf(main),
        registryResourceId: registryResourceId(sub, main),
        registryEndpointTemplate,
        registries: store.all().map((r) => r.name),
      }
    : { registryEndpointTemplate, registries: [] };
}
