/**
 * Resource groups as `Microsoft.Resources` serves them (azure-rest-api-specs
 * `Microsoft.Resources/stable/2022-09-01/resources.json`): ResourceGroups_Get (200 `ResourceGroup`),
 * ResourceGroups_CheckExistence (HEAD: 204, or 404 without a body; example CheckExistenceResourceGroups.json),
 * ResourceGroups_CreateOrUpdate (PUT `{ location, tags?, managedBy? }`: 201 new, 200 existing) and
 * ResourceGroups_List (paged with `$top` and an absolute `nextLink`). A group the emulator does not know answers
 * ARM's 404 `ResourceGroupNotFound`. `az container create` reads the group first for its location (the Azure CLI's
 * recordings, e.g. test_container_create.yaml: `GET /subscriptions/{s}/resourcegroups/{rg}?api-version=2022-09-01`).
 */
import type { EmulatorContext } from '../core/context.js';
import { armErrors } from '../core/armErrors.js';
import { EmulatorHttpError, notImplemented } from '../core/errors.js';
import { armRoutes, type EmuRequest, type EmuResponse, type Route } from '../core/router.js';
import { RESOURCES_API_VERSIONS } from './apiVersions.js';
import {
  normaliseLocation,
  type ResourceGroupRecord,
  type ResourceGroupStore,
} from './resourceGroupStore.js';
import { resourceManagerErrors } from './resourceManagerErrors.js';

const RESOURCE_GROUP = '/subscriptions/:subscriptionId/resourcegroups/:resourceGroupName';

/**
 * "Resource group: 1-90 characters; underscores, hyphens, periods, parentheses, and letters or digits; can't end
 * with a period" ("Naming rules and restrictions for Azure resources", Microsoft.Resources); the specs' pattern is
 * `^[-\w._()]+$` with Unicode word characters.
 */
const NAME_CHARACTER = /[-\p{L}\p{N}_.()]/u;

function checkName(name: string): void {
  const invalid = [...new Set([...name].filter((c) => !NAME_CHARACTER.test(c)))].join('');
  if (invalid || name.length === 0) throw resourceManagerErrors.invalidResourceGroup(name, invalid);
  if (name.length > 90 || name.endsWith('.')) throw resourceManagerErrors.resourceGroupNameTooLong(name);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function resourceGroupRoutes(ctx: EmulatorContext, store: ResourceGroupStore): Route[] {
  const checkSubscription = (req: EmuRequest) => {
    const requested = req.params['subscriptionId'] ?? '';
    if (requested.toLowerCase() !== ctx.options.subscriptionId.toLowerCase()) {
      throw resourceManagerErrors.subscriptionNotFound(requested);
    }
  };

  const render = (g: ResourceGroupRecord) => ({
    id: `/subscriptions/${ctx.options.subscriptionId}/resourceGroups/${g.name}`,
    name: g.name,
    type: 'Microsoft.Resources/resourceGroups',
    location: g.location,
    ...(Object.keys(g.tags).length > 0 ? { tags: g.tags } : {}),
    properties: { provisioningState: 'Succeeded' },
  });

  const known = (req: EmuRequest): ResourceGroupRecord => {
    checkSubscription(req);
    const name = req.params['resourceGroupName'] ?? '';
    checkName(name);
    const group = store.find(name);
    if (!group) throw resourceManagerErrors.resourceGroupNotFound(name);
    return group;
  };

  const checkExistence = (req: EmuRequest): EmuResponse => {
    try {
      known(req);
      return { status: 204 };
    } catch (err) {
      // HEAD carries no body: ARM answers the bare status.
      if (err instanceof EmulatorHttpError) return { status: err.status };
      throw err;
    }
  };

  const createOrUpdate = (req: EmuRequest): EmuResponse => {
    checkSubscription(req);
    const name = req.params['resourceGroupName'] ?? '';
    checkName(name);
    const body = req.body;
    if (!isObject(body)) throw resourceManagerErrors.invalidRequestContent('the body must be a JSON object.');
    const location = body['location'];
    if (typeof location !== 'string' || location.trim() === '')
      throw resourceManagerErrors.locationRequired();
    const tags = body['tags'] ?? {};
    if (!isObject(tags) || Object.values(tags).some((v) => typeof v !== 'string')) {
      throw resourceManagerErrors.invalidRequestContent("'tags' must be an object of string values.");
    }
    const existing = store.find(name);
    const requested = normaliseLocation(location);
    if (existing && existing.location !== requested) {
      throw resourceManagerErrors.invalidResourceGroupLocation(requested, existing.location);
    }
    const { record, created } = store.put({ name, location, tags: tags as Record<string, string> });
    return { status: created ? 201 : 200, body: render(record) };
  };

  const list = (req: EmuRequest): EmuResponse => {
    checkSubscription(req);
    if (req.query.get('$filter')) throw notImplemented('filtering resource groups ($filter)');
    const all = store.all();
    const rawTop = req.query.get('$top');
    const top = rawTop === null ? all.length : Number(rawTop);
    if (!Number.isInteger(top) || top < 1) {
      throw armErrors.invalidTopValue(rawTop ?? '');
    }
    const skipToken = req.query.get('$skiptoken');
    const offset = skipToken === null ? 0 : Number(Buffer.from(skipToken, 'base64url').toString('utf8'));
    if (!Number.isInteger(offset) || offset < 0) {
      throw armErrors.invalidSkipToken(skipToken ?? '');
    }
    const page = all.slice(offset, offset + top);
    const body: Record<string, unknown> = { value: page.map(render) };
    if (offset + top < all.length) {
      const next = Buffer.from(String(offset + top)).toString('base64url');
      const version = encodeURIComponent(req.query.get('api-version') ?? '');
      body['nextLink'] =
        `https://${req.headers.host ?? new URL(ctx.url).host}/subscriptions/${ctx.options.subscriptionId}/resourcegroups?api-version=${version}&$top=${top}&$skiptoken=${next}`;
    }
    return { status: 200, body };
  };

  const arm = armRoutes(RESOURCES_API_VERSIONS);

  return [
    arm('GET', '/subscriptions/:subscriptionId/resourcegroups', 'ResourceGroups_List', list),
    arm('GET', RESOURCE_GROUP, 'ResourceGroups_Get', (req) => ({ status: 200, body: render(known(req)) })),
    arm('HEAD', RESOURCE_GROUP, 'ResourceGroups_CheckExistence', checkExistence),
    arm('PUT', RESOURCE_GROUP, 'ResourceGroups_CreateOrUpdate', createOrUpdate),
    arm('PATCH', RESOURCE_GROUP, 'ResourceGroups_Update', () => {
      throw notImplemented('updating resource groups');
    }),
    arm('DELETE', RESOURCE_GROUP, 'ResourceGroups_Delete', () => {
      throw notImplemented('deleting resource groups');
    }),
  ];
}
