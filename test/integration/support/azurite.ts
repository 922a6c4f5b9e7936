/**
 * Starts a real Azurite table service for one test file: a free loopback port, a temp workspace, no access log.
 * Returns the connection string the app uses (`AzureWebJobsStorage`) and the table endpoint.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Azurite's well-known development account (public, documented; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface TestAzurite {
  connectionString: string;
  tableEndpoint: string;
  port: number;
  location: string;
  stop(): Promise<void>;
}

const AZURITE_TABLE_MAIN = path.resolve('node_modules/azurite/dist/src/table/main.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitForPort(
  port: number,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`azurite-table exited with ${child.exitCode}: ${output()}`);
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`azurite-table did not listen on 127.0.0.1:${port} within ${timeoutMs} ms: ${output()}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startAzurite(options: { timeoutMs?: number } = {}): Promise<TestAzurite> {
  const location = fs.mkdtempSync(path.join(os.tmpdir(), 'azurite-table-'));
  let lastError: unknown;
  // The free port could be taken between probing and binding: try a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    let out = '';
    const child = spawn(
      process.execPath,
      [
        AZURITE_TABLE_MAIN,
        '--tableHost',
        '127.0.0.1',
        '--tablePort',
        String(port),
        '--location',
        location,
        '--silent',
        '--skipApiVersionCheck',
        '--disableTelemetry',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitForPort(port, child, () => out.slice(-2000), options.timeoutMs ?? 30_000);
    } catch (e) {
      lastError = e;
      await stopChild(child);
      continue;
    }
    const tableEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
    return {
      port,
      location,
      tableEndpoint,
      connectionString:
        `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
        `TableEndpoint=${tableEndpoint};`,
      async stop() {
        await stopChild(child);
        fs.rmSync(location, { recursive: true, force: true });
      },
    };
  }
  fs.rmSync(location, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
