/**
 * The "containers" of running groups: one Node HTTP server per (group IP, port), bound to the group's 127.x address
 * so callers use real TCP. Closing a group closes its sockets at once, so a stale IP refuses connections
 * (ECONNREFUSED) as a moved ACI group's old address stops answering.
 *
 * A group holds every declared port of its address from allocation until release, whether its containers listen
 * yet or not: otherwise another emulator on this machine (a parallel test file) could take the address of a
 * slow-starting or crashing group. Node cannot bind a TCP port without listening on it, so a port whose container
 * does not listen yet (slow start) or never (crash loop) accepts each connection and resets it at once (TCP RST:
 * callers see ECONNRESET / "other side closed") where Azure's address would refuse it (ECONNREFUSED) or time out.
 * Either way the caller gets no HTTP answer before the container is ready.
 */
import http from 'node:http';
import net from 'node:net';

export interface PortListener {
  port: number;
  /**
   * Epoch ms from which the container answers on the port (slow start); before, connections are reset.
   * `Infinity` for a container that never listens (crash loop): the port is held and resets forever.
   */
  readyAt: number;
  /**
   * Asked at each connection once ready: false while the container is down (killed by its liveness probe and not
   * restarted yet), when the connection is reset as it would be refused.
   */
  isUp?: () => boolean;
  handler: http.RequestListener;
}

interface HeldPort {
  server: net.Server;
  http: http.Server;
  readyAt: number;
}

interface GroupSockets {
  ip: string;
  ports: Map<number, HeldPort>;
  closed: boolean;
}

function listen(ip: string, port: number, server: net.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ port, host: ip, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Binds `ip:port`: connections before `readyAt` are reset, later ones are served by `handler`. */
async function hold(ip: string, l: PortListener): Promise<HeldPort> {
  const httpServer = http.createServer(l.handler);
  httpServer.keepAliveTimeout = 2000;
  const held: HeldPort = {
    http: httpServer,
    readyAt: l.readyAt,
    server: net.createServer((socket) => {
      if (Date.now() < held.readyAt || (l.isUp && !l.isUp())) socket.resetAndDestroy();
      else httpServer.emit('connection', socket);
    }),
  };
  await listen(ip, l.port, held.server);
  return held;
}

function release(held: HeldPort): Promise<void> {
  return new Promise((resolve) => {
    held.http.closeAllConnections();
    held.server.close(() => resolve());
  });
}

export class ContainerRuntime {
  private readonly groups = new Map<string, GroupSockets>();

  constructor(private readonly log: (message: string) => void) {}

  /**
   * Whether every port can be bound on `ip` now (another emulator on this machine, e.g. a parallel test, may hold
   * the address). Only an address conflict counts: a privileged port (<1024 without root) does not.
   */
  async canBind(ip: string, ports: readonly number[]): Promise<boolean> {
    const opened: net.Server[] = [];
    try {
      for (const port of ports) {
        const server = net.createServer((socket) => socket.resetAndDestroy());
        try {
          await listen(ip, port, server);
          opened.push(server);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EACCES') continue;
          return false;
        }
      }
      return true;
    } finally {
      await Promise.all(opened.map((s) => new Promise((resolve) => s.close(resolve))));
    }
  }

  /** Holds `listeners`' ports on `ip` for the group `key` at once, replacing whatever it served before. */
  async serve(key: string, ip: string, listeners: readonly PortListener[]): Promise<void> {
    await this.close(key);
    const entry: GroupSockets = { ip, ports: new Map(), closed: false };
    this.groups.set(key, entry);
    const open = async (l: PortListener) => {
      try {
        const held = await hold(ip, l);
        if (entry.closed) {
          await release(held);
          return;
        }
        held.server.on('error', (err) => this.log(`container socket ${ip}:${l.port} error: ${err.message}`));
        entry.ports.set(l.port, held);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const hint = code === 'EACCES' ? ' (ports below 1024 need root or CAP_NET_BIND_SERVICE)' : '';
        this.log(`group ${key}: cannot listen on ${ip}:${l.port}: ${(err as Error).message}${hint}`);
      }
    };
    await Promise.all(listeners.map(open));
  }

  async close(key: string): Promise<void> {
    const entry = this.groups.get(key);
    if (!entry) return;
    this.groups.delete(key);
    entry.closed = true;
    await Promise.all([...entry.ports.values()].map(release));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.groups.keys()].map((k) => this.close(k)));
  }

  /** What the group holds now and which of those ports answer (for the debug listing). */
  listening(key: string): { ip: string; ports: number[]; held: number[] } | undefined {
    const entry = this.groups.get(key);
    if (!entry) return undefined;
    const now = Date.now();
    const held = [...entry.ports.keys()].sort((a, b) => a - b);
    return { ip: entry.ip, ports: held.filter((p) => entry.ports.get(p)!.readyAt <= now), held };
  }
}
