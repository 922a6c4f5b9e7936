/**
 * An HTTP CONNECT proxy on 127.0.0.1 that opens tunnels to `*.localhost` names only, for programs that cannot
 * resolve them. The emulator serves each Key Vault at `{vault}.vault.localhost:{port}` (Azure's URL shape), which
 * Node resolves through emulator/src/localhostDns.ts but glibc does not, so Azure's CLI (Python requests) fails
 * with "Name or service not known". Given `HTTPS_PROXY=<this>` and `NO_PROXY=127.0.0.1`, requests sends
 * `CONNECT kv-apps.vault.localhost:{port}` here and speaks TLS end to end through the tunnel (the emulator's
 * certificate and SNI as without a proxy). It stands in for DNS only: in Azure the vault name resolves.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { isLocalhostName } from '../../emulator/src/localhostDns.js';

export interface LocalhostProxy {
  /** `http://127.0.0.1:{port}`, for HTTPS_PROXY. */
  url: string;
  /** Tunnels opened so far (one per connection the client made). */
  tunnels(): number;
  close(): Promise<void>;
}

export async function startLocalhostProxy(): Promise<LocalhostProxy> {
  let opened = 0;
  const server = http.createServer((_req, res) => {
    // Plain HTTP is never proxied here: only CONNECT tunnels to *.localhost.
    res.writeHead(405).end();
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const [host, portText] = (req.url ?? '').split(':');
    const port = Number(portText);
    if (!host || !isLocalhostName(host) || !Number.isInteger(port)) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = net.connect(port, '127.0.0.1', () => {
      opened++;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const closeBoth = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', closeBoth);
    client.on('error', closeBoth);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels: () => opened,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
