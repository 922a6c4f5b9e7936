/**
 * ACI's ARM REST surface for `Microsoft.ContainerInstance/containerGroups` (specification/containerinstance in
 * azure-rest-api-specs): list (paged by nextLink), get, create or update (an LRO), PATCH tags, delete, restart,
 * start, stop, container logs, and the operation-status URL the LRO headers point at. Exec and attach answer 501.
 */
import type { EmulatorContext } from '../core/context.js';
import { armErrors } from '../core/armErrors.js';
import { notImplemented } from '../core/errors.js';
import { armRoutes, type EmuRequest, type EmuResponse, type Route } from '../core/router.js';
import { resourceManagerErrors } from '../resourceManager/resourceManagerErrors.js';
import { aciErrors } from './aciErrors.js';
import { CONTAINER_INSTANCE_API_VERSIONS } from './apiVersions.js';
import type { GroupStore } from './groupStore.js';
import { allContainers, groupId, groupKey, type GroupSpec, type StoredGroup } from './groupTypes.js';
import { immutableChange, specChanged, validateGroupPut, type ValidatedPut } from './groupValidation.js';
import type { GroupViews } from './groupViews.js';
import { pullImage } from './imagePull.js';
import { groupEvent, type GroupLifecycle } from './lifecycle.js';
import type { GroupNetwork } from './network.js';
import { requestOrigin, type Operations } from './operations.js';
import type { ContainerRuntime } from './containerRuntime.js';

const BASE =
  '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.ContainerInstance/containerGroups';

/** What the ARM handlers work with; each part is built once by the service. */
export interface AciParts {
  ctx: EmulatorContext;
  store: GroupStore;
  views: GroupViews;
  operations: Operations;
  network: GroupNetwork;
  lifecycle: GroupLifecycle;
  runtime: ContainerRuntime;
}

export class ContainerGroupArmRoutes {
  constructor(private readonly p: AciParts) {}

  routes(): Route[] {
    const arm = armRoutes(CONTAINER_INSTANCE_API_VERSIONS);
    const group = `${BASE}/:containerGroupName`;
    return [
      arm(
        'GET',
        '/subscriptions/:subscriptionId/providers/Microsoft.ContainerInstance/containerGroups',
        'ContainerGroups_List',
        (req) => this.listAll(req),
      ),
      arm('GET', BASE, 'ContainerGroups_ListByResourceGroup', (req) => this.listByResourceGroup(req)),
      arm('GET', group, 'ContainerGroups_Get', (req) => this.get(req)),
      arm('PUT', group, 'ContainerGroups_CreateOrUpdate', (req) => this.createOrUpdate(req)),
      arm('PATCH', group, 'ContainerGroups_Update', (req) => this.updateTags(req)),
      arm('DELETE', group, 'ContainerGroups_Delete', (req) => this.remove(req)),
      arm('POST', `${group}/restart`, 'ContainerGroups_Restart', (req) => this.restart(req, 'restart')),
      arm('POST', `${group}/start`, 'ContainerGroups_Start', (req) => this.restart(req, 'start')),
      arm('POST', `${group}/stop`, 'ContainerGroups_Stop', (req) => this.stop(req)),
      arm('GET', `${group}/containers/:containerName/logs`, 'Containers_ListLogs', (req) =>
        this.listLogs(req),
      ),
      arm('POST', `${group}/containers/:containerName/exec`, 'Containers_ExecuteCommand', () => {
        throw notImplemented('container exec');
      }),
      arm('POST', `${group}/containers/:containerName/attach`, 'Containers_Attach', () => {
        throw notImplemented('container attach');
      }),
      arm(
        'GET',
        '/subscriptions/:subscriptionId/providers/Microsoft.ContainerInstance/locations/:location/operations/:operationId',
        'ContainerInstance_GetOperationStatus',
        (req) => this.operationStatus(req),
      ),
    ];
  }

  private checkSubscription(req: EmuRequest): void {
    const sub = req.params['subscriptionId'] ?? '';
    if (sub.toLowerCase() !== this.p.ctx.options.subscriptionId.toLowerCase()) {
      throw resourceManagerErrors.subscriptionNotFound(sub);
    }
  }

  private findGroup(req: EmuRequest): { key: string; group: StoredGroup | undefined } {
    this.checkSubscription(req);
    const key = groupKey(req.params['resourceGroupName']!, req.params['containerGroupName']!);
    return { key, group: this.p.store.groups[key] };
  }

  private notFound(req: EmuRequest) {
    return aciErrors.resourceNotFound(req.params['resourceGroupName']!, req.params['containerGroupName']!);
  }

  /**
   * One page of a listing already sorted by id (`GroupStore.listed`); `$skipToken` is an opaque offset, `nextLink`
   * names the next page.
   */
  private listPage(req: EmuRequest, sorted: readonly StoredGroup[]): EmuResponse {
    const pageSize = Math.max(1, this.p.ctx.options.pageSize.containerGroups);
    const token = req.query.get('$skipToken');
    let offset = 0;
    if (token) {
      const decoded = /^o:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
      if (!decoded) throw armErrors.invalidSkipToken(token);
      offset = Number(decoded[1]);
    }
    const page = sorted.slice(offset, offset + pageSize);
    const body: Record<string, unknown> = { value: page.map((g) => this.p.views.render(g, true)) };
    if (offset + pageSize < sorted.length) {
      const next = Buffer.from(`o:${offset + pageSize}`).toString('base64url');
      const version = req.query.get('api-version') ?? '';
      body['nextLink'] =
        `${requestOrigin(this.p.ctx, req)}${req.path}?api-version=${encodeURIComponent(version)}&$skipToken=${next}`;
    }
    return { status: 200, body };
  }

  private listAll(req: EmuRequest): EmuResponse {
    this.checkSubscription(req);
    return this.listPage(req, this.p.store.listed());
  }

  private listByResourceGroup(req: EmuRequest): EmuResponse {
    this.checkSubscription(req);
    return this.listPage(req, this.p.store.listed(req.params['resourceGroupName']!));
  }

  private get(req: EmuRequest): EmuResponse {
    const { group } = this.findGroup(req);
    if (!group) throw this.notFound(req);
    return { status: 200, body: this.p.views.render(group) };
  }

  private createOrUpdate(req: EmuRequest): Promise<EmuResponse> {
    const { key } = this.findGroup(req);
    const rg = req.params['resourceGroupName']!;
    const name = req.params['containerGroupName']!;
    const { ctx, store, network, lifecycle, operations, views } = this.p;
    return store.withLock(key, async () => {
      const valid = validateGroupPut(name, req.body, {
        rawBodyLength: req.rawBody.length,
        tenantId: ctx.options.tenantId,
      });
      if (store.state().settings.imageValidation === 'sync')
        this.checkImagesAccessible(name, valid.properties);
      const existing = store.groups[key];
      if (existing) return this.updateExisting(req, key, existing, valid);
      const now = Date.now();
      const g: StoredGroup = {
        id: groupId(ctx.options.subscriptionId, rg, name),
        name,
        resourceGroup: rg,
        location: valid.location,
        properties: valid.properties,
        provisioningState: 'Pending',
        state: 'Pending',
        containers: {},
        events: [],
        listen: true,
        createdAt: now,
      };
      if (valid.tags) g.tags = valid.tags;
      if (valid.zones) g.zones = valid.zones;
      if (valid.identity) g.identity = valid.identity;
      store.put(key, g);
      // Public groups show their address from the start (as ACI's 201 does); private ones once running.
      if (valid.properties.ipAddress?.type === 'Public') {
        await network.allocateIp(key, g, []);
        network.setFqdn(g);
      }
      const op = lifecycle.beginTransition(key, g, 'create', 'Pending');
      store.changed();
      return { status: 201, headers: operations.lroHeaders(req, op), body: views.render(g) };
    });
  }

  private checkImagesAccessible(name: string, spec: GroupSpec): void {
    for (const c of allContainers(spec)) {
      const result = pullImage(
        this.p.ctx.registryLookup,
        c.properties.image,
        spec.imageRegistryCredentials,
        name,
      );
      if (!result.ok) throw aciErrors.inaccessibleImage(c.properties.image, name);
    }
  }

  private async updateExisting(
    req: EmuRequest,
    key: string,
    g: StoredGroup,
    valid: ValidatedPut,
  ): Promise<EmuResponse> {
    if (g.transition) throw aciErrors.transitioning(g.name);
    const blocked = immutableChange(g.properties, valid.properties);
    if (blocked) throw aciErrors.invalidContainerGroupUpdate(g.name, blocked);
    if (valid.tags) g.tags = valid.tags;
    else delete g.tags;
    if (valid.zones) g.zones = valid.zones;
    if (valid.identity) {
      if (valid.identity.principalId && g.identity?.principalId)
        valid.identity.principalId = g.identity.principalId;
      g.identity = valid.identity;
    } else delete g.identity;
    const redeploy = specChanged(g.properties, valid.properties) || g.provisioningState === 'Failed';
    g.properties = valid.properties;
    if (!redeploy) {
      this.p.store.changed();
      return { status: 200, body: this.p.views.render(g) };
    }
    // ACI redeploys the containers on a property change; the group keeps its address when it can.
    await this.p.runtime.close(key);
    g.provisioningState = 'Pending';
    g.state = 'Pending';
    const op = this.p.lifecycle.beginTransition(key, g, 'update', 'Pending');
    this.p.store.changed();
    return { status: 200, headers: this.p.operations.lroHeaders(req, op), body: this.p.views.render(g) };
  }

  private updateTags(req: EmuRequest): Promise<EmuResponse> {
    const { key } = this.findGroup(req);
    return this.p.store.withLock(key, () => {
      const g = this.p.store.groups[key];
      if (!g) throw this.notFound(req);
      const body = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw aciErrors.undeserializableBody();
      const tags = (body as { tags?: unknown }).tags;
      if (tags !== undefined) {
        if (tags === null) delete g.tags;
        else if (typeof tags !== 'object' || Array.isArray(tags)) throw aciErrors.tagsNotAnObject();
        else g.tags = Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)]));
      }
      this.p.store.changed();
      return { status: 200, body: this.p.views.render(g) };
    });
  }

  private remove(req: EmuRequest): Promise<EmuResponse> {
    const { key } = this.findGroup(req);
    const { store, runtime, lifecycle, operations } = this.p;
    return store.withLock(key, async () => {
      const g = store.groups[key];
      if (!g) return { status: 204 };
      if (g.transition?.kind === 'delete') {
        const op = store.operations[g.transition.operationId];
        if (op) return { status: 202, headers: operations.lroHeaders(req, op) };
      }
      lifecycle.cancelTransition(g, `The container group '${g.name}' is being deleted.`);
      await runtime.close(key);
      g.provisioningState = 'Deleting';
      const op = lifecycle.beginTransition(key, g, 'delete', 'Deleting');
      store.changed();
      return { status: 202, headers: operations.lroHeaders(req, op) };
    });
  }

  private restart(req: EmuRequest, kind: 'restart' | 'start'): Promise<EmuResponse> {
    const { key } = this.findGroup(req);
    const { store, runtime, network, lifecycle, operations } = this.p;
    return store.withLock(key, async () => {
      const g = store.groups[key];
      if (!g) throw this.notFound(req);
      if (g.transition) throw aciErrors.transitioning(g.name);
      if (kind === 'start' && g.state === 'Running') return { status: 204 };
      await runtime.close(key);
      network.releaseIp(g);
      g.state = 'Pending';
      lifecycle.beginPull(g, Date.now());
      const op = lifecycle.beginTransition(key, g, kind, 'Starting');
      store.changed();
      return { status: 202, headers: operations.lroHeaders(req, op) };
    });
  }

  private stop(req: EmuRequest): Promise<EmuResponse> {
    const { key } = this.findGroup(req);
    const { store, runtime, network, lifecycle } = this.p;
    return store.withLock(key, async () => {
      const g = store.groups[key];
      if (!g) throw this.notFound(req);
      if (g.transition?.kind === 'delete') throw aciErrors.transitioning(g.name);
      lifecycle.cancelTransition(g, `The container group '${g.name}' was stopped.`);
      await runtime.close(key);
      network.releaseIp(g);
      const now = Date.now();
      for (const run of Object.values(g.containers)) {
        if (run.startedAt !== undefined && run.stoppedAt === undefined) {
          run.stoppedAt = now;
          run.events.push(groupEvent('Killing', 'Stopping container', now));
        }
      }
      g.state = 'Stopped';
      if (g.provisioningState !== 'Failed') g.provisioningState = 'Succeeded';
      store.changed();
      return { status: 204 };
    });
  }

  private operationStatus(req: EmuRequest): EmuResponse {
    this.checkSubscription(req);
    return { status: 200, body: this.p.operations.statusBody(req.params['operationId']!) };
  }

  private listLogs(req: EmuRequest): EmuResponse {
    const { group } = this.findGroup(req);
    if (!group) throw this.notFound(req);
    const name = req.params['containerName']!;
    const run = group.containers[name];
    if (!group.properties.containers.some((c) => c.name === name)) {
      throw aciErrors.containerNotFound(name, group.name);
    }
    let content = '';
    if (run?.behavior?.mode === 'crash') {
      content = `Error: process exited with code ${run.behavior.exitCode ?? 1}\n`;
    } else if (run?.behavior && run.startedAt !== undefined) {
      const ports = group.properties.containers.find((c) => c.name === name)?.properties.ports ?? [];
      content = ports.map((p) => `listening on 0.0.0.0:${p.port}\n`).join('');
    }
    return { status: 200, body: { content } };
  }
}
