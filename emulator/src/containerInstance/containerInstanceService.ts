/**
 * Azure Container Instances: ARM `Microsoft.ContainerInstance/containerGroups` (create/update as an LRO with
 * Pending → Creating → Succeeded/Failed, get, list by resource group and subscription with nextLink paging, PATCH
 * tags, delete/restart/start LROs, stop) plus the async-operation status endpoint the LRO headers point at, and
 * containers that really run: a Running group listens on its IP (from its subnet's emulated range) on its ports.
 *
 * This file only wires the parts (see ../../README.md for the layout): groupStore (state), groupViews
 * (rendering), operations (LROs), network (addresses, listeners), lifecycle (state machine, timers), armRoutes
 * and controlRoutes (the two HTTP surfaces).
 *
 * Emulator-only behaviour (documented in the README): every resource group name is taken to exist; images outside
 * `*.azurecr.io` are public and healthy; the control API adds maintenance (host move, new IP), platform restart,
 * bulk seeding and a debug listing.
 */
import type { EmulatorContext, EmulatorService } from '../core/context.js';
import { ContainerGroupArmRoutes, type AciParts } from './armRoutes.js';
import { ContainerRuntime } from './containerRuntime.js';
import { ContainerGroupControlRoutes } from './controlRoutes.js';
import { GroupStore } from './groupStore.js';
import { GroupViews } from './groupViews.js';
import { GroupLifecycle } from './lifecycle.js';
import { GroupNetwork } from './network.js';
import { Operations } from './operations.js';
import { publicRange } from './subnetAddresses.js';

export function containerInstanceService(ctx: EmulatorContext): EmulatorService {
  const store = new GroupStore(ctx);
  const runtime = new ContainerRuntime(ctx.log);
  const views = new GroupViews(ctx, store);
  const operations = new Operations(ctx, store, views);
  const network = new GroupNetwork(store, runtime, views);
  const lifecycle = new GroupLifecycle(ctx, store, runtime, network, operations, views);
  const parts: AciParts = { ctx, store, views, operations, network, lifecycle, runtime };

  return {
    name: 'containerInstance',
    routes: [
      ...new ContainerGroupArmRoutes(parts).routes(),
      ...new ContainerGroupControlRoutes(parts).routes(),
    ],
    start: () => lifecycle.resumeAll(),
    stop: () => lifecycle.stopAll(),
    resourceGroups: () =>
      Object.values(store.groups).map((g) => ({ name: g.resourceGroup, location: g.location })),
    async reset() {
      await lifecycle.stopAll();
      store.running = true;
    },
    describe: () => ({
      containerInstance: {
        apiVersion: '2023-05-01',
        publicAddressPool: publicRange().cidr,
        subnetRanges: '127.{100-199}.{0-255}.0/24 (one per subnet id)',
      },
    }),
  };
}
