/**
 * A stored container group as ACI's GET and list answer it: the instance view at `now` (never echoing secrets).
 */
import { crashTimeline, iso, toArmEvent } from './crashTimeline.js';
import {
  groupKey,
  RESOURCE_TYPE,
  type ArmEvent,
  type ContainerSpec,
  type GroupState,
  type StoredEvent,
  type StoredGroup,
} from './groupTypes.js';

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

/** The instance view of one container at `now`. */
export function containerView(
  g: StoredGroup,
  spec: ContainerSpec,
  opts: Pick<RenderOptions, 'now' | 'crashBaseMs' | 'containerId'>,
): ContainerView | undefined {
  const run = g.containers[spec.name];
  if (!run) return undefined;
  const events = run.events.map(toArmEvent);
  const key = groupKey(g.resourceGroup, g.name);
  if (run.pullFailure || !run.behavior || run.startedAt === undefined) {
    return {
      restartCount: 0,
      currentState: { state: 'Waiting', detailStatus: run.pullFailure ? 'ErrImagePull' : '' },
      events,
      serving: false,
    };
  }
  const startTime = iso(run.startedAt);
  if (run.stoppedAt !== undefined) {
    return {
      restartCount: 0,
      currentState: {
        state: 'Terminated',
        startTime,
        exitCode: 0,
        finishTime: iso(run.stoppedAt),
        detailStatus: 'Completed',
      },
      events,
      serving: false,
    };
  }
  if (run.behavior.mode !== 'crash') {
    return {
      restartCount: 0,
      currentState: { state: 'Running', startTime, detailStatus: '' },
      events,
      serving: true,
    };
  }
  const exitCode = run.behavior.exitCode ?? 1;
  const restarts = g.properties.restartPolicy !== 'Never';
  const t = crashTimeline(run.startedAt, opts.now, opts.crashBaseMs, restarts);
  const crashEvents: StoredEvent[] = [
    { name: 'Started', message: 'Started container', type: 'Normal', ...t.starts },
  ];
  if (t.exits) {
    crashEvents.push({
      name: 'Killing',
      message: `Killing container with id ${opts.containerId(key, spec.name, t.exits.count - 1)}.`,
      type: 'Normal',
      ...t.exits,
    });
    if (restarts) {
      crashEvents.push({
        name: 'BackOff',
        message: 'Back-off restarting failed container',
        type: 'Warning',
        ...t.exits,
      });
    }
  }
  const terminated = (start: number, exit: number): ContainerStateView => ({
    state: 'Terminated',
    startTime: iso(start),
    exitCode,
    finishTime: iso(exit),
    detailStatus: 'Error',
  });
  let currentState: ContainerStateView;
  if (t.running) currentState = { state: 'Running', startTime: iso(t.lastStart), detailStatus: '' };
  else if (t.finished) currentState = terminated(t.previous!.start, t.previous!.exit);
  else currentState = { state: 'Waiting', detailStatus: 'CrashLoopBackOff' };
  const previousState = t.previous && !t.finished ? terminated(t.previous.start, t.previous.exit) : undefined;
  const view: ContainerView = {
    restartCount: t.restartCount,
    currentState,
    events: [...events, ...crashEvents.map(toArmEvent)],
    serving: false,
  };
  if (previousState) view.previousState = previousState;
  return view;
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

export function renderGroup(g: StoredGroup, opts: RenderOptions): Record<string, unknown> {
  const p = g.properties;
  const containers = p.containers.map((c) => {
    const props: Record<string, unknown> = {
      ...c.properties,
      environmentVariables: (c.properties.environmentVariables ?? []).map((e) =>
        e.secureValue !== undefined ? { name: e.name } : { name: e.name, value: e.value ?? '' },
      ),
    };
    if (!opts.list) {
      const view = containerView(g, c, opts);
      if (view) {
        const { serving: _serving, ...instanceView } = view;
        props['instanceView'] = instanceView;
      }
    }
    return { name: c.name, properties: props };
  });
  const properties: Record<string, unknown> = {
    ...p.extra,
    sku: p.sku,
    provisioningState: g.provisioningState,
    containers,
    initContainers: (p.extra['initContainers'] as unknown[] | undefined) ?? [],
    restartPolicy: p.restartPolicy,
    osType: p.osType,
  };
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
