/**
 * The emulator's control API for registries (`/_emulator/registries...`, not Azure's): list and add registries,
 * resolve what a pull of an image would do, set network settings, push, list repositories and recent events,
 * delete a manifest (ImageDeleted) and untag. Plain `{ code, message }` errors.
 */
import type { EmulatorContext } from '../core/context.js';
import { objectBody } from '../core/controlBody.js';
import { controlErrors } from '../core/controlErrors.js';
import { controlRoute, type EmuRequest, type EmuResponse, type Route } from '../core/router.js';
import type { RegistryEventFeed } from './registryEventFeed.js';
import { registryErrors } from './registryErrors.js';
import { imageDeletedEvent } from './registryEvents.js';
import type { RegistryLookup } from '../core/context.js';
import {
  applyProperties,
  checkSkuFeatures,
  oneOf,
  parsePrivateEndpoints,
  SKUS,
  stringTags,
} from './registryProperties.js';
import type { RegistryPushes } from './registryPushes.js';
import {
  loginServerOf,
  newRegistryRecord,
  privateEndpointId,
  REGISTRY_NAME_PATTERN,
  registryResourceId,
  toArmResource,
  type RegistryRecord,
  type RegistryStore,
} from './registryStore.js';

export class RegistryControlRoutes {
  constructor(
    private readonly ctx: EmulatorContext,
    private readonly store: RegistryStore,
    private readonly lookup: RegistryLookup,
    private readonly pushes: RegistryPushes,
    private readonly events: RegistryEventFeed,
  ) {}

  private get sub(): string {
    return this.ctx.options.subscriptionId;
  }

  routes(): Route[] {
    const one = '/_emulator/registries/:registryName';
    return [
      controlRoute('GET', '/_emulator/registries', 'Emulator_ListRegistries', () => ({
        status: 200,
        body: { value: this.store.all().map((r) => this.summary(r)) },
      })),
      controlRoute('POST', '/_emulator/registries', 'Emulator_AddRegistry', (req) => this.add(req)),
      controlRoute('GET', '/_emulator/registries/resolve', 'Emulator_ResolveImage', (req) =>
        this.resolve(req.query.get('image'), req.query.get('identity'), req.query.get('username')),
      ),
      controlRoute('POST', '/_emulator/registries/resolve', 'Emulator_ResolveImage', (req) => {
        const body = objectBody(req);
        const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : null);
        return this.resolve(str('image'), str('identity'), str('username'));
      }),
      controlRoute('POST', `${one}/network`, 'Emulator_SetRegistryNetwork', (req) => this.setNetwork(req)),
      controlRoute('POST', `${one}/push`, 'Emulator_Push', (req) =>
        this.pushes.push(this.requireRegistry(req.params['registryName']), objectBody(req)),
      ),
      controlRoute('GET', `${one}/repositories`, 'Emulator_ListRepositories', (req) => {
        const r = this.requireRegistry(req.params['registryName']);
        return {
          status: 200,
          body: { registry: r.name, loginServer: loginServerOf(r), repositories: repositoriesOf(r) },
        };
      }),
      controlRoute('GET', `${one}/events`, 'Emulator_ListRegistryEvents', (req) => {
        const r = this.requireRegistry(req.params['registryName']);
        return { status: 200, body: { value: this.events.forRegistry(r.name) } };
      }),
      controlRoute(
        'DELETE',
        `${one}/repositories/:repository/manifests/:digest`,
        'Emulator_DeleteManifest',
        (req) => this.deleteManifest(req),
      ),
      controlRoute('DELETE', `${one}/repositories/:repository/tags/:tag`, 'Emulator_Untag', (req) =>
        this.untag(req),
      ),
    ];
  }

  private requireRegistry(name: string | undefined): RegistryRecord {
    const r = this.store.get(name ?? '');
    if (!r) throw registryErrors.control.registryNotFound(name ?? '');
    return r;
  }

  private summary(r: RegistryRecord) {
    return {
      name: r.name,
      resourceGroup: r.resourceGroup,
      location: r.location,
      sku: r.sku,
      loginServer: loginServerOf(r),
      resourceId: registryResourceId(this.sub, r),
      publicNetworkAccess: r.publicNetworkAccess,
      defaultAction: r.networkRuleSet.defaultAction,
      networkRuleBypassOptions: r.networkRuleBypassOptions,
      roleAssignmentMode: r.roleAssignmentMode,
      privateEndpoints: r.privateEndpoints.map((pe) => ({
        id: privateEndpointId(this.sub, pe),
        subnetId: pe.subnetId,
      })),
      anonymousPullEnabled: r.anonymousPullEnabled,
      repositories: Object.keys(r.repositories).length,
    };
  }

  private add(req: EmuRequest): EmuResponse {
    const body = objectBody(req);
    const name = body['name'];
    const resourceGroup = body['resourceGroup'];
    if (typeof name !== 'string' || !REGISTRY_NAME_PATTERN.test(name))
      throw controlErrors.badRequest("'name' must be 5-50 letters or digits.");
    if (typeof resourceGroup !== 'string' || !/^[-\w.()]{1,90}$/.test(resourceGroup))
      throw controlErrors.badRequest("'resourceGroup' must be a resource group name.");
    if (this.store.get(name)) throw registryErrors.control.registryExists(name);
    let record: RegistryRecord;
    try {
      record = newRegistryRecord({
        name,
        resourceGroup,
        ...(typeof body['location'] === 'string' ? { location: body['location'] } : {}),
        ...(body['sku'] !== undefined ? { sku: oneOf(body['sku'], SKUS, 'sku') } : {}),
      });
      applyProperties(record, {
        publicNetworkAccess: body['publicNetworkAccess'],
        anonymousPullEnabled: body['anonymousPullEnabled'],
        adminUserEnabled: body['adminUserEnabled'],
        networkRuleBypassOptions: body['networkRuleBypassOptions'],
        roleAssignmentMode: body['roleAssignmentMode'],
        ...(body['defaultAction'] !== undefined
          ? { networkRuleSet: { defaultAction: body['defaultAction'] } }
          : {}),
      });
      if (body['tags'] !== undefined) record.tags = stringTags(body['tags'], 'tags');
      checkSkuFeatures(record);
    } catch (err) {
      throw controlErrors.badRequest((err as Error).message);
    }
    this.store.add(record);
    return { status: 201, body: toArmResource(this.sub, record) };
  }

  private setNetwork(req: EmuRequest): EmuResponse {
    const r = this.requireRegistry(req.params['registryName']);
    const body = objectBody(req);
    const next = structuredClone(r);
    try {
      if (body['sku'] !== undefined) next.sku = oneOf(body['sku'], SKUS, 'sku');
      applyProperties(next, {
        publicNetworkAccess: body['publicNetworkAccess'],
        networkRuleBypassOptions: body['networkRuleBypassOptions'],
        roleAssignmentMode: body['roleAssignmentMode'],
        ...(body['defaultAction'] !== undefined || body['ipRules'] !== undefined
          ? {
              networkRuleSet: {
                defaultAction: body['defaultAction'] ?? r.networkRuleSet.defaultAction,
                ipRules: body['ipRules'] ?? r.networkRuleSet.ipRules,
              },
            }
          : {}),
      });
      if (body['privateEndpoints'] !== undefined)
        next.privateEndpoints = parsePrivateEndpoints(body['privateEndpoints'], next);
      checkSkuFeatures(next);
      if (next.sku !== 'Premium' && next.privateEndpoints.length > 0)
        throw new Error(`Private endpoints need the Premium SKU; ${next.name} is ${next.sku}.`);
    } catch (err) {
      throw controlErrors.badRequest((err as Error).message);
    }
    next.lastModifiedAt = new Date().toISOString();
    Object.assign(r, next);
    this.store.changed();
    return { status: 200, body: toArmResource(this.sub, r) };
  }

  private deleteManifest(req: EmuRequest): EmuResponse {
    const r = this.requireRegistry(req.params['registryName']);
    const repository = req.params['repository'] ?? '';
    const digest = req.params['digest'] ?? '';
    const repo = r.repositories[repository];
    const manifest = repo?.manifests[digest];
    if (!repo || !manifest)
      throw registryErrors.control.manifestUnknown(digest, repository, loginServerOf(r));
    const untagged = Object.entries(repo.tags)
      .filter(([, d]) => d === digest)
      .map(([t]) => t);
    for (const t of untagged) {
      delete repo.tags[t];
      delete repo.tagTimes?.[t];
    }
    delete repo.manifests[digest];
    if (Object.keys(repo.manifests).length === 0) delete r.repositories[repository];
    this.store.changed();
    const userAgent = req.query.get('userAgent') ?? undefined;
    this.events.emit(imageDeletedEvent(this.sub, r, repository, manifest, userAgent));
    return { status: 200, body: { repository, digest, untagged } };
  }

  private untag(req: EmuRequest): EmuResponse {
    const r = this.requireRegistry(req.params['registryName']);
    const repository = req.params['repository'] ?? '';
    const tag = req.params['tag'] ?? '';
    const repo = r.repositories[repository];
    const digest = repo?.tags[tag];
    if (!repo || !digest) throw registryErrors.control.tagUnknown(tag, repository);
    delete repo.tags[tag];
    delete repo.tagTimes?.[tag];
    this.store.changed();
    return { status: 200, body: { repository, tag, digest } };
  }

  private resolve(image: string | null, identity: string | null, username: string | null): EmuResponse {
    if (!image) throw controlErrors.badRequest("'image' is required.");
    const resolution = this.lookup.resolveImage(image, {
      ...(identity ? { identity } : {}),
      ...(username ? { username } : {}),
    });
    return { status: 200, body: resolution };
  }
}

/** A registry's repositories with their manifests, oldest first, each naming its tags. */
function repositoriesOf(r: RegistryRecord) {
  return Object.values(r.repositories)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((repo) => ({
      name: repo.name,
      tags: repo.tags,
      manifests: Object.values(repo.manifests)
        .sort((a, b) => a.pushedAt.localeCompare(b.pushedAt))
        .map((m) => ({
          ...m,
          tags: Object.entries(repo.tags)
            .filter(([, d]) => d === m.digest)
            .map(([t]) => t)
            .sort(),
        })),
    }));
}
