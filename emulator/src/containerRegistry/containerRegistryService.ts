/**
 * Azure Container Registry: the ARM resource `Microsoft.ContainerRegistry/registries` (get, list, list by
 * resource group, create, update, delete, name check) and the registry's content (repositories, tags, manifests
 * with a behaviour), driven by the control API: push, delete manifest, untag, network settings. Pushes and
 * deletes emit ACR's Event Grid events on the bus; `ctx.registryLookup` tells container groups what a pull does.
 */
import type { EmulatorContext, EmulatorService, RegistryEvent } from '../core/context.js';
import { armError, EmulatorHttpError } from '../core/errors.js';
import type { EmuRequest, EmuResponse, Route } from '../core/router.js';
import { DIGEST_PATTERN, parseBehavior, REPOSITORY_PATTERN, TAG_PATTERN } from './imageReference.js';
import {
  buildxIndex,
  dockerImageManifest,
  formatPlatform,
  parsePlatform,
  type Platform,
} from './dataPlaneManifests.js';
import { dataPlaneRoutes } from './dataPlaneRoutes.js';
import { DataPlaneTokens } from './dataPlaneTokens.js';
import { imageDeletedEvent, imagePushedEvent } from './registryEvents.js';
import { privateEndpointRoutes } from './privateEndpointRoutes.js';
import { createRegistryLookup } from './registryLookup.js';
import {
  loginServerOf,
  MANIFEST_MEDIA_TYPE,
  newRegistryRecord,
  privateEndpointId,
  REGISTRY_NAME_PATTERN,
  registryResourceId,
  RegistryStore,
  ROLE_ASSIGNMENT_MODES,
  toArmResource,
  type ManifestRecord,
  type PrivateEndpointRecord,
  type RegistryRecord,
  type SkuName,
} from './registryStore.js';

/**
 * api-versions of Microsoft.ContainerRegistry/registries (azure-rest-api-specs, specification/containerregistry):
 * 2025-11-01 is what @azure/arm-containerregistry 12.x sends; the Azure CLI sends older ones. Latest last.
 */
export const REGISTRY_API_VERSIONS = [
  '2017-03-01',
  '2017-06-01-preview',
  '2017-10-01',
  '2019-05-01',
  '2019-12-01-preview',
  '2020-11-01-preview',
  '2021-06-01-preview',
  '2021-08-01-preview',
  '2021-09-01',
  '2021-12-01-preview',
  '2022-02-01-preview',
  '2022-12-01',
  '2023-01-01-preview',
  '2023-06-01-preview',
  '2023-07-01',
  '2023-08-01-preview',
  '2023-11-01-preview',
  '2024-11-01-preview',
  '2025-03-01-preview',
  '2025-04-01',
  '2025-05-01-preview',
  '2025-06-01-preview',
  '2025-11-01',
] as const;

const SKUS: readonly SkuName[] = ['Basic', 'Standard', 'Premium'];
const PROVIDER = '/providers/Microsoft.ContainerRegistry/registries';
const RG_BASE = '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName';

function controlError(status: number, code: string, message: string): EmulatorHttpError {
  return new EmulatorHttpError(status, code, message, 'plain');
}

function invalidContent(message: string): EmulatorHttpError {
  return armError(
    400,
    'InvalidRequestContent',
    `The request content was invalid and could not be deserialized: ${message}`,
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  const match = allowed.find((a) => typeof value === 'string' && a.toLowerCase() === value.toLowerCase());
  if (!match) {
    throw invalidContent(
      `Error converting value '${String(value)}' of '${field}'. Allowed: ${allowed.join(', ')}.`,
    );
  }
  return match;
}

function stringTags(value: unknown, field: string): Record<string, string> {
  if (!isObject(value)) throw invalidContent(`'${field}' must be an object of strings.`);
  for (const v of Object.values(value)) {
    if (typeof v !== 'string') throw invalidContent(`'${field}' must be an object of strings.`);
  }
  return value as Record<string, string>;
}

/** Applies the writable registry properties of a PUT or PATCH body (RegistryProperties / ...UpdateParameters). */
function applyProperties(r: RegistryRecord, props: unknown): void {
  if (props === undefined || props === null) return;
  if (!isObject(props)) throw invalidContent("'properties' must be an object.");
  if (props['publicNetworkAccess'] !== undefined)
    r.publicNetworkAccess = oneOf(
      props['publicNetworkAccess'],
      ['Enabled', 'Disabled'],
      'publicNetworkAccess',
    );
  if (props['adminUserEnabled'] !== undefined) {
    if (typeof props['adminUserEnabled'] !== 'boolean')
      throw invalidContent("'adminUserEnabled' must be a boolean.");
    r.adminUserEnabled = props['adminUserEnabled'];
  }
  if (props['anonymousPullEnabled'] !== undefined) {
    if (typeof props['anonymousPullEnabled'] !== 'boolean')
      throw invalidContent("'anonymousPullEnabled' must be a boolean.");
    r.anonymousPullEnabled = props['anonymousPullEnabled'];
  }
  if (props['networkRuleBypassOptions'] !== undefined)
    r.networkRuleBypassOptions = oneOf(
      props['networkRuleBypassOptions'],
      ['AzureServices', 'None'],
      'networkRuleBypassOptions',
    );
  if (props['roleAssignmentMode'] !== undefined)
    r.roleAssignmentMode = oneOf(props['roleAssignmentMode'], ROLE_ASSIGNMENT_MODES, 'roleAssignmentMode');
  if (props['dataEndpointEnabled'] !== undefined)
    r.dataEndpointEnabled = props['dataEndpointEnabled'] === true;
  if (props['zoneRedundancy'] !== undefined)
    r.zoneRedundancy = oneOf(props['zoneRedundancy'], ['Enabled', 'Disabled'], 'zoneRedundancy');
  const rules = props['networkRuleSet'];
  if (rules !== undefined && rules !== null) {
    if (!isObject(rules)) throw invalidContent("'networkRuleSet' must be an object.");
    const defaultAction = oneOf(rules['defaultAction'], ['Allow', 'Deny'], 'networkRuleSet.defaultAction');
    const ipRules: { action: 'Allow'; value: string }[] = [];
    if (rules['ipRules'] !== undefined) {
      if (!Array.isArray(rules['ipRules']))
        throw invalidContent("'networkRuleSet.ipRules' must be an array.");
      for (const rule of rules['ipRules'] as unknown[]) {
        if (!isObject(rule) || typeof rule['value'] !== 'string')
          throw invalidContent(
            "each of 'networkRuleSet.ipRules' needs a 'value' (IP address or CIDR range).",
          );
        ipRules.push({ action: 'Allow', value: rule['value'] });
      }
    }
    r.networkRuleSet = { defaultAction, ipRules };
  }
}

/**
 * Network features the registry's SKU does not have. ACR refuses to disable public network access below Premium
 * with `DisablingPublicNetworkAccessNotSupported` ("Disabling public network access is not supported for the SKU
 * Basic. For more information, please visit https://aka.ms/acr/private-link.", as reported in
 * Azure-Samples/dotNET-Frontend-AB-Testing-on-Azure-Container-Apps#5); private endpoints are Premium only
 * (container-registry-private-link).
 */
function checkSkuFeatures(r: RegistryRecord): void {
  if (r.sku === 'Premium') return;
  if (r.publicNetworkAccess === 'Disabled')
    throw armError(
      400,
      'DisablingPublicNetworkAccessNotSupported',
      `Disabling public network access is not supported for the SKU ${r.sku}. For more information, please visit https://aka.ms/acr/private-link.`,
    );
}

/** `privateEndpoints` of the network control route: `[{ name, subnetId, resourceGroup? }]`. */
function parsePrivateEndpoints(value: unknown, registry: RegistryRecord): PrivateEndpointRecord[] {
  if (!Array.isArray(value))
    throw new Error("'privateEndpoints' must be an array of { name, subnetId, resourceGroup? }.");
  return value.map((pe, i) => {
    if (!isObject(pe) || typeof pe['name'] !== 'string' || !/^[\w][\w.-]{0,78}[\w]$/.test(pe['name']))
      throw new Error(
        `privateEndpoints[${i}].name must be a private endpoint name (2-80 letters, digits, '_', '.', '-').`,
      );
    if (typeof pe['subnetId'] !== 'string' || !SUBNET_ID.test(pe['subnetId']))
      throw new Error(
        `privateEndpoints[${i}].subnetId must be a subnet resource id (/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}).`,
      );
    const resourceGroup = pe['resourceGroup'] ?? registry.resourceGroup;
    if (typeof resourceGroup !== 'string' || !/^[-\w.()]{1,90}$/.test(resourceGroup))
      throw new Error(`privateEndpoints[${i}].resourceGroup must be a resource group name.`);
    return { name: pe['name'], resourceGroup, subnetId: pe['subnetId'] };
  });
}

const SUBNET_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i;

export function containerRegistryService(ctx: EmulatorContext): EmulatorService {
  const store = new RegistryStore(ctx);
  const lookup = createRegistryLookup(store);
  const dataPlaneTokens = new DataPlaneTokens(ctx);
  ctx.registryLookup = lookup;
  /** The latest events this service emitted (not persisted), for GET /_emulator/registries/{name}/events. */
  const recentEvents: (RegistryEvent & { emittedAt: string })[] = [];
  const emit = (event: RegistryEvent) => {
    recentEvents.push({ ...event, emittedAt: new Date().toISOString() });
    if (recentEvents.length > 200) recentEvents.splice(0, recentEvents.length - 200);
    ctx.bus.emit('registryEvent', event);
  };
  const sub = () => ctx.options.subscriptionId;

  const checkSubscription = (req: EmuRequest): void => {
    const given = req.params['subscriptionId'] ?? '';
    if (given.toLowerCase() !== sub().toLowerCase()) {
      throw armError(404, 'SubscriptionNotFound', `The subscription '${given}' could not be found.`);
    }
  };

  const notFound = (rg: string, name: string) =>
    armError(
      404,
      'ResourceNotFound',
      `The Resource 'Microsoft.ContainerRegistry/registries/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    );

  const findInGroup = (req: EmuRequest): RegistryRecord => {
    checkSubscription(req);
    const rg = req.params['resourceGroupName'] ?? '';
    const name = req.params['registryName'] ?? '';
    const r = store.get(name);
    if (!r || r.resourceGroup.toLowerCase() !== rg.toLowerCase()) throw notFound(rg, name);
    return r;
  };

  /** One page of `items` after the `$skipToken` position, with an absolute nextLink as ARM gives. */
  const page = (req: EmuRequest, items: RegistryRecord[]): EmuResponse => {
    const size = Math.max(1, ctx.options.pageSize.registries);
    const token = req.query.get('$skipToken') ?? req.query.get('$skiptoken');
    let start = 0;
    if (token) {
      let after: string | undefined;
      try {
        after = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: string }).after;
      } catch {
        after = undefined;
      }
      if (typeof after !== 'string')
        throw armError(400, 'InvalidSkipToken', `The skip token '${token}' is invalid.`);
      start = items.findIndex((r) => r.name.toLowerCase() > after);
      if (start < 0) start = items.length;
    }
    const slice = items.slice(start, start + size);
    const body: Record<string, unknown> = { value: slice.map((r) => toArmResource(sub(), r)) };
    const last = slice.at(-1);
    if (last && start + size < items.length) {
      const next = Buffer.from(JSON.stringify({ after: last.name.toLowerCase() })).toString('base64url');
      const apiVersion = req.query.get('api-version') ?? '';
      body['nextLink'] =
        `${ctx.url}${req.path}?api-version=${encodeURIComponent(apiVersion)}&$skipToken=${next}`;
    }
    return { status: 200, body };
  };

  const armRoutes: Route[] = [
    {
      method: 'GET',
      pattern: `/subscriptions/:subscriptionId${PROVIDER}`,
      auth: 'arm',
      operation: 'Registries_List',
      apiVersions: REGISTRY_API_VERSIONS,
      handler: (req) => {
        checkSubscription(req);
        return page(req, store.all());
      },
    },
    {
      method: 'POST',
      pattern: '/subscriptions/:subscriptionId/providers/Microsoft.ContainerRegistry/checkNameAvailability',
      auth: 'arm',
      operation: 'Registries_CheckNameAvailability',
      apiVersions: REGISTRY_API_VERSIONS,
      handler: (req) => {
        checkSubscription(req);
        const body = isObject(req.body) ? req.body : {};
        const name = typeof body['name'] === 'string' ? body['name'] : '';
        if (!REGISTRY_NAME_PATTERN.test(name)) {
          return {
            status: 200,
            body: {
              nameAvailable: false,
              reason: 'Invalid',
              message:
                'Registry names may contain only alpha numeric characters and must be between 5 and 50 characters',
            },
          };
        }
        const taken = store.get(name);
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
      },
    },
    {
      method: 'GET',
      pattern: `${RG_BASE}${PROVIDER}`,
      auth: 'arm',
      operation: 'Registries_ListByResourceGroup',
      apiVersions: REGISTRY_API_VERSIONS,
      handler: (req) => {
        checkSubscription(req);
        const rg = (req.params['resourceGroupName'] ?? '').toLowerCase();
        return page(
          req,
          store.all().filter((r) => r.resourceGroup.toLowerCase() === rg),
        );
      },
    },
    {
      method: 'GET',
      pattern: `${RG_BASE}${PROVIDER}/:registryName`,
      auth: 'arm',
      operation: 'Registries_Get',
      apiVersions: REGISTRY_API_VERSIONS,
      handler: (req) => ({ status: 200, body: toArmResource(sub(), findInGroup(req)) }),
    },
    {
      method: 'PATCH',
      pattern: `${RG_BASE}${PROVIDER}/:registryName`,
      auth: 'arm',
      operation: 'Registries_Update',
      apiVersions: REGISTRY_API_VERSIONS,
      handler: (req) => {
        const r = findInGroup(req);
        if (!isObject(req.body)) throw invalidContent('the body must be a JSON object.');
        const body = req.body;
        // Validate on a copy so a bad field leaves the registry untouched.
        const next = structuredClone(r);
        if (body['tags'] !== undefined) next.tags = stringTags(body['tags'], 'tags');
        if (body['sku'] !== undefined) {
          if (!isObject(body['sku'])) throw invalidContent("'sku' must be an object.");
          next.sku = oneOf(body['sku']['name'], SKUS, 'sku.name');
        }
        applyProperties(next, body['properties']);
        checkSkuFeatures(next);
        next.lastModifiedAt = new Date().toISOString();
        Object.assign(r, next);
        store.changed();
        return { status: 200, body: toArmResource(sub(), r) };
      },
    },
    {
      method: 'PUT',
      pattern: `${RG_BASE}${PROVIDER}/:registryName`,
      auth: 'arm',
      operation: 'Registries_Create',
      apiVersions: REGISTRY_API_VERSIONS,
      handler: (req) => {
        checkSubscription(req);
        const rg = req.params['resourceGroupName'] ?? '';
        const name = req.params['registryName'] ?? '';
        if (!REGISTRY_NAME_PATTERN.test(name)) {
          throw armError(
            400,
            'InvalidResourceName',
            'Registry names may contain only alpha numeric characters and must be between 5 and 50 characters',
          );
        }
        if (!isObject(req.body)) throw invalidContent('the body must be a JSON object.');
        const body = req.body;
        const existing = store.get(name);
        if (existing && existing.resourceGroup.toLowerCase() !== rg.toLowerCase()) {
          throw armError(
            409,
            'AlreadyInUse',
            `The registry DNS name ${loginServerOf(existing)} is already in use. You can check if the name is already claimed using following API: https://docs.microsoft.com/en-us/rest/api/containerregistry/registries/checknameavailability`,
          );
        }
        if (typeof body['location'] !== 'string' || !body['location'])
          throw armError(400, 'LocationRequired', 'The location property is required for this definition.');
        if (!isObject(body['sku'])) throw invalidContent("'sku' is required.");
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
        else store.add(next);
        store.changed();
        return { status: existing ? 200 : 201, body: toArmResource(sub(), existing ?? next) };
      },
    },
    {
      method: 'DELETE',
      pattern: `${RG_BASE}${PROVIDER}/:registryName`,
      auth: 'arm',
      operation: 'Registries_Delete',
      apiVersions: REGISTRY_API_VERSIONS,
      handler: (req) => {
        checkSubscription(req);
        const rg = (req.params['resourceGroupName'] ?? '').toLowerCase();
        const r = store.get(req.params['registryName'] ?? '');
        if (!r || r.resourceGroup.toLowerCase() !== rg) return { status: 204 };
        store.remove(r.name);
        return { status: 200 };
      },
    },
  ];

  // ---- control API -------------------------------------------------------------------------------------------

  const requireRegistry = (name: string | undefined): RegistryRecord => {
    const r = store.get(name ?? '');
    if (!r)
      throw controlError(404, 'RegistryNotFound', `The emulator has no registry named '${name ?? ''}'.`);
    return r;
  };

  const controlBody = (req: EmuRequest): Record<string, unknown> => {
    if (!isObject(req.body)) throw controlError(400, 'BadRequest', 'The body must be a JSON object.');
    return req.body;
  };

  const summary = (r: RegistryRecord) => ({
    name: r.name,
    resourceGroup: r.resourceGroup,
    location: r.location,
    sku: r.sku,
    loginServer: loginServerOf(r),
    resourceId: registryResourceId(sub(), r),
    publicNetworkAccess: r.publicNetworkAccess,
    defaultAction: r.networkRuleSet.defaultAction,
    networkRuleBypassOptions: r.networkRuleBypassOptions,
    roleAssignmentMode: r.roleAssignmentMode,
    privateEndpoints: r.privateEndpoints.map((pe) => ({
      id: privateEndpointId(sub(), pe),
      subnetId: pe.subnetId,
    })),
    anonymousPullEnabled: r.anonymousPullEnabled,
    repositories: Object.keys(r.repositories).length,
  });

  const repositoriesOf = (r: RegistryRecord) =>
    Object.values(r.repositories)
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

  const push = (req: EmuRequest): EmuResponse => {
    const r = requireRegistry(req.params['registryName']);
    const body = controlBody(req);
    const repository = body['repository'];
    const tag = body['tag'];
    if (typeof repository !== 'string' || !REPOSITORY_PATTERN.test(repository)) {
      throw controlError(
        400,
        'NAME_INVALID',
        `'repository' must be a lower-case repository name such as 'web' or 'team/web', got ${JSON.stringify(repository)}.`,
      );
    }
    if (typeof tag !== 'string' || !TAG_PATTERN.test(tag)) {
      throw controlError(
        400,
        'TAG_INVALID',
        `'tag' must match ${TAG_PATTERN.source}, got ${JSON.stringify(tag)}.`,
      );
    }
    let behavior;
    try {
      behavior = parseBehavior(body['behavior']);
    } catch (err) {
      throw controlError(400, 'BadRequest', (err as Error).message);
    }
    const existingRepo = r.repositories[repository];
    if (body['platforms'] !== undefined) {
      if (body['digest'] !== undefined)
        throw controlError(
          400,
          'BadRequest',
          "'platforms' pushes a new index; it cannot be combined with 'digest'.",
        );
      return pushIndex(r, repository, tag, platformsOf(body['platforms']), behavior, body);
    }
    let manifest: ManifestRecord | undefined;
    if (body['digest'] !== undefined) {
      const digest = body['digest'];
      if (typeof digest !== 'string' || !DIGEST_PATTERN.test(digest)) {
        throw controlError(
          400,
          'DIGEST_INVALID',
          "'digest' must be 'sha256:' followed by 64 lower-case hex digits.",
        );
      }
      manifest = existingRepo?.manifests[digest];
      if (
        manifest &&
        body['behavior'] !== undefined &&
        JSON.stringify(manifest.behavior) !== JSON.stringify(behavior)
      ) {
        throw controlError(
          409,
          'MANIFEST_IMMUTABLE',
          `Manifest ${digest} already exists in '${repository}' with behavior ${JSON.stringify(manifest.behavior)}; a digest names immutable content.`,
        );
      }
      if (!manifest) manifest = newManifest(digest, behavior);
    } else {
      // Content-addressed, as a registry is: the digest is the sha256 of the manifest the data plane serves.
      manifest = dockerImageManifest(behavior);
    }
    const now = new Date().toISOString();
    const repo = existingRepo ?? { name: repository, tags: {}, manifests: {}, createdAt: now };
    repo.manifests[manifest.digest] = manifest;
    repo.tags[tag] = manifest.digest;
    r.repositories[repository] = repo;
    store.changed();
    const userAgent = typeof body['userAgent'] === 'string' ? body['userAgent'] : undefined;
    emit(imagePushedEvent(sub(), r, repository, tag, manifest, userAgent));
    ctx.log(`push ${loginServerOf(r)}/${repository}:${tag} → ${manifest.digest} (${manifest.behavior.mode})`);
    return {
      status: 200,
      body: {
        repository,
        tag,
        digest: manifest.digest,
        loginServer: loginServerOf(r),
        mediaType: manifest.mediaType,
        image: `${loginServerOf(r)}/${repository}@${manifest.digest}`,
        behavior: manifest.behavior,
      },
    };
  };

  /** `platforms` of a push body: 1-8 distinct `os/architecture[/variant]` strings. */
  const platformsOf = (value: unknown): Platform[] => {
    const list = Array.isArray(value) ? value : undefined;
    const parsed = list?.map((p) => (typeof p === 'string' ? parsePlatform(p) : undefined));
    if (!list || list.length === 0 || list.length > 8 || !parsed || parsed.some((p) => p === undefined))
      throw controlError(
        400,
        'BadRequest',
        `'platforms' must be 1-8 platforms such as ["linux/amd64","linux/arm64/v8"], got ${JSON.stringify(value)}.`,
      );
    const platforms = parsed as Platform[];
    if (new Set(platforms.map(formatPlatform)).size !== platforms.length)
      throw controlError(400, 'BadRequest', `'platforms' lists a platform twice: ${JSON.stringify(value)}.`);
    return platforms;
  };

  /**
   * `docker buildx build --platform … --push`: the per-platform images and their attestations are pushed untagged,
   * then the OCI index the tag points at. One ImagePushed is emitted, for the tagged index (the emulator does not
   * emit events for the untagged manifests; the app ignores tagless pushes anyway).
   */
  const pushIndex = (
    r: RegistryRecord,
    repository: string,
    tag: string,
    platforms: Platform[],
    behavior: ManifestRecord['behavior'],
    body: Record<string, unknown>,
  ): EmuResponse => {
    const pushed = buildxIndex(platforms, behavior);
    const now = new Date().toISOString();
    const repo = r.repositories[repository] ?? { name: repository, tags: {}, manifests: {}, createdAt: now };
    for (const m of [...pushed.images, ...pushed.attestations, pushed.index]) repo.manifests[m.digest] = m;
    repo.tags[tag] = pushed.index.digest;
    r.repositories[repository] = repo;
    store.changed();
    const userAgent = typeof body['userAgent'] === 'string' ? body['userAgent'] : undefined;
    emit(imagePushedEvent(sub(), r, repository, tag, pushed.index, userAgent));
    ctx.log(
      `push ${loginServerOf(r)}/${repository}:${tag} → index ${pushed.index.digest} (${platforms.map(formatPlatform).join(', ')})`,
    );
    return {
      status: 200,
      body: {
        repository,
        tag,
        digest: pushed.index.digest,
        mediaType: pushed.index.mediaType,
        loginServer: loginServerOf(r),
        image: `${loginServerOf(r)}/${repository}@${pushed.index.digest}`,
        behavior,
        manifests: pushed.images.map((m) => ({
          platform: formatPlatform(m.platform!),
          digest: m.digest,
          mediaType: m.mediaType,
        })),
        attestations: pushed.attestations.map((m) => m.digest),
      },
    };
  };

  const controlRoutes: Route[] = [
    {
      method: 'GET',
      pattern: '/_emulator/registries',
      auth: 'none',
      operation: 'Emulator_ListRegistries',
      handler: () => ({ status: 200, body: { value: store.all().map(summary) } }),
    },
    {
      method: 'POST',
      pattern: '/_emulator/registries',
      auth: 'none',
      operation: 'Emulator_AddRegistry',
      handler: (req) => {
        const body = controlBody(req);
        const name = body['name'];
        const resourceGroup = body['resourceGroup'];
        if (typeof name !== 'string' || !REGISTRY_NAME_PATTERN.test(name))
          throw controlError(400, 'BadRequest', "'name' must be 5-50 letters or digits.");
        if (typeof resourceGroup !== 'string' || !/^[-\w.()]{1,90}$/.test(resourceGroup))
          throw controlError(400, 'BadRequest', "'resourceGroup' must be a resource group name.");
        if (store.get(name))
          throw controlError(409, 'AlreadyInUse', `A registry named '${name}' exists already.`);
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
          throw controlError(400, 'BadRequest', (err as Error).message);
        }
        store.add(record);
        return { status: 201, body: toArmResource(sub(), record) };
      },
    },
    {
      method: 'GET',
      pattern: '/_emulator/registries/resolve',
      auth: 'none',
      operation: 'Emulator_ResolveImage',
      handler: (req) => resolve(req.query.get('image'), req.query.get('identity'), req.query.get('username')),
    },
    {
      method: 'POST',
      pattern: '/_emulator/registries/resolve',
      auth: 'none',
      operation: 'Emulator_ResolveImage',
      handler: (req) => {
        const body = controlBody(req);
        const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : null);
        return resolve(str('image'), str('identity'), str('username'));
      },
    },
    {
      method: 'POST',
      pattern: '/_emulator/registries/:registryName/network',
      auth: 'none',
      operation: 'Emulator_SetRegistryNetwork',
      handler: (req) => {
        const r = requireRegistry(req.params['registryName']);
        const body = controlBody(req);
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
          throw controlError(400, 'BadRequest', (err as Error).message);
        }
        next.lastModifiedAt = new Date().toISOString();
        Object.assign(r, next);
        store.changed();
        return { status: 200, body: toArmResource(sub(), r) };
      },
    },
    {
      method: 'POST',
      pattern: '/_emulator/registries/:registryName/push',
      auth: 'none',
      operation: 'Emulator_Push',
      handler: push,
    },
    {
      method: 'GET',
      pattern: '/_emulator/registries/:registryName/repositories',
      auth: 'none',
      operation: 'Emulator_ListRepositories',
      handler: (req) => {
        const r = requireRegistry(req.params['registryName']);
        return {
          status: 200,
          body: { registry: r.name, loginServer: loginServerOf(r), repositories: repositoriesOf(r) },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/_emulator/registries/:registryName/events',
      auth: 'none',
      operation: 'Emulator_ListRegistryEvents',
      handler: (req) => {
        const r = requireRegistry(req.params['registryName']);
        return {
          status: 200,
          body: { value: recentEvents.filter((e) => e.registryName.toLowerCase() === r.name.toLowerCase()) },
        };
      },
    },
    {
      method: 'DELETE',
      pattern: '/_emulator/registries/:registryName/repositories/:repository/manifests/:digest',
      auth: 'none',
      operation: 'Emulator_DeleteManifest',
      handler: (req) => {
        const r = requireRegistry(req.params['registryName']);
        const repository = req.params['repository'] ?? '';
        const digest = req.params['digest'] ?? '';
        const repo = r.repositories[repository];
        const manifest = repo?.manifests[digest];
        if (!repo || !manifest) {
          throw controlError(
            404,
            'MANIFEST_UNKNOWN',
            `manifest ${digest} is not found in repository '${repository}' of ${loginServerOf(r)}.`,
          );
        }
        const untagged = Object.entries(repo.tags)
          .filter(([, d]) => d === digest)
          .map(([t]) => t);
        for (const t of untagged) delete repo.tags[t];
        delete repo.manifests[digest];
        if (Object.keys(repo.manifests).length === 0) delete r.repositories[repository];
        store.changed();
        const userAgent = req.query.get('userAgent') ?? undefined;
        emit(imageDeletedEvent(sub(), r, repository, manifest, userAgent));
        return { status: 200, body: { repository, digest, untagged } };
      },
    },
    {
      method: 'DELETE',
      pattern: '/_emulator/registries/:registryName/repositories/:repository/tags/:tag',
      auth: 'none',
      operation: 'Emulator_Untag',
      handler: (req) => {
        const r = requireRegistry(req.params['registryName']);
        const repository = req.params['repository'] ?? '';
        const tag = req.params['tag'] ?? '';
        const repo = r.repositories[repository];
        const digest = repo?.tags[tag];
        if (!repo || !digest)
          throw controlError(404, 'TAG_UNKNOWN', `tag '${tag}' is not found in repository '${repository}'.`);
        delete repo.tags[tag];
        store.changed();
        return { status: 200, body: { repository, tag, digest } };
      },
    },
  ];

  function resolve(image: string | null, identity: string | null, username: string | null): EmuResponse {
    if (!image) throw controlError(400, 'BadRequest', "'image' is required.");
    const resolution = lookup.resolveImage(image, {
      ...(identity ? { identity } : {}),
      ...(username ? { username } : {}),
    });
    return { status: 200, body: resolution };
  }

  return {
    name: 'containerRegistry',
    routes: [
      ...armRoutes,
      ...privateEndpointRoutes(ctx, store),
      ...controlRoutes,
      ...dataPlaneRoutes(ctx, store, dataPlaneTokens),
    ],
    start: () => store.ensureSeeded(),
    reset: () => {
      recentEvents.length = 0;
      store.ensureSeeded();
    },
    resourceGroups: () => store.all().map((r) => ({ name: r.resourceGroup, location: r.location })),
    describe: () => {
      const main = store.get('contoso') ?? store.all()[0];
      // Each registry's data plane (its login server in Azure): the app's ACR_ENDPOINT_TEMPLATE.
      const registryEndpointTemplate = `https://{registry}.azurecr.localhost:${ctx.port}`;
      return main
        ? {
            registryName: main.name,
            registryLoginServer: loginServerOf(main),
            registryResourceId: registryResourceId(sub(), main),
            registryEndpointTemplate,
            registries: store.all().map((r) => r.name),
          }
        : { registryEndpointTemplate, registries: [] };
    },
  };
}

/**
 * A manifest pushed under a caller-chosen digest (no content the emulator could hash to it): a plausible size from
 * the digest (ACR reports the manifest's byte length).
 */
function newManifest(digest: string, behavior: ManifestRecord['behavior']): ManifestRecord {
  const size = 1024 + (parseInt(digest.slice(7, 11), 16) % 8192);
  return { digest, mediaType: MANIFEST_MEDIA_TYPE, size, behavior, pushedAt: new Date().toISOString() };
}
