/**
 * Azure Container Instances: ARM `Microsoft.ContainerInstance/containerGroups` (create/update as an LRO with
 * Pending → Creating → Succeeded/Failed, get, list by resource group and subscription with nextLink paging, PATCH
 * tags, delete/restart/start LROs, stop) plus the async-operation status endpoint the LRO headers point at, and
 * containers that really run: a Running group listens on its IP (from its subnet's emulated range) on its ports.
 *
 * Emulator-only behaviour (documented in the README): every resource group name is taken to exist; images outside
 * `*.azurecr.io` are public and healthy; the control API adds maintenance (host move, new IP), platform restart,
 * bulk seeding and a debug listing.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import type { EmulatorContext, EmulatorService } from '../core/context.js';
import { armError, EmulatorHttpError, notImplemented } from '../core/errors.js';
import type { EmuRequest, EmuResponse, Route } from '../core/router.js';
import { ContainerRuntime, type PortListener } from './containerRuntime.js';
import {
  containerView,
  groupId,
  groupKey,
  groupState,
  immutableChange,
  renderGroup,
  specChanged,
  validateGroupPut,
  type ContainerRun,
  type GroupSpec,
  type RenderOptions,
  type StoredEvent,
  type StoredGroup,
  type StoredOperation,
  type TransitionKind,
} from './groupModel.js';
import { beginPullAttempt, pullImage, recordRetriedPull } from './imagePull.js';
import { allocateAddress, publicRange, subnetRange } from './subnetAddresses.js';

/** Every api-version ACI publishes in azure-rest-api-specs (specification/containerinstance readme.md). */
export const CONTAINER_INSTANCE_API_VERSIONS = [
  '2017-08-01-preview',
  '2017-10-01-preview',
  '2017-12-01-preview',
  '2018-02-01-preview',
  '2018-04-01',
  '2018-06-01',
  '2018-09-01',
  '2018-10-01',
  '2019-12-01',
  '2020-11-01',
  '2021-03-01',
  '2021-07-01',
  '2021-09-01',
  '2021-10-01',
  '2022-09-01',
  '2022-10-01-preview',
  '2023-02-01-preview',
  '2023-05-01',
  '2024-05-01-preview',
  '2024-09-01-preview',
  '2024-10-01-preview',
  '2024-11-01-preview',
  '2025-09-01',
  '2026-05-01',
  '2026-06-01-preview',
] as const;

/** The api-version real ACI puts in its Azure-AsyncOperation URLs. */
const OPERATION_STATUS_API_VERSION = '2018-06-01';
const MAX_OPERATIONS = 5000;
const BASE =
  '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.ContainerInstance/containerGroups';

interface AciState {
  groups: Record<string, StoredGroup>;
  operations: Record<string, StoredOperation>;
  settings: { imageValidation: 'async' | 'sync' };
}

type BringUpResult =
  | { ok: true }
  | { ok: false; error: { code: string; message: string } }
  /** A pull failed and ACI retries it at `at` (epoch ms); the create goes on. */
  | { ok: false; retryAt: number };

const controlError = (status: number, code: string, message: string) =>
  new EmulatorHttpError(status, code, message, 'plain');

export function containerInstanceService(ctx: EmulatorContext): EmulatorService {
  const runtime = new ContainerRuntime(ctx.log);
  const timers = new Map<string, NodeJS.Timeout>();
  const locks = new Map<string, Promise<unknown>>();
  let allocationQueue: Promise<unknown> = Promise.resolve();
  let running = false;

  // Always go through the store: a reset replaces the whole document.
  const st = () =>
    ctx.state.slice<AciState>('containerInstance', () => ({
      groups: {},
      operations: {},
      settings: { imageValidation: 'async' },
    }));
  const stepMs = () => ctx.options.timings.provisioningStepMs;
  const containerId = (key: string, container: string, n: number) =>
    crypto
      .createHash('sha256')
      .update(`${key}/${container}/${n}/${st().groups[key]?.hostname ?? ''}`)
      .digest('hex');
  const renderOptions = (list: boolean): RenderOptions => ({
    list,
    now: Date.now(),
    crashBaseMs: stepMs(),
    containerId,
  });
  const render = (g: StoredGroup, list = false) => renderGroup(g, renderOptions(list));

  /** Serialises everything that changes one group (timers, ARM calls, control calls). */
  function withLock<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    const previous = locks.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => undefined);
    locks.set(key, settled);
    void settled.then(() => {
      if (locks.get(key) === settled) locks.delete(key);
    });
    return next;
  }

  /** IPs are chosen one group at a time, so two groups never pick the same free address. */
  function withAllocation<T>(fn: () => Promise<T>): Promise<T> {
    const next = allocationQueue.then(fn, fn);
    allocationQueue = next.catch(() => undefined);
    return next;
  }

  // ------------------------------------------------------------------------------------------------------------
  // ARM helpers

  const checkSubscription = (req: EmuRequest) => {
    const sub = req.params['subscriptionId'] ?? '';
    if (sub.toLowerCase() !== ctx.options.subscriptionId.toLowerCase()) {
      throw armError(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);
    }
  };

  const notFound = (rg: string, name: string) =>
    armError(
      404,
      'ResourceNotFound',
      `The Resource 'Microsoft.ContainerInstance/containerGroups/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    );

  const transitioning = (name: string) =>
    armError(
      409,
      'ContainerGroupTransitioning',
      `The container group '${name}' is still transitioning, please retry later.`,
    );

  const findGroup = (req: EmuRequest): { key: string; group: StoredGroup | undefined } => {
    checkSubscription(req);
    const key = groupKey(req.params['resourceGroupName']!, req.params['containerGroupName']!);
    return { key, group: st().groups[key] };
  };

  const origin = (req: EmuRequest) => `https://${req.headers.host ?? new URL(ctx.url).host}`;

  const locationSlug = (location: string) => location.toLowerCase().replace(/\s+/g, '');

  const operationUrl = (req: EmuRequest, op: StoredOperation) =>
    `${origin(req)}/subscriptions/${ctx.options.subscriptionId}/providers/Microsoft.ContainerInstance/locations/${op.location}/operations/${op.id}?api-version=${OPERATION_STATUS_API_VERSION}`;

  const lroHeaders = (req: EmuRequest, op: StoredOperation): Record<string, string> => ({
    'azure-asyncoperation': operationUrl(req, op),
    'retry-after': String(ctx.options.timings.lroRetryAfterSeconds),
  });

  function newOperation(key: string, g: StoredGroup, kind: TransitionKind): StoredOperation {
    const ops = st().operations;
    const op: StoredOperation = {
      id: crypto.randomUUID(),
      location: locationSlug(g.location),
      groupKey: key,
      kind,
      status: 'InProgress',
      startTime: Date.now(),
    };
    ops[op.id] = op;
    const ids = Object.keys(ops);
    if (ids.length > MAX_OPERATIONS) {
      for (const id of ids.slice(0, ids.length - MAX_OPERATIONS)) {
        if (ops[id]?.status !== 'InProgress') delete ops[id];
      }
    }
    return op;
  }

  function finishOperation(id: string, status: StoredOperation['status'], error?: StoredOperation['error']) {
    const op = st().operations[id];
    if (!op || op.status !== 'InProgress') return;
    op.status = status;
    op.endTime = Date.now();
    if (error) op.error = error;
  }

  /** Ends whatever transition the group is in (a stop or delete overtakes a create/start). */
  function cancelTransition(g: StoredGroup, reason: string) {
    if (!g.transition) return;
    finishOperation(g.transition.operationId, 'Canceled', { code: 'OperationCanceled', message: reason });
    delete g.transition;
  }

  function beginTransition(
    key: string,
    g: StoredGroup,
    kind: TransitionKind,
    phase: 'Pending' | 'Creating' | 'Starting' | 'Deleting',
  ): StoredOperation {
    cancelTransition(g, `The operation was superseded by a ${kind} of container group '${g.name}'.`);
    const op = newOperation(key, g, kind);
    const now = Date.now();
    g.transition = { kind, operationId: op.id, startedAt: now, phase, phaseEndsAt: now + stepMs() };
    schedule(key);
    return op;
  }

  function schedule(key: string) {
    const existing = timers.get(key);
    if (existing) clearTimeout(existing);
    timers.delete(key);
    const t = st().groups[key]?.transition;
    if (!t || !running) return;
    const timer = setTimeout(
      () => {
        timers.delete(key);
        void advance(key).catch((err: unknown) =>
          ctx.log(`container group ${key}: ${(err as Error).stack ?? String(err)}`),
        );
      },
      Math.max(0, t.phaseEndsAt - Date.now()),
    );
    timer.unref();
    timers.set(key, timer);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Lifecycle

  const event = (
    name: string,
    message: string,
    at: number,
    type: 'Normal' | 'Warning' = 'Normal',
  ): StoredEvent => ({
    name,
    message,
    type,
    count: 1,
    first: at,
    last: at,
  });

  /** Fresh container runs whose images are being pulled from `at`. */
  function beginPull(g: StoredGroup, at: number) {
    g.containers = {};
    for (const c of g.properties.containers) {
      g.containers[c.name] = {
        image: c.properties.image,
        pullStartedAt: at,
        events: [event('Pulling', `pulling image "${c.properties.image}"`, at)],
      };
    }
  }

  /** Restarts containers from the images they already have (a host move or platform restart). */
  function restartRuns(g: StoredGroup, at: number) {
    for (const c of g.properties.containers) {
      const old = g.containers[c.name];
      if (!old?.behavior || old.pullFailure) continue;
      const run: ContainerRun = {
        image: old.image,
        pullStartedAt: at,
        pulledAt: at,
        behavior: old.behavior,
        startedAt: at,
        events: [
          event('Pulling', `pulling image "${old.image}"`, at),
          event('Pulled', `Successfully pulled image "${old.image}"`, at),
        ],
      };
      if (old.digest) run.digest = old.digest;
      if (old.tag) run.tag = old.tag;
      if (old.behavior.mode !== 'crash') run.events.push(event('Started', 'Started container', at));
      g.containers[c.name] = run;
    }
    g.hostname = `SandboxHost-${crypto.randomBytes(6).toString('hex')}`;
  }

  const tcpPorts = (g: StoredGroup) =>
    (g.properties.ipAddress?.ports ?? []).filter((p) => p.protocol !== 'UDP').map((p) => p.port);

  /** Picks the group's address: `prefer` if still free, else the lowest free one of its range not in `exclude`. */
  function allocateIp(
    key: string,
    g: StoredGroup,
    exclude: string[],
    prefer?: string,
  ): Promise<string | undefined> {
    const ipAddress = g.properties.ipAddress;
    if (!ipAddress) return Promise.resolve(undefined);
    return withAllocation(async () => {
      const range =
        ipAddress.type === 'Private' && g.properties.subnetIds?.[0]
          ? subnetRange(g.properties.subnetIds[0].id)
          : publicRange();
      const inUse = new Set<string>();
      for (const [k, other] of Object.entries(st().groups)) if (k !== key && other.ip) inUse.add(other.ip);
      const ports = tcpPorts(g);
      const accept = (ip: string) => (g.listen ? runtime.canBind(ip, ports) : true);
      let ip: string | undefined;
      if (prefer && range.contains(prefer) && !inUse.has(prefer) && (await accept(prefer))) ip = prefer;
      ip ??= await allocateAddress(range, inUse, new Set(exclude), accept);
      if (ip) g.ip = ip;
      return ip;
    });
  }

  function releaseIp(g: StoredGroup) {
    if (!g.ip) return;
    g.lastIp = g.ip;
    delete g.ip;
  }

  function setFqdn(g: StoredGroup) {
    const label = g.properties.ipAddress?.dnsNameLabel;
    if (label) g.fqdn = `${label.toLowerCase()}.${locationSlug(g.location)}.azurecontainer.io`;
    else delete g.fqdn;
  }

  /** Pulls every image and, when all pulls work, runs the containers on a (new) IP. */
  async function bringUp(
    key: string,
    g: StoredGroup,
    exclude: string[],
    prefer?: string,
  ): Promise<BringUpResult> {
    const now = Date.now();
    const failures: { container: string; image: string; message: string }[] = [];
    let retryInMs: number | undefined;
    for (const c of g.properties.containers) {
      const run: ContainerRun = g.containers[c.name] ?? {
        image: c.properties.image,
        pullStartedAt: now,
        events: [event('Pulling', `pulling image "${c.properties.image}"`, now)],
      };
      g.containers[c.name] = run;
      if (run.behavior && run.startedAt !== undefined) continue; // pulled by an earlier attempt
      const result = pullImage(
        ctx.registryLookup,
        c.properties.image,
        g.properties.imageRegistryCredentials,
        g.id,
        beginPullAttempt(run, c.properties.image, now),
      );
      if (!result.ok && result.retry) {
        const backoff = recordRetriedPull(run, result.eventMessage, c.properties.image, now, stepMs());
        retryInMs = Math.max(retryInMs ?? 0, backoff);
        continue;
      }
      if (!result.ok) {
        run.pullFailure = { reason: result.reason, message: result.eventMessage };
        run.events.push(event('Failed', result.eventMessage, now, 'Warning'));
        failures.push({ container: c.name, image: c.properties.image, message: result.eventMessage });
        continue;
      }
      delete run.pullFailure;
      run.pulledAt = now;
      run.digest = result.digest;
      if (result.tag) run.tag = result.tag;
      run.behavior = result.behavior;
      run.startedAt = now;
      run.events.push(event('Pulled', `Successfully pulled image "${c.properties.image}"`, now));
      if (result.behavior.mode !== 'crash') run.events.push(event('Started', 'Started container', now));
    }
    g.hostname = `SandboxHost-${crypto.randomBytes(6).toString('hex')}`;
    if (retryInMs !== undefined && failures.length === 0) {
      // ACI retries the pull: the create stays in progress, the container waits (ErrImagePull).
      g.state = 'Pending';
      return { ok: false, retryAt: now + retryInMs };
    }
    if (failures.length) {
      await runtime.close(key);
      releaseIp(g);
      g.state = 'Pending';
      g.provisioningState = 'Failed';
      const first = failures[0]!;
      return {
        ok: false,
        error: {
          code: 'InaccessibleImage',
          message: `The image '${first.image}' in container group '${g.name}' is not accessible. Please check the image and registry credential. Container '${first.container}': ${first.message}`,
        },
      };
    }
    if (g.properties.ipAddress) {
      const ip = await allocateIp(key, g, exclude, prefer);
      if (!ip) {
        g.state = 'Pending';
        g.provisioningState = 'Failed';
        return {
          ok: false,
          error: {
            code: 'InsufficientSubnetSize',
            message: `There are no free IP addresses left for container group '${g.name}' in its subnet.`,
          },
        };
      }
      setFqdn(g);
    }
    g.state = 'Running';
    g.provisioningState = 'Succeeded';
    await syncListeners(key, g);
    return { ok: true };
  }

  /**
   * Binds (or unbinds) the group's sockets to match its state. A running group holds every declared TCP port of
   * its address, also while its container starts slowly or crash-loops (those ports reset connections until the
   * container is ready, or forever), so no other emulator on the machine can take the address meanwhile.
   */
  async function syncListeners(key: string, g: StoredGroup) {
    const ipAddress = g.properties.ipAddress;
    if (!running || !g.listen || g.state !== 'Running' || !g.ip || !ipAddress) {
      await runtime.close(key);
      return;
    }
    const listeners: PortListener[] = [];
    const opts = renderOptions(false);
    for (const port of tcpPorts(g)) {
      const spec = g.properties.containers.find((c) =>
        (c.properties.ports ?? []).some((p) => p.port === port),
      );
      const run = spec ? g.containers[spec.name] : undefined;
      const view = spec ? containerView(g, spec, opts) : undefined;
      const serving = run?.behavior && run.startedAt !== undefined && view?.serving;
      const delay =
        run?.behavior && 'startDelaySeconds' in run.behavior ? (run.behavior.startDelaySeconds ?? 0) : 0;
      listeners.push({
        port,
        readyAt: serving ? run.startedAt! + delay * 1000 : Infinity,
        handler: spec ? containerHandler(key, spec.name, port) : (_req, res) => res.writeHead(503).end(),
      });
    }
    await runtime.serve(key, g.ip, listeners);
  }

  /** What a running container answers: 200 JSON naming group, image and digest (or its unhealthy status). */
  function containerHandler(key: string, container: string, port: number): http.RequestListener {
    return (req, res) => {
      const g = st().groups[key];
      const run = g?.containers[container];
      if (!g || !run?.behavior) {
        res.writeHead(503).end();
        return;
      }
      const unhealthy = run.behavior.mode === 'unhealthy';
      const status = unhealthy && run.behavior.mode === 'unhealthy' ? (run.behavior.status ?? 503) : 200;
      const body = JSON.stringify({
        group: g.name,
        containerGroupId: g.id,
        resourceGroup: g.resourceGroup,
        container,
        image: run.image,
        digest: run.digest,
        ...(run.tag ? { tag: run.tag } : {}),
        ip: g.ip,
        port,
        path: req.url ?? '/',
        method: req.method,
        hostname: g.hostname,
        status: unhealthy ? 'unhealthy' : 'healthy',
      });
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
  }

  /** The timer side of a transition: moves a group to its next phase or to the outcome. */
  async function advance(key: string): Promise<void> {
    await withLock(key, async () => {
      const g = st().groups[key];
      const t = g?.transition;
      if (!g || !t) return;
      const now = Date.now();
      if (now < t.phaseEndsAt) {
        schedule(key);
        return;
      }
      if ((t.kind === 'create' || t.kind === 'update') && t.phase === 'Pending') {
        t.phase = 'Creating';
        t.phaseEndsAt = now + stepMs();
        g.provisioningState = 'Creating';
        beginPull(g, now);
        ctx.state.changed();
        schedule(key);
        return;
      }
      if (t.kind === 'delete') {
        await runtime.close(key);
        delete st().groups[key];
        finishOperation(t.operationId, 'Succeeded');
        ctx.state.changed();
        return;
      }
      const keepIp = t.kind === 'create' || t.kind === 'update';
      const result = await bringUp(key, g, keepIp ? [] : [g.lastIp ?? ''], keepIp ? g.ip : undefined);
      // A stop or delete may have overtaken the pull while it awaited the address.
      if (g.transition?.operationId !== t.operationId) return;
      if (!result.ok && 'retryAt' in result) {
        t.phaseEndsAt = result.retryAt;
        ctx.state.changed();
        schedule(key);
        return;
      }
      delete g.transition;
      if (result.ok) finishOperation(t.operationId, 'Succeeded');
      else finishOperation(t.operationId, 'Failed', result.error);
      ctx.state.changed();
    });
  }

  /** Moves a running group to a new IP at once, as after a host move or a platform restart. */
  async function move(key: string, g: StoredGroup, reason: 'maintenance' | 'restart') {
    if (g.state !== 'Running' || !g.ip) {
      throw controlError(
        409,
        'ContainerGroupNotRunning',
        `Container group '${g.name}' is not running (state ${g.state}).`,
      );
    }
    const oldIp = g.ip;
    await runtime.close(key);
    const now = Date.now();
    restartRuns(g, now);
    const newIp = await allocateIp(key, g, [oldIp]);
    if (!newIp) throw controlError(409, 'NoFreeAddress', `No free address left for '${g.name}'.`);
    g.lastIp = oldIp;
    const message =
      reason === 'maintenance'
        ? `Container group was moved to a new host during platform maintenance; its IP address changed from ${oldIp} to ${newIp}.`
        : `Container group was restarted by the platform; its IP address changed from ${oldIp} to ${newIp}.`;
    g.events.push(event(reason === 'maintenance' ? 'HostMaintenance' : 'Restarted', message, now, 'Warning'));
    await syncListeners(key, g);
    ctx.state.changed();
    return { oldIp, newIp };
  }

  // ------------------------------------------------------------------------------------------------------------
  // ARM handlers

  function listPage(req: EmuRequest, groups: StoredGroup[]): EmuResponse {
    const pageSize = Math.max(1, ctx.options.pageSize.containerGroups);
    const token = req.query.get('$skipToken');
    let offset = 0;
    if (token) {
      const decoded = /^o:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
      if (!decoded) throw armError(400, 'InvalidSkipToken', `The skip token '${token}' is not valid.`);
      offset = Number(decoded[1]);
    }
    const sorted = groups.sort((a, b) => a.id.toLowerCase().localeCompare(b.id.toLowerCase()));
    const page = sorted.slice(offset, offset + pageSize);
    const body: Record<string, unknown> = { value: page.map((g) => render(g, true)) };
    if (offset + pageSize < sorted.length) {
      const next = Buffer.from(`o:${offset + pageSize}`).toString('base64url');
      const version = req.query.get('api-version') ?? '';
      body['nextLink'] =
        `${origin(req)}${req.path}?api-version=${encodeURIComponent(version)}&$skipToken=${next}`;
    }
    return { status: 200, body };
  }

  const listAll = (req: EmuRequest): EmuResponse => {
    checkSubscription(req);
    return listPage(req, Object.values(st().groups));
  };

  const listByResourceGroup = (req: EmuRequest): EmuResponse => {
    checkSubscription(req);
    const rg = req.params['resourceGroupName']!.toLowerCase();
    return listPage(
      req,
      Object.values(st().groups).filter((g) => g.resourceGroup.toLowerCase() === rg),
    );
  };

  const get = (req: EmuRequest): EmuResponse => {
    const { group } = findGroup(req);
    if (!group) throw notFound(req.params['resourceGroupName']!, req.params['containerGroupName']!);
    return { status: 200, body: render(group) };
  };

  const createOrUpdate = (req: EmuRequest): Promise<EmuResponse> => {
    const { key } = findGroup(req);
    const rg = req.params['resourceGroupName']!;
    const name = req.params['containerGroupName']!;
    return withLock(key, async () => {
      const valid = validateGroupPut(name, req.body, {
        rawBodyLength: req.rawBody.length,
        tenantId: ctx.options.tenantId,
      });
      if (st().settings.imageValidation === 'sync') checkImagesAccessible(name, valid.properties);
      const existing = st().groups[key];
      if (existing) return updateExisting(req, key, existing, valid);
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
      st().groups[key] = g;
      // Public groups show their address from the start (as ACI's 201 does); private ones once running.
      if (valid.properties.ipAddress?.type === 'Public') {
        await allocateIp(key, g, []);
        setFqdn(g);
      }
      const op = beginTransition(key, g, 'create', 'Pending');
      ctx.state.changed();
      return { status: 201, headers: lroHeaders(req, op), body: render(g) };
    });
  };

  function checkImagesAccessible(name: string, spec: GroupSpec) {
    for (const c of spec.containers) {
      const result = pullImage(ctx.registryLookup, c.properties.image, spec.imageRegistryCredentials, name);
      if (!result.ok) {
        throw armError(
          400,
          'InaccessibleImage',
          `The image '${c.properties.image}' in container group '${name}' is not accessible. Please check the image and registry credential.`,
        );
      }
    }
  }

  async function updateExisting(
    req: EmuRequest,
    key: string,
    g: StoredGroup,
    valid: ReturnType<typeof validateGroupPut>,
  ): Promise<EmuResponse> {
    if (g.transition) throw transitioning(g.name);
    const blocked = immutableChange(g.properties, valid.properties);
    if (blocked) {
      throw armError(
        400,
        'InvalidContainerGroupUpdate',
        `The updates on container group '${g.name}' are invalid. If you are going to update the os type, restart policy, network profile, CPU, memory or GPU resources for a container group, you must delete it first and then create a new one. (Changed: ${blocked}.)`,
      );
    }
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
      ctx.state.changed();
      return { status: 200, body: render(g) };
    }
    // ACI redeploys the containers on a property change; the group keeps its address when it can.
    await runtime.close(key);
    g.provisioningState = 'Pending';
    g.state = 'Pending';
    const op = beginTransition(key, g, 'update', 'Pending');
    ctx.state.changed();
    return { status: 200, headers: lroHeaders(req, op), body: render(g) };
  }

  const updateTags = (req: EmuRequest): Promise<EmuResponse> => {
    const { key } = findGroup(req);
    return withLock(key, () => {
      const g = st().groups[key];
      if (!g) throw notFound(req.params['resourceGroupName']!, req.params['containerGroupName']!);
      const body = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw armError(
          400,
          'InvalidRequestContent',
          'The request content was invalid and could not be deserialized.',
        );
      }
      const tags = (body as { tags?: unknown }).tags;
      if (tags !== undefined) {
        if (tags === null) delete g.tags;
        else if (typeof tags !== 'object' || Array.isArray(tags)) {
          throw armError(
            400,
            'InvalidRequestContent',
            "The request content was invalid: 'tags' must be an object.",
          );
        } else g.tags = Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)]));
      }
      ctx.state.changed();
      return { status: 200, body: render(g) };
    });
  };

  const remove = (req: EmuRequest): Promise<EmuResponse> => {
    const { key } = findGroup(req);
    return withLock(key, async () => {
      const g = st().groups[key];
      if (!g) return { status: 204 };
      if (g.transition?.kind === 'delete') {
        const op = st().operations[g.transition.operationId];
        if (op) return { status: 202, headers: lroHeaders(req, op) };
      }
      cancelTransition(g, `The container group '${g.name}' is being deleted.`);
      await runtime.close(key);
      g.provisioningState = 'Deleting';
      const op = beginTransition(key, g, 'delete', 'Deleting');
      ctx.state.changed();
      return { status: 202, headers: lroHeaders(req, op) };
    });
  };

  const restart = (req: EmuRequest, kind: 'restart' | 'start'): Promise<EmuResponse> => {
    const { key } = findGroup(req);
    return withLock(key, async () => {
      const g = st().groups[key];
      if (!g) throw notFound(req.params['resourceGroupName']!, req.params['containerGroupName']!);
      if (g.transition) throw transitioning(g.name);
      if (kind === 'start' && g.state === 'Running') return { status: 204 };
      await runtime.close(key);
      releaseIp(g);
      g.state = 'Pending';
      beginPull(g, Date.now());
      const op = beginTransition(key, g, kind, 'Starting');
      ctx.state.changed();
      return { status: 202, headers: lroHeaders(req, op) };
    });
  };

  const stop = (req: EmuRequest): Promise<EmuResponse> => {
    const { key } = findGroup(req);
    return withLock(key, async () => {
      const g = st().groups[key];
      if (!g) throw notFound(req.params['resourceGroupName']!, req.params['containerGroupName']!);
      if (g.transition?.kind === 'delete') throw transitioning(g.name);
      cancelTransition(g, `The container group '${g.name}' was stopped.`);
      await runtime.close(key);
      releaseIp(g);
      const now = Date.now();
      for (const run of Object.values(g.containers)) {
        if (run.startedAt !== undefined && run.stoppedAt === undefined) {
          run.stoppedAt = now;
          run.events.push(event('Killing', 'Stopping container', now));
        }
      }
      g.state = 'Stopped';
      if (g.provisioningState !== 'Failed') g.provisioningState = 'Succeeded';
      ctx.state.changed();
      return { status: 204 };
    });
  };

  const operationStatus = (req: EmuRequest): EmuResponse => {
    checkSubscription(req);
    const id = req.params['operationId']!;
    const op = st().operations[id];
    if (!op) {
      throw armError(404, 'OperationNotFound', `The operation '${id}' could not be found.`);
    }
    // ACI's answer as recorded by the Azure CLI's tests (container/tests/latest/recordings/
    // test_container_create_with_vnet.yaml, AZURECLI/2.45.0): `id` is the container group's, `status` is Pending
    // until the operation ends, no `name` or `endTime`, and `properties.events` carries the containers' events.
    // `error` on failure is the ARM async contract's (azure-resource-manager-rpc v1.0/async-api-reference.md).
    const [rg = '', name = ''] = op.groupKey.split('/');
    const group = st().groups[op.groupKey];
    const opts = renderOptions(false);
    const events = group
      ? group.properties.containers.flatMap((c) => containerView(group, c, opts)?.events ?? [])
      : [];
    const body: Record<string, unknown> = {
      id: group?.id ?? groupId(ctx.options.subscriptionId, rg, name),
      status: op.status === 'InProgress' ? 'Pending' : op.status,
      startTime: new Date(op.startTime).toISOString(),
      properties: { events },
    };
    if (op.error) body['error'] = op.error;
    return { status: 200, body };
  };

  const listLogs = (req: EmuRequest): EmuResponse => {
    const { group } = findGroup(req);
    if (!group) throw notFound(req.params['resourceGroupName']!, req.params['containerGroupName']!);
    const name = req.params['containerName']!;
    const run = group.containers[name];
    if (!group.properties.containers.some((c) => c.name === name)) {
      throw armError(
        404,
        'ContainerNotFound',
        `The container '${name}' could not be found in container group '${group.name}'.`,
      );
    }
    let content = '';
    if (run?.behavior?.mode === 'crash') {
      content = `Error: process exited with code ${run.behavior.exitCode ?? 1}\n`;
    } else if (run?.behavior && run.startedAt !== undefined) {
      const ports = group.properties.containers.find((c) => c.name === name)?.properties.ports ?? [];
      content = ports.map((p) => `listening on 0.0.0.0:${p.port}\n`).join('');
    }
    return { status: 200, body: { content } };
  };

  // ------------------------------------------------------------------------------------------------------------
  // Control API

  const bodyOf = (req: EmuRequest): Record<string, unknown> => {
    if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) {
      throw controlError(400, 'BadRequest', 'Body must be a JSON object.');
    }
    return req.body as Record<string, unknown>;
  };

  const controlTarget = (req: EmuRequest) => {
    const body = bodyOf(req);
    const rg = body['resourceGroup'];
    const name = body['name'];
    if (typeof rg !== 'string' || typeof name !== 'string') {
      throw controlError(400, 'BadRequest', 'Body must be { "resourceGroup": "...", "name": "..." }.');
    }
    return { key: groupKey(rg, name), rg, name };
  };

  const controlMove = (reason: 'maintenance' | 'restart') => (req: EmuRequest) => {
    const { key, rg, name } = controlTarget(req);
    return withLock(key, async () => {
      const g = st().groups[key];
      if (!g)
        throw controlError(404, 'NotFound', `Container group '${name}' not found in resource group '${rg}'.`);
      return { status: 200, body: await move(key, g, reason) };
    });
  };

  const seed = async (req: EmuRequest): Promise<EmuResponse> => {
    const body = bodyOf(req);
    const rg = body['resourceGroup'];
    const count = body['count'];
    const prefix = body['namePrefix'] ?? 'seed';
    if (
      typeof rg !== 'string' ||
      typeof count !== 'number' ||
      !Number.isInteger(count) ||
      count < 1 ||
      count > 2000
    ) {
      throw controlError(
        400,
        'BadRequest',
        'Body must be { "resourceGroup", "count" (1-2000), "namePrefix"?, ... }.',
      );
    }
    if (typeof prefix !== 'string') throw controlError(400, 'BadRequest', 'namePrefix must be a string.');
    const subnetRaw = body['subnetIds'] ?? body['subnetId'];
    const subnets = (Array.isArray(subnetRaw) ? subnetRaw : subnetRaw === undefined ? [] : [subnetRaw]).map(
      String,
    );
    // Refuse up front what Azure would fail group by group: a /24 subnet holds at most 251 groups.
    const perSubnet = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const id = subnets[i % Math.max(1, subnets.length)];
      if (id) perSubnet.set(id, (perSubnet.get(id) ?? 0) + 1);
    }
    for (const [id, wanted] of perSubnet) {
      const range = subnetRange(id);
      const used = Object.values(st().groups).filter((g) => g.ip && range.contains(g.ip)).length;
      const free = [...range.hosts()].length - used;
      if (wanted > free) {
        throw controlError(
          409,
          'InsufficientSubnetSize',
          `Subnet '${id}' (${range.cidr}) has ${free} free addresses for ${wanted} groups; like an Azure /24 it holds at most 251. Pass several ids in "subnetIds" (round-robin) or none (public addresses).`,
        );
      }
    }
    const image =
      typeof body['image'] === 'string' ? body['image'] : 'mcr.microsoft.com/azuredocs/aci-helloworld:latest';
    const port = typeof body['port'] === 'number' ? body['port'] : 8080;
    const location = typeof body['location'] === 'string' ? body['location'] : 'westeurope';
    const listen = body['listen'] !== false;
    const tags =
      typeof body['tags'] === 'object' && body['tags'] !== null
        ? Object.fromEntries(Object.entries(body['tags']).map(([k, v]) => [k, String(v)]))
        : undefined;
    const startIndex = typeof body['startIndex'] === 'number' ? body['startIndex'] : 1;
    const created: { name: string; id: string; ip?: string; provisioningState: string }[] = [];
    const skipped: string[] = [];
    for (let i = startIndex; i < startIndex + count; i++) {
      const name = `${prefix}-${i}`;
      const subnetId = subnets[(i - startIndex) % Math.max(1, subnets.length)];
      const put = {
        location,
        ...(tags ? { tags } : {}),
        properties: {
          osType: 'Linux',
          restartPolicy: 'Always',
          containers: [
            {
              name: 'app',
              properties: { image, ports: [{ port }], resources: { requests: { cpu: 0.5, memoryInGB: 1 } } },
            },
          ],
          ipAddress: { type: subnetId ? 'Private' : 'Public', ports: [{ port, protocol: 'TCP' }] },
          ...(subnetId ? { subnetIds: [{ id: subnetId }] } : {}),
        },
      };
      let valid: ReturnType<typeof validateGroupPut>;
      try {
        valid = validateGroupPut(name, put, { rawBodyLength: 1, tenantId: ctx.options.tenantId });
      } catch (err) {
        throw controlError(400, 'BadRequest', (err as Error).message);
      }
      const key = groupKey(rg, name);
      await withLock(key, async () => {
        if (st().groups[key]) {
          skipped.push(name);
          return;
        }
        const now = Date.now();
        const g: StoredGroup = {
          id: groupId(ctx.options.subscriptionId, rg, name),
          name,
          resourceGroup: rg,
          location,
          properties: valid.properties,
          provisioningState: 'Creating',
          state: 'Pending',
          containers: {},
          events: [],
          listen,
          createdAt: now,
        };
        if (valid.tags) g.tags = valid.tags;
        st().groups[key] = g;
        beginPull(g, now);
        await bringUp(key, g, []);
        created.push({
          name,
          id: g.id,
          ...(g.ip ? { ip: g.ip } : {}),
          provisioningState: g.provisioningState,
        });
      });
    }
    ctx.state.changed();
    return { status: 201, body: { created, skipped } };
  };

  const debugList = (): EmuResponse => {
    const opts = renderOptions(false);
    const value = Object.entries(st().groups).map(([key, g]) => ({
      id: g.id,
      resourceGroup: g.resourceGroup,
      name: g.name,
      provisioningState: g.provisioningState,
      state: groupState(g, opts),
      ip: g.ip ?? null,
      lastIp: g.lastIp ?? null,
      ports: tcpPorts(g),
      listening: runtime.listening(key)?.ports ?? [],
      held: runtime.listening(key)?.held ?? [],
      transition: g.transition ? { kind: g.transition.kind, phase: g.transition.phase } : null,
      containers: g.properties.containers.map((c) => {
        const run = g.containers[c.name];
        const view = containerView(g, c, opts);
        return {
          name: c.name,
          image: c.properties.image,
          digest: run?.digest ?? null,
          behavior: run?.behavior ?? null,
          state: view?.currentState.state ?? null,
          restartCount: view?.restartCount ?? 0,
        };
      }),
    }));
    return { status: 200, body: { value } };
  };

  const setOptions = (req: EmuRequest): EmuResponse => {
    const body = bodyOf(req);
    const mode = body['imageValidation'];
    if (mode !== 'async' && mode !== 'sync') {
      throw controlError(400, 'BadRequest', 'Body must be { "imageValidation": "async" | "sync" }.');
    }
    st().settings.imageValidation = mode;
    ctx.state.changed();
    return { status: 200, body: st().settings };
  };

  // ------------------------------------------------------------------------------------------------------------

  const arm = (method: string, pattern: string, operation: string, handler: Route['handler']): Route => ({
    method,
    pattern,
    operation,
    handler,
    auth: 'arm',
    apiVersions: CONTAINER_INSTANCE_API_VERSIONS,
  });
  const control = (method: string, pattern: string, operation: string, handler: Route['handler']): Route => ({
    method,
    pattern,
    operation,
    handler,
    auth: 'none',
  });

  const routes: Route[] = [
    arm(
      'GET',
      '/subscriptions/:subscriptionId/providers/Microsoft.ContainerInstance/containerGroups',
      'ContainerGroups_List',
      listAll,
    ),
    arm('GET', BASE, 'ContainerGroups_ListByResourceGroup', listByResourceGroup),
    arm('GET', `${BASE}/:containerGroupName`, 'ContainerGroups_Get', get),
    arm('PUT', `${BASE}/:containerGroupName`, 'ContainerGroups_CreateOrUpdate', createOrUpdate),
    arm('PATCH', `${BASE}/:containerGroupName`, 'ContainerGroups_Update', updateTags),
    arm('DELETE', `${BASE}/:containerGroupName`, 'ContainerGroups_Delete', remove),
    arm('POST', `${BASE}/:containerGroupName/restart`, 'ContainerGroups_Restart', (req) =>
      restart(req, 'restart'),
    ),
    arm('POST', `${BASE}/:containerGroupName/start`, 'ContainerGroups_Start', (req) => restart(req, 'start')),
    arm('POST', `${BASE}/:containerGroupName/stop`, 'ContainerGroups_Stop', stop),
    arm('GET', `${BASE}/:containerGroupName/containers/:containerName/logs`, 'Containers_ListLogs', listLogs),
    arm(
      'POST',
      `${BASE}/:containerGroupName/containers/:containerName/exec`,
      'Containers_ExecuteCommand',
      () => {
        throw notImplemented('container exec');
      },
    ),
    arm('POST', `${BASE}/:containerGroupName/containers/:containerName/attach`, 'Containers_Attach', () => {
      throw notImplemented('container attach');
    }),
    arm(
      'GET',
      '/subscriptions/:subscriptionId/providers/Microsoft.ContainerInstance/locations/:location/operations/:operationId',
      'ContainerInstance_GetOperationStatus',
      operationStatus,
    ),
    control(
      'POST',
      '/_emulator/maintenance',
      'Emulator_ContainerGroupMaintenance',
      controlMove('maintenance'),
    ),
    control('POST', '/_emulator/restart', 'Emulator_ContainerGroupRestart', controlMove('restart')),
    control('POST', '/_emulator/containerGroups/seed', 'Emulator_SeedContainerGroups', seed),
    control('GET', '/_emulator/containerGroups', 'Emulator_ListContainerGroups', debugList),
    control('POST', '/_emulator/containerGroups/options', 'Emulator_ContainerGroupOptions', setOptions),
  ];

  async function stopEverything() {
    running = false;
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
    await runtime.closeAll();
  }

  return {
    name: 'containerInstance',
    routes,
    async start() {
      running = true;
      for (const [key, g] of Object.entries(st().groups)) {
        await withLock(key, async () => {
          if (g.transition) {
            schedule(key);
            return;
          }
          if (g.state !== 'Running' || !g.ip || !g.listen) return;
          // Back on the same address, unless something else took it meanwhile: then the platform "repairs" it.
          if (!(await runtime.canBind(g.ip, tcpPorts(g)))) {
            await move(key, g, 'restart');
            return;
          }
          await syncListeners(key, g);
        });
      }
      ctx.state.changed();
    },
    stop: stopEverything,
    resourceGroups: () =>
      Object.values(st().groups).map((g) => ({ name: g.resourceGroup, location: g.location })),
    async reset() {
      await stopEverything();
      running = true;
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
