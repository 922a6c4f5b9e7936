/**
 * The host's status API as the benchmarks read it (`GET /api/status[/{app}]`, docs/design.md "Status JSON"): the
 * fields they use, and a reader bound to one host and its function key.
 */

export interface TimelineEntry {
  step: string;
  /** ISO time, milliseconds. */
  at: string;
  message: string;
}

export interface RolloutView {
  id: string;
  state: string;
  step: string;
  kind: string;
  tag: string;
  digest: string;
  group: string;
  startedAt: string;
  finishedAt: string | null;
  timeline: TimelineEntry[];
}

export interface HistoryView {
  rolloutId: string;
  tag: string;
  digest: string;
  outcome: string;
  kind: string;
  startedAt: string;
  finishedAt: string;
}

export interface AppView {
  name: string;
  digest: string | null;
  tag: string | null;
  activeGroup: string | null;
  secret: { name: string; inSync: boolean };
  rollout: RolloutView | null;
  history: HistoryView[];
  ignored: Array<{ tag: string; reason: string }>;
  pendingDeletions: unknown[];
  queued: unknown;
}

export interface AppStatusReader {
  appStatus(app: string): Promise<AppView>;
  allStatus(): Promise<AppView[]>;
}

export function appStatusReader(baseUrl: string, functionKey: string): AppStatusReader {
  const get = async <T>(route: string): Promise<T> => {
    const res = await fetch(`${baseUrl}${route}`, { headers: { 'x-functions-key': functionKey } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET ${route}: ${res.status} ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  };
  return {
    appStatus: (app) => get<AppView>(`/api/status/${encodeURIComponent(app)}`),
    allStatus: async () => (await get<{ apps: AppView[] }>('/api/status')).apps,
  };
}

/**
 * Settled on `digest`: it serves, nothing runs, waits or is left to delete, and its rollout is in history (history
 * rows are written just after the rollout ends, by its outbox).
 */
export function settledOn(app: AppView, digest: string): boolean {
  return (
    app.digest === digest &&
    app.rollout?.state !== 'inProgress' &&
    !app.queued &&
    app.pendingDeletions.length === 0 &&
    app.history.some((h) => h.digest === digest)
  );
}
