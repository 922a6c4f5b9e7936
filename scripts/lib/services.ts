/**
 * Child processes of the local stack (Azurite, emulator, functions host), each started in its own process group
 * so that stopping it stops everything it started too. A service is ready when a line of its output says so
 * (`HOST_READY {json}`, `EMULATOR_READY {json}`, Azurite's "successfully listening"); stopping sends SIGTERM to
 * the group, then SIGKILL after a grace period. If this process exits with services still running, they are
 * killed (a test runner or supervisor crash must not leave processes behind).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { redactSecrets } from '../../src/adapters/logRedaction.js';

export interface ServiceOptions<T> {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Looks at each output line (stdout and stderr); returns a value once the service is ready. */
  ready(line: string, stream: 'stdout' | 'stderr'): T | undefined;
  readyTimeoutMs?: number;
  /** Receives every output line (default: printed with a `name |` prefix). */
  onLine?(line: string, stream: 'stdout' | 'stderr'): void;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Service<T> {
  name: string;
  pid: number;
  /** What `ready` returned. */
  ready: T;
  /** The last lines of output, for diagnostics. */
  output: string[];
  /** Resolves when the process exits (for whatever reason). */
  exited: Promise<ExitInfo>;
  readonly running: boolean;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<ExitInfo>;
}

export class ServiceStartError extends Error {
  override name = 'ServiceStartError';
}

const OUTPUT_LINES = 200;
/** Every child started here that has not exited yet, with its exit. */
const live = new Map<ChildProcess, Promise<ExitInfo>>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live.keys()) killGroup(child, 'SIGKILL');
  });
}

/** Stops every child still running (ready or not): SIGTERM to each group, SIGKILL after `graceMs`. */
export async function stopAllServices(graceMs = 8000): Promise<void> {
  const entries = [...live.entries()];
  for (const [child] of entries) killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => entries.forEach(([child]) => killGroup(child, 'SIGKILL')), graceMs);
  await Promise.all(entries.map(([, exited]) => exited));
  clearTimeout(timer);
  for (const [child] of entries) killGroup(child, 'SIGKILL');
}

export function startService<T>(options: ServiceOptions<T>): Promise<Service<T>> {
  installExitHook();
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let running = true;
  const exited = new Promise<ExitInfo>((resolve) => {
    const done = (info: ExitInfo) => {
      running = false;
      live.delete(child);
      resolve(info);
    };
    // 'close' rather than 'exit': it comes once the output pipes are drained too, so every line has been seen.
    child.once('close', (code, signal) => done({ code, signal }));
    // A command that cannot be spawned emits 'error' and never 'exit'.
    child.once('error', () => {
      if (child.pid === undefined) done({ code: null, signal: null });
    });
  });
  live.set(child, exited);
  // Ready lines carry keys (HOST_READY) and the identity header (EMULATOR_READY): what is shown is redacted.
  const print =
    options.onLine ??
    ((line: string, stream: 'stdout' | 'stderr') =>
      (stream === 'stderr' ? process.stderr : process.stdout).write(
        `${options.name.padEnd(8)} | ${redactSecrets(line)}\n`,
      ));

  return new Promise<Service<T>>((resolve, reject) => {
    let settled = false;
    const timeoutMs = options.readyTimeoutMs ?? 60_000;
    const stop = async (graceMs = 8000): Promise<ExitInfo> => {
      if (running) {
        killGroup(child, 'SIGTERM');
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
        const info = await exited;
        clearTimeout(timer);
        // Anything the service started in its group goes too.
        killGroup(child, 'SIGKILL');
        return info;
      }
      return exited;
    };
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop(2000).then(() =>
        reject(
          new ServiceStartError(`${options.name}: ${message}\n--- last output ---\n${output.join('\n')}`),
        ),
      );
    };
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs);
    const onLine = (stream: 'stdout' | 'stderr') => (line: string) => {
      output.push(line);
      if (output.length > OUTPUT_LINES) output.shift();
      print(line, stream);
      if (settled) return;
      let value: T | undefined;
      try {
        value = options.ready(line, stream);
      } catch (err) {
        fail(`could not read its ready line: ${(err as Error).message}`);
        return;
      }
      if (value === undefined) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        name: options.name,
        pid: child.pid!,
        ready: value,
        output,
        exited,
        get running() {
          return running;
        },
        stop,
      });
    };
    readline.createInterface({ input: child.stdout! }).on('line', onLine('stdout'));
    readline.createInterface({ input: child.stderr! }).on('line', onLine('stderr'));
    child.once('error', (err) => fail(`could not start: ${err.message}`));
    void exited.then(({ code, signal }) =>
      fail(`exited before it was ready (code ${code}, signal ${signal})`),
    );
  });
}

/** `HOST_READY {json}` / `EMULATOR_READY {json}` lines. */
export function readyLine<T>(prefix: string): (line: string) => T | undefined {
  return (line) =>
    line.startsWith(`${prefix} `) ? (JSON.parse(line.slice(prefix.length + 1)) as T) : undefined;
}
