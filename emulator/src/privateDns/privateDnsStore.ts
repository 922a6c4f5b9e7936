/**
 * Private DNS zones, their virtual network links and A record sets, in the persistent state slice `privateDns`.
 * Names are case-insensitive and kept in lower case, as Azure answers them (RecordSetAPut.json: `recordA` comes back
 * as `recorda`). Every write gives the resource a new ETag (a GUID, as in the REST spec's examples). The DNS server
 * reads the same records.
 *
 * Seed: the zone `apps.internal` in `rg-network`, linked to the sample's VNet `vnet-apps`, so the local sample's app
 * `web` can have the name `web.apps.internal` (scripts/lib/sampleConfig.ts).
 */
import crypto from 'node:crypto';
import type { EmulatorContext } from '../core/context.js';

export interface ARecordSetRecord {
  /** Relative to the zone, lower case; `@` is the apex. */
  name: string;
  etag: string;
  ttl: number;
  ips: string[];
  metadata: Record<string, string>;
}

export interface LinkRecord {
  name: string;
  etag: string;
  tags: Record<string, string>;
  virtualNetworkId: string;
  registrationEnabled: boolean;
}

export interface ZoneRecord {
  /** Lower case, no trailing dot. */
  name: string;
  resourceGroup: string;
  etag: string;
  tags: Record<string, string>;
  /** lower-case name → link */
  links: Record<string, LinkRecord>;
  /** lower-case relative name → A record set */
  aRecordSets: Record<string, ARecordSetRecord>;
}

interface PrivateDnsState {
  /** `{resourceGroup}/{zone}` in lower case → zone */
  zones: Record<string, ZoneRecord>;
}

export const SEED_ZONE = { resourceGroup: 'rg-network', name: 'apps.internal', link: 'vnet-apps-link' };
const SEED_VNET = 'vnet-apps';

export const newEtag = (): string => crypto.randomUUID();

export const zoneKey = (resourceGroup: string, zone: string): string =>
  `${resourceGroup.toLowerCase()}/${zone.toLowerCase().replace(/\.$/, '')}`;

function seed(subscriptionId: string): PrivateDnsState {
  const link: LinkRecord = {
    name: SEED_ZONE.link,
    etag: newEtag(),
    tags: {},
    virtualNetworkId: `/subscriptions/${subscriptionId}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/${SEED_VNET}`,
    registrationEnabled: false,
  };
  const zone: ZoneRecord = {
    name: SEED_ZONE.name,
    resourceGroup: SEED_ZONE.resourceGroup,
    etag: newEtag(),
    tags: {},
    links: { [link.name]: link },
    aRecordSets: {},
  };
  return { zones: { [zoneKey(zone.resourceGroup, zone.name)]: zone } };
}

export class PrivateDnsStore {
  constructor(private readonly ctx: EmulatorContext) {}

  /** Always through the state store: a reset replaces the whole document. */
  private get slice(): PrivateDnsState {
    return this.ctx.state.slice<PrivateDnsState>('privateDns', () => seed(this.ctx.options.subscriptionId));
  }

  changed(): void {
    this.ctx.state.changed();
  }

  ensureSeeded(): void {
    void this.slice;
    this.changed();
  }

  zone(resourceGroup: string, name: string): ZoneRecord | undefined {
    return this.slice.zones[zoneKey(resourceGroup, name)];
  }

  /** Every zone, sorted by resource group and name (a stable order for paging). */
  zones(): ZoneRecord[] {
    return Object.entries(this.slice.zones)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, z]) => z);
  }

  putZone(zone: ZoneRecord): void {
    this.slice.zones[zoneKey(zone.resourceGroup, zone.name)] = zone;
    this.changed();
  }

  removeZone(zone: ZoneRecord): void {
    delete this.slice.zones[zoneKey(zone.resourceGroup, zone.name)];
    this.changed();
  }

  /**
   * The zone a name falls in, as a resolver inside a linked VNet sees it: the longest zone suffix among zones with
   * at least one virtual network link (an unlinked zone resolves nowhere). Two zones of one name in two resource
   * groups linked to the same VNet are refused by Azure; here the first in sort order wins.
   */
  resolvingZone(fqdn: string): ZoneRecord | undefined {
    const name = fqdn.toLowerCase().replace(/\.$/, '');
    let best: ZoneRecord | undefined;
    for (const z of this.zones()) {
      if (Object.keys(z.links).length === 0) continue;
      if (name !== z.name && !name.endsWith(`.${z.name}`)) continue;
      if (!best || z.name.length > best.name.length) best = z;
    }
    return best;
  }
}

/** `web.apps.internal` in zone `apps.internal` → `web`; the apex → `@`. */
export function relativeName(fqdn: string, zone: ZoneRecord): string {
  const name = fqdn.toLowerCase().replace(/\.$/, '');
  return name === zone.name ? '@' : name.slice(0, name.length - zone.name.length - 1);
}
