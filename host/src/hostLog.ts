/**
 * Console output of the host. Invocation lines carry `[functionName:invocationId-short]` so interleaved runs
 * can be told apart; warnings and errors go to stderr, like the Functions host's console logger. Every line goes
 * through the app's `redactSecrets` (one redaction for every logger), with the host's own keys as known secrets
 * once they exist: a request URL in an error line carries `?code=`.
 */
import { redactSecrets } from '../../src/adapters/logRedaction.js';
import type { RpcLogLevel } from './functionsCoreTypes.js';

export interface HostLogger {
  /** A host line (startup, routing, timers). */
  system(message: string, level?: RpcLogLevel): void;
  /** A line from or about one invocation. */
  invocation(functionName: string, invocationId: string, level: RpcLogLevel, message: string): void;
  /** Values never to print (the host's keys), masked wherever they appear. */
  addSecrets?(values: Iterable<string>): void;
}

const LEVEL_TAGS: Partial<Record<RpcLogLevel, string>> = {
  trace: 'trace: ',
  debug: 'debug: ',
  warning: 'warn: ',
  error: 'error: ',
  critical: 'critical: ',
};

export function invocationPrefix(functionName: string, invocationId: string): string {
  return `[${functionName}:${invocationId.slice(0, 8)}]`;
}

export interface ConsoleLoggerOptions {
  /** Lowest level printed; `debug` and `trace` are hidden by default. */
  minLevel?: RpcLogLevel;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

const ORDER: RpcLogLevel[] = ['trace', 'debug', 'information', 'warning', 'error', 'critical', 'none'];

export function consoleLogger(options: ConsoleLoggerOptions = {}): HostLogger {
  const min = ORDER.indexOf(options.minLevel ?? 'information');
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = options.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const known = new Set<string>();
  const write = (level: RpcLogLevel, prefix: string, message: string) => {
    if (level === 'none' || ORDER.indexOf(level) < min) return;
    const line = redactSecrets(`${prefix} ${LEVEL_TAGS[level] ?? ''}${message}`, known);
    if (level === 'warning' || level === 'error' || level === 'critical') err(line);
    else out(line);
  };
  return {
    system: (message, level = 'information') => write(level, '[host]', message),
    invocation: (functionName, invocationId, level, message) =>
      write(level, invocationPrefix(functionName, invocationId), message),
    addSecrets: (values) => {
      for (const v of values) known.add(v);
    },
  };
}
