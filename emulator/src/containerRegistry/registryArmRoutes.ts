/**
 * ACR's ARM surface for `Microsoft.ContainerRegistry/registries` (azure-rest-api-specs,
 * specification/containerregistry): list (paged), checkNameAvailability, list by resource group, get, create,
 * update, delete.
 */
import type { EmulatorContext } from '../core/context.js';
import { armRoutes, type EmuRequest, type EmuResponse, type Route } from '../core/router.js';
import { resourceManagerErrors } from '../resourceManager/resourceManagerErrors.js';
import { REGISTRY_API_VERSIONS } from './apiVersions.js';
import { registryErrors } from './registryErrors.js';
import {
  applyProperties,
  checkSkuFeatures,
  isObject,
  oneOf,
  SKUS,
  stringTags,
} from './registryProperties.js';
import {
  loginServerOf,
  newRegistryRecord,
  REGISTRY_NAME_PATTERN,
  toArmResource,
  type RegistryRecord,
  type RegistryStore,
} from './registryStore.js';

const PROVIDER = '/providers/Microsoft.ContainerRegistry/registries';
const RG_BASE = '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName';

export class RegistryArmRoutes {
  constructor(
    private readonly ctx: EmulatorContext,
    private readonly store: RegistryStore,
  ) {}

  private get sub(): string {
    return this.ctx.options.subscriptionId;
  }

  routes(): Route[] {
    const arm = armRoutes(REGISTRY_API_VERSIONS);
    const one = `${RG_BASE}${PROVIDER}/:registryName`;
    return [
      arm('GET', `/subscriptions/:subscriptionId${PROVIDER}`, 'Registries_List', (req) => {
        this.checkSubscription(req);
        return this.page(req, this.store.all());
      }),
      arm(
        'POST',
        '/subscriptions/:subscriptionId/providers/Microsoft.ContainerRegistry/checkNameAvailability',
        'Registries_CheckNameAvailability',
        (req) => this.checkName(req),
      ),
      arm('GET', `${RG_BASE}${PROVIDER}`, 'Registries_ListByResourceGroup', (req) => {
        this.checkSubscription(req);
        const rg = (req.params['resourceGroupName'] ?? '').toLowerCase();
        return this.page(
          req,
          this.store.all().filter((r) => r.resourceGroup.toLowerCase() === rg),
        );
      }),
      arm('GET', one, 'Registries_Get', (req) => ({
        status: 200,
        body: toArmResource(this.sub, this.findInGroup(req)),
      })),
      arm('PATCH', one, 'Registries_Update', (req) => this.update(req)),
      arm('PUT', one, 'Registries_Create', (req) => this.create(req)),
      arm('DELETE', one, 'Registries_Delete', (req) => this.remove(req)),
    ];
  }

  private checkSubscription(req: EmuRequest): void {
    const given = req.params['subscriptionId'] ?? '';
    if (given.toLowerCase() !== this.sub.toLowerCase())
      throw resourceManagerErrors.subscriptionNotFound(given);
  }

  private findInGroup(req: EmuRequest): RegistryRecord {
    this.checkSubscription(req);
    const rg = req.params['resourceGroupName'] ?? '';
    const name = req.params['registryName'] ?? '';
    const r = this.store.get(name);
    if (!r || r.resourceGroup.toLowerCase() !== rg.toLowerCase())
      throw registryErrors.resourceNotFound(rg, name);
    return r;
  }

  /** One page of `items` after the `$skipToken` position, with an absolute nextLink as ARM gives. */
  private page(req: EmuRequest, items: RegistryRecord[]): EmuResponse {
    const size = Math.max(1, this.ctx.options.pageSize.registries);
    const token = req.query.get('$skipToken') ?? req.query.get('$skiptoken');
    let start = 0;
    if (token) {
      let after: string | undefined;
      try {
        after = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: string }).after;
      } catch {
        after = undefined;
      }
      if (typeof after !== 'string') throw registryErrors.invalidSkipToken(token);
      start = items.findIndex((r) => r.name.toLowerCase() > after);
      if (start < 0) start = items.length;
    }
    const slice = items.slice(start, start + size);
    const body: Record<string, unknown> = { value: slice.map((r) => toArmResource(this.sub, r)) };
    const last = slice.at(-1);
    if (last && start + size < items.length) {
      const next = Buffer.from(JSON.stringify({ after: last.name.toLowerCase() })).toString('base64url');
      const apiVersion = req.query.get('api-version') ?? '';
      body['nextLink'] =
        `${this.ctx.url}${req.path}?api-version=${encodeURIComponent(apiVersion)}&$skipToken=${next}`;
    }
    return { status: 200, body };
  }

  private checkName(req: EmuRequest): EmuResponse {
    this.checkSubscription(req);
    const body = isObject(req.body) ? req.body : {};
    const name = typeof body['name'] === 'string' ? body['name'] : '';
    if (!REGISTRY_NAME_PATTERN.test(name)) {
      return {
        status: 200,
        body: { nameAvailable: false, reason: 'Invalid', message: registryErrors.nameRule },
      };
    }
    const taken = this.store.get(name);
    return {
      status: 200,
      body: taken
        ? {
            nameAvailable: false,
            reason: 'AlreadyExists',
            message: `The registry ${name} is already in use.`,
          }
        : { nameAvailable: true },
    };
  }

  private update(req: EmuRequest): EmuResponse {
    const r = this.findInGroup(req);
    if (!isObject(req.body)) throw registryErrors.invalidContent('the body must be a JSON object.');
    const body = req.body;
    // Validate on a copy so a bad field leaves the registry untouched.
    const next = structuredClone(r);
    if (body['tags'] !== undefined) next.tags = stringTags(body['tags'], 'tags');
    if (body['sku'] !== undefined) {
      if (!isObject(body['sku'])) throw registryErrors.invalidContent("'sku' must be an object.");
      next.sku = oneOf(body['sku']['name'], SKUS, 'sku.name');
    }
    applyProperties(next, body['properties']);
    checkSkuFeatures(next);
    next.lastModifiedAt = new Date().toISOString();
    Object.assign(r, next);
    this.store.changed();
    return { status: 200, body: toArmResource(this.sub, r) };
  }

  private create(req: EmuRequest): EmuResponse {
    this.checkSubscription(req);
    const rg = req.params['resourceGroupName'] ?? '';
    const name = req.params['registryName'] ?? '';
    if (!REGISTRY_NAME_PATTERN.test(name)) throw registryErrors.invalidResourceName();
    if (!isObject(req.body)) throw registryErrors.invalidContent('the body must be a JSON object.');
    const body = req.body;
    const existing = this.store.get(name);
    if (existing && existing.resourceGroup.toLowerCase() !== rg.toLowerCase())
      throw registryErrors.alreadyInUse(loginServerOf(existing));
    if (typeof body['location'] !== 'string' || !body['location'])
      throw resourceManagerErrors.locationRequired();
    if (!isObject(body['sku'])) throw registryErrors.invalidContent("'sku' is required.");
    const sku = oneOf(body['sku']['name'], SKUS, 'sku.name');
    const next = existing
      ? structuredClone(existing)
      : newRegistryRecord({ name, resourceGroup: rg, location: body['location'], sku });
    next.sku = sku;
    if (body['tags'] !== undefined) next.tags = stringTags(body['tags'], 'tags');
    applyProperties(next, body['properties']);
    checkSkuFeatures(next);
    next.lastModifiedAt = new Date().toISOString();
    if (existing) Object.assign(existing, next);
    else this.store.add(next);
    this.store.changed();
    return { status: existing ? 200 : 201, body: toArmResource(this.sub, existing ?? next) };
  }

  private remove(req: EmuRequest): EmuResponse {
    this.checkSubscription(req);
    const rg = (req.params['resourceGroupName'] ?? '').toLowerCase();
    const r = this.store.get(req.params['registryName'] ?? '');
    if (!r || r.resourceGroup.toLowerCase() !== rg) return { status: 204 };
    this.store.remove(r.name);
    return { status: 200 };
  }
}
