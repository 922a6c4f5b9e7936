/** What every Private DNS route starts with: the subscription check and the zone the path names. */
import type { EmulatorContext } from '../core/context.js';
import type { EmuRequest } from '../core/router.js';
import { resourceManagerErrors } from '../resourceManager/resourceManagerErrors.js';
import { privateDnsErrors } from './privateDnsErrors.js';
import type { PrivateDnsStore, ZoneRecord } from './privateDnsStore.js';

export const ZONES =
  '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.Network/privateDnsZones';
export const ZONE = `${ZONES}/:privateZoneName`;

export interface PrivateDnsParts {
  ctx: EmulatorContext;
  store: PrivateDnsStore;
}

export function checkSubscription(ctx: EmulatorContext, req: EmuRequest): void {
  const given = req.params['subscriptionId'] ?? '';
  if (given.toLowerCase() !== ctx.options.subscriptionId.toLowerCase())
    throw resourceManagerErrors.subscriptionNotFound(given);
}

/** The zone of the path, or ResourceNotFound. */
export function zoneOf(p: PrivateDnsParts, req: EmuRequest): ZoneRecord {
  checkSubscription(p.ctx, req);
  const rg = req.params['resourceGroupName'] ?? '';
  const name = req.params['privateZoneName'] ?? '';
  const zone = p.store.zone(rg, name);
  if (!zone) throw privateDnsErrors.zoneNotFound(rg, name);
  return zone;
}
