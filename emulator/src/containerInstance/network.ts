/**
 * A group's place on the network: its address (from its subnet's emulated range, or the public pool), its FQDN,
 * and the sockets a running group holds on its ports, answering as its containers would.
 */
import type http from 'node:http';
import type { ImageBehavior } from '../core/context.js';
import type { ContainerRuntime, PortListener } from './containerRuntime.js';
import { containerView } from './groupRendering.js';
import type { GroupStore } from './groupStore.js';
import { locationSlug, type StoredGroup } from './groupTypes.js';
import type { GroupViews } from './groupViews.js';
import { allocateAddress, publicRange, subnetRange } from './subnetAddresses.js';

/** The group's TCP ports (UDP ports are declared but not listened on). */
export const tcpPorts = (g: StoredGroup): number[] =>
  (g.properties.ipAddress?.ports ?? []).filter((p) => p.protocol !== 'UDP').map((p) => p.port);

export class GroupNetwork {
  constructor(
    private readonly store: GroupStore,
    private readonly runtime: ContainerRuntime,
    private readonly views: GroupViews,
  ) {}

  /** Picks the group's address: `prefer` if still free, else the lowest free one of its range not in `exclude`. */
  allocateIp(key: string, g: StoredGroup, exclude: string[], prefer?: string): Promise<string | undefined> {
    const ipAddress = g.properties.ipAddress;
    if (!ipAddress) return Promise.resolve(undefined);
    return this.store.withAllocation(async () => {
      const range =
        ipAddress.type === 'Private' && g.properties.subnetIds?.[0]
          ? subnetRange(g.properties.subnetIds[0].id)
          : publicRange();
      const inUse = new Set<string>();
      for (const [k, other] of Object.entries(this.store.groups))
        if (k !== key && other.ip) inUse.add(other.ip);
      const ports = tcpPorts(g);
      const accept = (ip: string) => (g.listen ? this.runtime.canBind(ip, ports) : true);
      let ip: string | undefined;
      if (prefer && range.contains(prefer) && !inUse.has(prefer) && (await accept(prefer))) ip = prefer;
      ip ??= await allocateAddress(range, inUse, new Set(exclude), accept);
      if (ip) g.ip = ip;
      return ip;
    });
  }

  releaseIp(g: StoredGroup): void {
    if (!g.ip) return;
    g.lastIp = g.ip;
    delete g.ip;
  }

  setFqdn(g: StoredGroup): void {
    const label = g.properties.ipAddress?.dnsNameLabel;
    if (label) g.fqdn = `${label.toLowerCase()}.${locationSlug(g.location)}.azurecontainer.io`;
    else delete g.fqdn;
  }

  /**
   * Binds (or unbinds) the group's sockets to match its state. A running group holds every declared TCP port of
   * its address, also while its container starts slowly or crash-loops (those ports reset connections until the
   * container is ready, or forever), so no other emulator on the machine can take the address meanwhile.
   */
  async syncListeners(key: string, g: StoredGroup): Promise<void> {
    const ipAddress = g.properties.ipAddress;
    if (!this.store.running || !g.listen || g.state !== 'Running' || !g.ip || !ipAddress) {
      await this.runtime.close(key);
      return;
    }
    const listeners: PortListener[] = [];
    const opts = this.views.options(false);
    for (const port of tcpPorts(g)) {
      const spec = g.properties.containers.find((c) =>
        (c.properties.ports ?? []).some((p) => p.port === port),
      );
      const run = spec ? g.containers[spec.name] : undefined;
      const view = spec ? containerView(g, spec, opts) : undefined;
      const serving = run?.behavior && run.startedAt !== undefined && view?.serving;
      const delay =
        run?.behavior && 'startDelaySeconds' in run.behavior ? (run.behavior.startDelaySeconds ?? 0) : 0;
      const probed = spec?.properties.livenessProbe !== undefined;
      listeners.push({
        port,
        readyAt: serving ? run.startedAt! + delay * 1000 : Infinity,
        // A liveness probe may kill and restart the container: it answers only while it runs.
        ...(probed ? { isUp: () => this.isServing(key, spec!.name) } : {}),
        handler: spec ? this.containerHandler(key, spec.name, port) : (_req, res) => res.writeHead(503).end(),
      });
    }
    await this.runtime.serve(key, g.ip, listeners);
  }

  private isServing(key: string, container: string): boolean {
    const g = this.store.groups[key];
    const spec = g?.properties.containers.find((c) => c.name === container);
    return !!g && !!spec && containerView(g, spec, this.views.options(false))?.serving === true;
  }

  /** What a running container answers: 200 JSON naming group, image and digest (or its failing status). */
  private containerHandler(key: string, container: string, port: number): http.RequestListener {
    return (req, res) => {
      const g = this.store.groups[key];
      const run = g?.containers[container];
      if (!g || !run?.behavior) {
        res.writeHead(503).end();
        return;
      }
      const status = answerStatus(run.behavior, run.startedAt, Date.now());
      const unhealthy = status !== 200;
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
}

/**
 * The status a running container answers with now: 200, an unhealthy image's status, or a degrading image's
 * failure status once `afterSeconds` have passed since the container started (its run's `startedAt`, which a
 * restart or host move sets anew).
 */
export function answerStatus(behavior: ImageBehavior, startedAt: number | undefined, now: number): number {
  if (behavior.mode === 'unhealthy') return behavior.status ?? 503;
  if (behavior.mode === 'degrade' && now >= (startedAt ?? now) + behavior.afterSeconds * 1000) {
    return behavior.status ?? 503;
  }
  return 200;
}
