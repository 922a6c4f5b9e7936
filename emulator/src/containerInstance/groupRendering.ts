/**
 * A stored container group as ACI's GET and list answer it: the instance view at `now` (never echoing secrets).
 */
import { crashTimeline, iso, toArmEvent, type CrashTimeline } from './crashTimeline.js';
import {
  groupKey,
  RESOURCE_TYPE,
  type ArmEvent,
  type ContainerRun,
  type ContainerSpec,
  type EnvironmentVariable,
  type GroupState,
  type InitContainerSpec,
  type LogAnalytics,
  type StoredEvent,
  type StoredGroup,
  type StoredVolume,
} from './groupTypes.js';
import { probedRun } from './probeTimeline.js';

export interface RenderOptions {
  /** List operations do not return instanceView (ACI's documented behaviour). */
  list: boolean;
  now: number;
  /** Base of crash-loop timings (the emulator's provisioning step). */
  crashBaseMs: number;
  containerId(groupKey: string, container: string, run: number): string;
}

interface ContainerStateView {
  state: string;
  startTime?: string;
  exitCode?: number;
  finishTime?: string;
  detailStatus: string;
}

export interface ContainerView {
  restartCount: number;
  currentState: ContainerStateView;
  previousState?: ContainerStateView;
  events: ArmEvent[];
  /** For the runtime: does this container serve its ports now (ignoring slow start)? */
  serving: boolean;
}

function terminated(start: number, exit: number, exitCode: number): ContainerStateView {
  return {
    state: 'Terminated',
    startTime: iso(start),
    exitCode,
    finishTime: iso(exit),
    detailStatus: 'Error',
  };
}

/** A container that exits (crash) or is killed (failed liveness probe) and is restarted with back-off. */
function restartingView(
  t: CrashTimeline,
  exitCode: number,
  events: ArmEvent[],
  serving: boolean,
): ContainerView {
  let currentState: ContainerStateView;
  if (t.running) currentState = { state: 'Running', startTime: iso(t.lastStart), detailStatus: '' };
  else if (t.finished) currentState = terminated(t.previous!.start, t.previous!.exit, exitCode);
  else currentState = { state: 'Waiting', detailStatus: 'CrashLoopBackOff' };
  const previousState =
    t.previous && !t.finished ? terminated(t.previous.start, t.previous.exit, exitCode) : undefined;
  const view: ContainerView = {
    restartCount: t.restartCount,
    currentState,
    events,
    serving: serving && t.running,
  };
  if (previousState) view.previousState = previousState;
  return view;
}

function crashingView(
  g: StoredGroup,
  spec: ContainerSpec,
  run: ContainerRun & { startedAt: number },
  events: ArmEvent[],
  opts: Pick<RenderOptions, 'now' | 'crashBaseMs' | 'containerId'>,
): ContainerView {
  const exitCode = run.behavior?.mode === 'crash' ? (run.behavior.exitCode ?? 1) : 1;
  const restarts = g.properties.restartPolicy !== 'Never';
  const t = crashTimeline(run.startedAt, opts.now, opts.crashBaseMs, restarts);
  const crashEvents: StoredEvent[] = [
    { name: 'Started', message: 'Started container', type: 'Normal', ...t.starts },
  ];
  if (t.exits) {
    const key = groupKey(g.resourceGroup, g.name);
    crashEvents.push({
      name: 'Killing',
      message: `Killing container with id ${opts.containerId(key, spec.name, t.exits.count - 1)}.`,
      type: 'Normal',
      ...t.exits,
    });
    if (restarts)
      crashEvents.push({
        name: 'BackOff',
        message: 'Back-off restarting failed container',
        type: 'Warning',
        ...t.exits,
      });
  }
  return restartingView(t, exitCode, [...events, ...crashEvents.map(toArmEvent)], false);
}

/** The instance view of one container (or init container) at `now`. */
export function containerView(
  g: StoredGroup,
  spec: ContainerSpec | InitContainerSpec,
  opts: Pick<RenderOptions, 'now' | 'crashBaseMs' | 'containerId'>,
): ContainerView | undefined {
  const run = g.containers[spec.name];
  if (!run) return undefined;
  const events = run.events.map(toArmEvent);
  if (run.pullFailure || !run.behavior || run.startedAt === undefined) {
    return {
      restartCount: 0,
      currentState: { state: 'Waiting', detailStatus: run.pullFailure ? 'ErrImagePull' : '' },
      events,
      serving: false,
    };
  }
  const startTime = iso(run.startedAt);
  const isInit = (g.properties.initContainers ?? []).some((c) => c.name === spec.name);
  if (run.stoppedAt !== undefined || isInit) {
    // Init containers ran to completion before the containers started (the emulator runs them at once).
    const finish = run.stoppedAt ?? run.startedAt;
    const view = {
      state: 'Terminated',
      startTime,
      exitCode: 0,
      finishTime: iso(finish),
      detailStatus: 'Completed',
    };
    return { restartCount: 0, currentState: view, events, serving: false };
  }
  const container = spec as ContainerSpec;
  const startedRun = run as ContainerRun & { startedAt: number };
  if (run.behavior.mode === 'crash') return crashingView(g, container, startedRun, events, opts);
  const probed = probedRun(container, run, {
    now: opts.now,
    crashBaseMs: opts.crashBaseMs,
    restarts: g.properties.restartPolicy !== 'Never',
    ip: g.ip ?? '127.0.0.1',
  });
  const probeEvents = (probed?.events ?? []).map(toArmEvent);
  if (probed?.liveness) {
    const t = probed.liveness;
    const starts = { name: 'Started', message: 'Started container', type: 'Normal' as const, ...t.starts };
    const restarts =
      t.exits && !t.finished
        ? [
            toArmEvent({
              name: 'BackOff',
              message: 'Back-off restarting failed container',
              type: 'Warning',
              ...t.exits,
            }),
          ]
        : [];
    // Killed by the kubelet after failing liveness probes: SIGKILL, exit code 137.
    const others = events.filter((e) => e.name !== 'Started');
    return restartingView(t, 137, [...others, toArmEvent(starts), ...probeEvents, ...restarts], true);
  }
  return {
    restartCount: 0,
    currentState: { state: 'Running', startTime, detailStatus: '' },
    events: [...events, ...probeEvents],
    serving: true,
  };
}

/** The group's instanceView.state at `now` (a Never-restart group whose containers all exited has finished). */
export function groupState(
  g: StoredGroup,
  opts: Pick<RenderOptions, 'now' | 'crashBaseMs' | 'containerId'>,
): GroupState {
  if (g.state !== 'Running' || g.properties.restartPolicy !== 'Never') return g.state;
  const views = g.properties.containers.map((c) => containerView(g, c, opts));
  if (views.every((v) => v?.currentState.state === 'Terminated')) {
    return views.some((v) => (v?.currentState.exitCode ?? 0) !== 0) ? 'Failed' : 'Succeeded';
  }
  return g.state;
}

/** Environment variables as GET shows them: a secure one by name only (ARM never returns a secureValue). */
function renderEnv(vars: EnvironmentVariable[] | undefined): Record<string, unknown>[] {
  return (vars ?? []).map((e) =>
    e.secureValue !== undefined ? { name: e.name } : { name: e.name, value: e.value ?? '' },
  );
}

/**
 * Volumes as GET shows them: Azure Files without storageAccountKey, secret volumes empty (`{}`), as the REST spec's
 * 2022-09-01 examples (ContainerGroupsUpdate.json) answer them.
 */
function renderVolumes(volumes: StoredVolume[]): Record<string, unknown>[] {
  return volumes.map((v) => {
    if (v.azureFile) {
      const { storageAccountKey: _key, ...file } = v.azureFile;
      return { name: v.name, azureFile: file };
    }
    if (v.secret) return { name: v.name, secret: {} };
    if (v.gitRepo) return { name: v.name, gitRepo: { ...v.gitRepo } };
    return { name: v.name, emptyDir: {} };
  });
}

/** diagnostics.logAnalytics without workspaceKey and workspaceResourceId (both x-ms-secret in the REST spec). */
function renderDiagnostics(la: LogAnalytics): Record<string, unknown> {
  const { workspaceKey: _key, workspaceResourceId: _id, ...shown } = la;
  return { logAnalytics: shown };
}

export function renderGroup(g: StoredGroup, opts: RenderOptions): Record<string, unknown> {
  const p = g.properties;
  const render = (c: ContainerSpec | InitContainerSpec) => {
    const props: Record<string, unknown> = {
      ...c.properties,
      environmentVariables: renderEnv(c.properties.environmentVariables),
    };
    if (!opts.list) {
      const view = containerView(g, c, opts);
      if (view) {
        const { serving: _serving, ...instanceView } = view;
        props['instanceView'] = instanceView;
      }
    }
    return { name: c.name, properties: props };
  };
  const containers = p.containers.map(render);
  const properties: Record<string, unknown> = {
    ...p.extra,
    sku: p.sku,
    provisioningState: g.provisioningState,
    containers,
    initContainers: (p.initContainers ?? []).map(render),
    restartPolicy: p.restartPolicy,
    osType: p.osType,
  };
  if (p.volumes) properties['volumes'] = renderVolumes(p.volumes);
  if (p.logAnalytics) properties['diagnostics'] = renderDiagnostics(p.logAnalytics);
  if (p.ipAddress) {
    const ip: Record<string, unknown> = {
      ports: p.ipAddress.ports.map((x) => ({ protocol: x.protocol ?? 'TCP', port: x.port })),
      type: p.ipAddress.type,
    };
    if (g.ip) ip['ip'] = g.ip;
    if (p.ipAddress.dnsNameLabel) {
      ip['dnsNameLabel'] = p.ipAddress.dnsNameLabel;
      ip['autoGeneratedDomainNameLabelScope'] = p.ipAddress.autoGeneratedDomainNameLabelScope ?? 'Unsecure';
      if (g.fqdn) ip['fqdn'] = g.fqdn;
    }
    properties['ipAddress'] = ip;
  }
  if (p.subnetIds) properties['subnetIds'] = p.subnetIds;
  if (p.imageRegistryCredentials) {
    properties['imageRegistryCredentials'] = p.imageRegistryCredentials.map((c) => {
      const out: Record<string, unknown> = { server: c.server };
      if (c.username !== undefined) out['username'] = c.username;
      if (c.identity !== undefined) out['identity'] = c.identity;
      if (c.identityUrl !== undefined) out['identityUrl'] = c.identityUrl;
      return out;
    });
  }
  if (!opts.list) {
    properties['instanceView'] = { events: g.events.map(toArmEvent), state: groupState(g, opts) };
  }
  const out: Record<string, unknown> = {
    id: g.id,
    name: g.name,
    type: RESOURCE_TYPE,
    location: g.location,
  };
  if (g.tags) out['tags'] = g.tags;
  if (g.zones) out['zones'] = g.zones;
  if (g.identity) out['identity'] = g.identity;
  out['properties'] = properties;
  return out;
}
