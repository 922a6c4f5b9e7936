/**
 * The "containers" of running groups: one Node HTTP server per (group IP, port), bound to the group's 127.x address
 * so callers use real TCP. Closing a group closes its sockets at once, so a stale IP refuses connections
 * (ECONNREFUSED) as a moved ACI group's old address stops answering. A slow-starting container's port is bound only
 * once its start delay has passed.
 */
import http from 'node:http';

export interface PortListener {
  port: number;
  /** Epoch ms from which the port accepts connections (slow start); earlier ports refuse them. */
  readyAt: number;
  handler: http.RequestListener;
}

interface GroupSockets {
  ip: string;
  servers: Map<number, http.Server>;
  timers: NodeJS.Timeout[];
  closed: boolean;
}

function bind(ip: string, port: number, handler: http.RequestListener): Promise<http.Server> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 2000;
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ port, host: ip, exclusive: true }, () => {
      server.off('error', onError);
      resolve(server);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
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
    const opened: http.Server[] = [];
    try {
      for (const port of ports) {
        try {
          opened.push(await bind(ip, port, (_req, res) => res.end()));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EACCES') continue;
          return false;
        }
      }
      return true;
    } finally {
      await Promise.all(opened.map(closeServer));
    }
  }

  /** Serves `listeners` on `ip` for the group `key`, replacing whatever it served before. */
  async serve(key: string, ip: string, listeners: readonly PortListener[]): Promise<void> {
    await this.close(key);
    const entry: GroupSockets = { ip, servers: new Map(), timers: [], closed: false };
    this.groups.set(key, entry);
    const open = async (l: PortListener) => {
      if (entry.closed) return;
      try {
        const server = await bind(ip, l.port, l.handler);
        if (entry.closed) {
          await closeServer(server);
          return;
        }
        server.on('error', (err) => this.log(`container socket ${ip}:${l.port} error: ${err.message}`));
        entry.servers.set(l.port, server);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const hint = code === 'EACCES' ? ' (ports below 1024 need root or CAP_NET_BIND_SERVICE)' : '';
        this.log(`group ${key}: cannot listen on ${ip}:${l.port}: ${(err as Error).message}${hint}`);
      }
    };
    const now = Date.now();
    const immediate: PortListener[] = [];
    for (const l of listeners) {
      if (l.readyAt <= now) immediate.push(l);
      else {
        const timer = setTimeout(() => void open(l), l.readyAt - now);
        timer.unref();
        entry.timers.push(timer);
      }
    }
    await Promise.all(immediate.map(open));
  }

  async close(key: string): Promise<void> {
    const entry = this.groups.get(key);
    if (!entry) return;
    this.groups.delete(key);
    entry.closed = true;
    for (const t of entry.timers) clearTimeout(t);
    await Promise.all([...entry.servers.values()].map(closeServer));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.groups.keys()].map((k) => this.close(k)));
  }

  /** What the group actually listens on now (for the debug listing). */
  listening(key: string): { ip: string; ports: number[] } | undefined {
    const entry = this.groups.get(key);
    return entry ? { ip: entry.ip, ports: [...entry.servers.keys()].sort((a, b) => a - b) } : undefined;
  }
}
