/**
 * `Microsoft.Network/privateDnsZones` and their `virtualNetworkLinks` (REST spec
 * specification/privatedns/resource-manager/Microsoft.Network/stable/2020-06-01/privatedns.json): create or update,
 * update (tags), delete, get, list by resource group and subscription. Creates and deletes finish at once and answer
 * 200/201 with the resource (the spec's synchronous answers; Azure may also answer 202 and finish in the background,
 * which the SDK's poller treats the same). A zone with links cannot be deleted (409).
 */
import { armRoutes, type EmuRequest, type EmuResponse, type Route } from '../core/router.js';
import { PRIVATE_DNS_API_VERSIONS } from './apiVersions.js';
import { checkPreconditions } from './preconditions.js';
import { privateDnsErrors } from './privateDnsErrors.js';
import { checkGlobal, isObject, linkInput, stringMap, zoneName } from './privateDnsInput.js';
import { page } from './privateDnsPaging.js';
import { newEtag, type ZoneRecord } from './privateDnsStore.js';
import { linkView, zoneView } from './privateDnsViews.js';
import { checkSubscription, ZONE, ZONES, zoneOf, type PrivateDnsParts } from './zoneLookup.js';

export class PrivateZoneRoutes {
  constructor(private readonly p: PrivateDnsParts) {}

  private get sub(): string {
    return this.p.ctx.options.subscriptionId;
  }

  /** Links first: `{zone}/virtualNetworkLinks` must not be read as a record type by the record set routes. */
  routes(): Route[] {
    const arm = armRoutes(PRIVATE_DNS_API_VERSIONS);
    const links = `${ZONE}/virtualNetworkLinks`;
    const link = `${links}/:virtualNetworkLinkName`;
    return [
      arm('GET', links, 'VirtualNetworkLinks_List', (req) => this.listLinks(req)),
      arm('GET', link, 'VirtualNetworkLinks_Get', (req) => this.getLink(req)),
      arm('PUT', link, 'VirtualNetworkLinks_CreateOrUpdate', (req) => this.putLink(req)),
      arm('PATCH', link, 'VirtualNetworkLinks_Update', (req) => this.patchLink(req)),
      arm('DELETE', link, 'VirtualNetworkLinks_Delete', (req) => this.deleteLink(req)),
      arm(
        'GET',
        '/subscriptions/:subscriptionId/providers/Microsoft.Network/privateDnsZones',
        'PrivateZones_List',
        (req) => {
          checkSubscription(this.p.ctx, req);
          return this.pageOfZones(req, this.p.store.zones());
        },
      ),
      arm('GET', ZONES, 'PrivateZones_ListByResourceGroup', (req) => {
        checkSubscription(this.p.ctx, req);
        const rg = (req.params['resourceGroupName'] ?? '').toLowerCase();
        return this.pageOfZones(
          req,
          this.p.store.zones().filter((z) => z.resourceGroup.toLowerCase() === rg),
        );
      }),
      arm('GET', ZONE, 'PrivateZones_Get', (req) => ({
        status: 200,
        body: zoneView(this.sub, zoneOf(this.p, req)),
      })),
      arm('PUT', ZONE, 'PrivateZones_CreateOrUpdate', (req) => this.putZone(req)),
      arm('PATCH', ZONE, 'PrivateZones_Update', (req) => this.patchZone(req)),
      arm('DELETE', ZONE, 'PrivateZones_Delete', (req) => this.deleteZone(req)),
    ];
  }

  private pageOfZones(req: EmuRequest, zones: ZoneRecord[]): EmuResponse {
    return page(
      req,
      this.p.ctx.url,
      zones,
      (z) => zoneView(this.sub, z),
      this.p.ctx.options.pageSize.privateDns,
    );
  }

  private putZone(req: EmuRequest): EmuResponse {
    checkSubscription(this.p.ctx, req);
    const rg = req.params['resourceGroupName'] ?? '';
    const name = zoneName(req.params['privateZoneName'] ?? '');
    if (!isObject(req.body)) throw privateDnsErrors.badRequest('The request body must be a JSON object.');
    checkGlobal(req.body);
    const existing = this.p.store.zone(rg, name);
    checkPreconditions(req, existing);
    const tags = stringMap(req.body['tags'], 'tags');
    // "Does not modify Links to virtual networks or DNS records within the zone."
    const zone: ZoneRecord = existing
      ? { ...existing, tags, etag: newEtag() }
      : { name, resourceGroup: rg, etag: newEtag(), tags, links: {}, aRecordSets: {} };
    this.p.store.putZone(zone);
    return { status: existing ? 200 : 201, body: zoneView(this.sub, zone) };
  }

  private patchZone(req: EmuRequest): EmuResponse {
    const zone = zoneOf(this.p, req);
    checkPreconditions(req, zone);
    if (!isObject(req.body)) throw privateDnsErrors.badRequest('The request body must be a JSON object.');
    if (req.body['tags'] !== undefined) zone.tags = stringMap(req.body['tags'], 'tags');
    zone.etag = newEtag();
    this.p.store.changed();
    return { status: 200, body: zoneView(this.sub, zone) };
  }

  private deleteZone(req: EmuRequest): EmuResponse {
    checkSubscription(this.p.ctx, req);
    const zone = this.p.store.zone(
      req.params['resourceGroupName'] ?? '',
      req.params['privateZoneName'] ?? '',
    );
    checkPreconditions(req, zone);
    if (!zone) return { status: 204 };
    const link = Object.values(zone.links)[0];
    if (link) throw privateDnsErrors.nestedResourcesExist(zone.name, link.name);
    this.p.store.removeZone(zone);
    return { status: 200 };
  }

  private listLinks(req: EmuRequest): EmuResponse {
    const zone = zoneOf(this.p, req);
    const links = Object.values(zone.links).sort((a, b) => a.name.localeCompare(b.name));
    return page(
      req,
      this.p.ctx.url,
      links,
      (l) => linkView(this.sub, zone, l),
      this.p.ctx.options.pageSize.privateDns,
    );
  }

  private linkName(req: EmuRequest): string {
    return (req.params['virtualNetworkLinkName'] ?? '').toLowerCase();
  }

  private getLink(req: EmuRequest): EmuResponse {
    const zone = zoneOf(this.p, req);
    const link = zone.links[this.linkName(req)];
    if (!link)
      throw privateDnsErrors.linkNotFound(
        zone.resourceGroup,
        zone.name,
        req.params['virtualNetworkLinkName'] ?? '',
      );
    return { status: 200, body: linkView(this.sub, zone, link) };
  }

  private putLink(req: EmuRequest): EmuResponse {
    const zone = zoneOf(this.p, req);
    const name = this.linkName(req);
    const input = linkInput(req.body);
    const existing = zone.links[name];
    checkPreconditions(req, existing);
    zone.links[name] = { name, etag: newEtag(), ...input };
    this.p.store.changed();
    return { status: existing ? 200 : 201, body: linkView(this.sub, zone, zone.links[name]) };
  }

  private patchLink(req: EmuRequest): EmuResponse {
    const zone = zoneOf(this.p, req);
    const link = zone.links[this.linkName(req)];
    if (!link)
      throw privateDnsErrors.linkNotFound(
        zone.resourceGroup,
        zone.name,
        req.params['virtualNetworkLinkName'] ?? '',
      );
    checkPreconditions(req, link);
    const body = isObject(req.body) ? req.body : {};
    if (body['tags'] !== undefined) link.tags = stringMap(body['tags'], 'tags');
    const p = isObject(body['properties']) ? body['properties'] : {};
    if (typeof p['registrationEnabled'] === 'boolean') link.registrationEnabled = p['registrationEnabled'];
    link.etag = newEtag();
    this.p.store.changed();
    return { status: 200, body: linkView(this.sub, zone, link) };
  }

  private deleteLink(req: EmuRequest): EmuResponse {
    const zone = zoneOf(this.p, req);
    const link = zone.links[this.linkName(req)];
    checkPreconditions(req, link);
    if (!link) return { status: 204 };
    delete zone.links[link.name];
    this.p.store.changed();
    return { status: 200 };
  }
}
