/**
 * The emulator's DNS server: UDP and TCP on 127.0.0.1, one port for both (RFC 1035 §4.2; RFC 7766: TCP is a
 * must for a DNS server), messages read and written with `dns-packet` (no hand-written wire code), answers from
 * dnsAnswers.ts. Over UDP an answer longer than 512 bytes (no EDNS here) is sent truncated with the TC bit, so the
 * client retries over TCP (RFC 1035 §4.2.1).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { PrivateDnsStore } from './privateDnsStore.js';
import { answer, formatError } from './dnsAnswers.js';

const UDP_LIMIT = 512;

export interface DnsServerHandle {
  host: string;
  port: number;
  /** Queries answered since the start. */
  queries(): number;
  close(): Promise<void>;
}

function respond(message: Buffer, store: PrivateDnsStore): dnsPacket.Packet | undefined {
  let query: dnsPacket.DecodedPacket;
  try {
    query = dnsPacket.decode(message);
  } catch {
    return message.length >= 2 ? formatError(message.readUInt16BE(0)) : undefined;
  }
  if (query.type !== 'query') return undefined;
  return answer(query, store);
}

function udpPayload(packet: dnsPacket.Packet): Buffer {
  const full = dnsPacket.encode(packet);
  if (full.length <= UDP_LIMIT) return full;
  return dnsPacket.encode({
    ...packet,
    flags: (packet.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
    answers: [],
    authorities: [],
    additionals: [],
  });
}

/** Length-prefixed messages over one TCP connection, answered in order. */
function serveTcp(socket: net.Socket, store: PrivateDnsStore, count: () => void): void {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2) {
      const length = pending.readUInt16BE(0);
      if (pending.length < 2 + length) break;
      const message = pending.subarray(2, 2 + length);
      pending = pending.subarray(2 + length);
      const packet = respond(message, store);
      count();
      if (packet) socket.write(dnsPacket.streamEncode(packet));
    }
  });
  socket.on('error', () => socket.destroy());
}

function listenTcp(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function bindUdp(socket: dgram.Socket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

/**
 * Starts both listeners on `port` (0: a free port, the same for both: TCP picks it, UDP binds it, and another free
 * port is tried when that one is taken for UDP).
 */
export async function startDnsServer(
  store: PrivateDnsStore,
  options: { host?: string; port: number; log?: (message: string) => void },
): Promise<DnsServerHandle> {
  const host = options.host ?? '127.0.0.1';
  let queries = 0;
  const count = () => void queries++;
  for (let attempt = 0; ; attempt++) {
    const tcp = net.createServer((socket) => serveTcp(socket, store, count));
    const udp = dgram.createSocket('udp4');
    const port = await listenTcp(tcp, host, options.port);
    try {
      await bindUdp(udp, host, port);
    } catch (err) {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      udp.close();
      if (options.port !== 0 || attempt >= 5) throw err;
      continue;
    }
    udp.on('message', (message, remote) => {
      const packet = respond(message, store);
      count();
      if (packet) udp.send(udpPayload(packet), remote.port, remote.address);
    });
    udp.on('error', (err) => options.log?.(`DNS server (UDP): ${err.message}`));
    const sockets = new Set<net.Socket>();
    tcp.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    return {
      host,
      port,
      queries: () => queries,
      close: async () => {
        for (const s of sockets) s.destroy();
        await Promise.all([
          new Promise<void>((resolve) => tcp.close(() => resolve())),
          new Promise<void>((resolve) => udp.close(() => resolve())),
        ]);
      },
    };
  }
}
