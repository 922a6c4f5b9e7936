/** What the demo's caller processes (caller.ts, dnsCaller.ts) report, one `CALLER {json}` line per observation. */

export type CallerLine =
  | { kind: 'ready'; at: number }
  | { kind: 'secret'; at: number; ip: string | null; ms: number; error?: string }
  /** A DNS lookup (dnsCaller.ts): the address and the TTL it may be kept for. */
  | { kind: 'resolve'; at: number; name: string; ip: string | null; ttl?: number; ms: number; error?: string }
  | {
      kind: 'call';
      at: number;
      ip: string;
      ok: boolean;
      ms: number;
      status?: number;
      group?: string;
      tag?: string;
      digest?: string;
      error?: string;
    };

export type CallLine = Extract<CallerLine, { kind: 'call' }>;
export type SecretLine = Extract<CallerLine, { kind: 'secret' }>;
export type ResolveLine = Extract<CallerLine, { kind: 'resolve' }>;

export const CALLER_PREFIX = 'CALLER ';

export function parseCallerLine(line: string): CallerLine | undefined {
  if (!line.startsWith(CALLER_PREFIX)) return undefined;
  try {
    return JSON.parse(line.slice(CALLER_PREFIX.length)) as CallerLine;
  } catch {
    return undefined;
  }
}
