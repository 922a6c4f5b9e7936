/**
 * The emulator's control API as the benchmarks use it: a small JSON client, and its request log, which counts
 * every call the app made to ARM, Key Vault and the rest by operation (so the figures are what Azure would see).
 */
export interface Control {
  url: string;
  call<T>(method: string, pathAndQuery: string, body?: unknown): Promise<{ status: number; body: T }>;
}

export function controlClient(url: string): Control {
  return {
    url,
    async call<T>(method: string, pathAndQuery: string, body?: unknown) {
      const res = await fetch(`${url}${pathAndQuery}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
  };
}

export interface RequestSummary {
  total: number;
  lastSeq: number;
  counts: Record<string, number>;
  statuses: Record<string, number>;
}

export async function requestLog(control: Control, since = 0): Promise<RequestSummary> {
  const res = await control.call<RequestSummary>('GET', `/_emulator/requests?since=${since}`);
  if (res.status !== 200) throw new Error(`request log: ${res.status}`);
  return res.body;
}

/** One request the emulator answered (its request log, `GET /_emulator/requests?entries=true`). */
export interface LoggedRequest {
  seq: number;
  /** ISO time the request arrived. */
  at: string;
  method: string;
  path: string;
  operation: string;
  status: number;
  durationMs: number;
}

/** The requests answered after `since` (a `lastSeq`), oldest first. */
export async function requestEntries(control: Control, since: number): Promise<LoggedRequest[]> {
  const res = await control.call<{ entries: LoggedRequest[] }>(
    'GET',
    `/_emulator/requests?since=${since}&entries=true`,
  );
  if (res.status !== 200) throw new Error(`request log: ${res.status}`);
  return res.body.entries;
}

/** Calls to Azure services (control API and managed-identity token requests left out). */
export function azureCalls(summary: RequestSummary): Record<string, number> {
  return Object.fromEntries(
    Object.entries(summary.counts)
      .filter(([op]) => !op.startsWith('Emulator_') && op !== 'ManagedIdentity_GetToken')
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

export const sum = (counts: Record<string, number>) => Object.values(counts).reduce((n, c) => n + c, 0);
