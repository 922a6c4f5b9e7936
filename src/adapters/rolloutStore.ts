/**
 * Rollout state in Azure Table storage (`@azure/data-tables`; Azurite locally), one table:
 *
 *   PartitionKey         RowKey                                   what
 *   `app`                `{app}`                                  the app's state (every write a CAS on its ETag)
 *   `history:{app}`      `{9999999999999 - finishedAt ms}_{id}`   one finished rollout; newest sorts first
 *   `reconcile`          `last`                                   the last reconcile tick's result
 *
 * All app rows share one partition so `list()` is a single-partition query. JSON is stored in string properties
 * split into chunks (`json0`, `json1`, …): a string property holds at most 64 KiB (32 K UTF-16 units) and an
 * entity 1 MiB. History lives in its own rows, never in the state row; oversize documents are trimmed
 * (timelines, bounded lists) before they are refused.
 */
import { odata, type TableClient, type TableEntityResult } from '@azure/data-tables';
import { ConflictError, TerminalError } from '../domain/errors.js';
import type { AppState, HistoryEntry, ReconcileResult, StoredAppState } from '../domain/model.js';
import type { RolloutStore } from '../domain/ports.js';
import { azureErrorCode, fromAzureError, statusOf } from './azureErrors.js';

const APP_PARTITION = 'app';
const RECONCILE_PARTITION = 'reconcile';
const RECONCILE_ROW = 'last';
/** UTF-16 units per string property (limit 32,768). */
const CHUNK = 30_000;
/** Chunks per entity: 14 × 60 KB stays under the 1 MiB entity limit with room for the other properties. */
const MAX_CHUNKS = 14;
const MAX_TIME = 9_999_999_999_999;
/** Characters PartitionKey/RowKey may not contain: / \\ # ? and control characters. */
function unsafeKeyChar(c: string): boolean {
  const code = c.charCodeAt(0);
  return c === '/' || c === '\\' || c === '#' || c === '?' || code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };

export function safeKey(s: string): string {
  return [...s]
    .map((c) => (unsafeKeyChar(c) || c === '%' ? `%${c.charCodeAt(0).toString(16).padStart(2, '0')}` : c))
    .join('');
}

export function historyPartition(app: string): string {
  return `history:${safeKey(app)}`;
}

export function historyRowKey(entry: Pick<HistoryEntry, 'finishedAt' | 'rolloutId'>): string {
  const t = Date.parse(entry.finishedAt);
  const inverted = MAX_TIME - (Number.isNaN(t) ? 0 : Math.max(0, Math.min(MAX_TIME, t)));
  return `${String(inverted).padStart(13, '0')}_${safeKey(entry.rolloutId)}`;
}

function chunked(json: string): Record<string, unknown> | undefined {
  const n = Math.max(1, Math.ceil(json.length / CHUNK));
  if (n > MAX_CHUNKS) return undefined;
  const out: Record<string, unknown> = { jsonChunks: n };
  for (let i = 0; i < n; i++) out[`json${i}`] = json.slice(i * CHUNK, (i + 1) * CHUNK);
  return out;
}

function unchunk(e: Record<string, unknown>): string {
  const n = typeof e['jsonChunks'] === 'number' ? e['jsonChunks'] : Number(e['jsonChunks'] ?? 1);
  let s = '';
  for (let i = 0; i < n; i++) {
    const part = e[`json${i}`];
    if (typeof part !== 'string')
      throw new TerminalError(`stored row ${String(e['rowKey'])} is incomplete (json${i})`);
    s += part;
  }
  return s;
}

/** Serialise, trimming with `shrink` (called with an increasing level) until it fits. */
function encode<T>(
  what: string,
  value: T,
  shrink: (v: T, level: number) => T | undefined,
): Record<string, unknown> {
  let current: T | undefined = value;
  for (let level = 0; current !== undefined; level++) {
    const fitted = chunked(JSON.stringify(current));
    if (fitted) return fitted;
    current = shrink(value, level);
  }
  throw new TerminalError(`${what} is too large to store in Table storage even after trimming`, {
    code: 'EntityTooLarge',
  });
}

const keepLast = <T>(xs: T[] | undefined, n: number): T[] | undefined => (xs ? xs.slice(-n) : xs);

function shrinkState(s: AppState, level: number): AppState | undefined {
  const limits = [20, 5, 1];
  const n = limits[level];
  if (n === undefined) return undefined;
  const c = structuredClone(s);
  if (c.rollout) c.rollout.timeline = keepLast(c.rollout.timeline, n) ?? [];
  c.recent = c.recent.slice(0, Math.max(n, 5));
  for (const item of c.outbox)
    if (item.kind === 'history') item.entry.timeline = keepLast(item.entry.timeline, n) ?? [];
  return c;
}

function shrinkHistory(h: HistoryEntry, level: number): HistoryEntry | undefined {
  const n = [20, 5, 0][level];
  if (n === undefined) return undefined;
  return {
    ...h,
    timeline: keepLast(h.timeline, n) ?? [],
    ...(h.message ? { message: h.message.slice(0, 2000) } : {}),
  };
}

function shrinkReconcile(r: ReconcileResult, level: number): ReconcileResult | undefined {
  const n = [500, 100, 20, 0][level];
  if (n === undefined) return undefined;
  const cut = <T extends { message: string }>(xs: T[], make: (more: number) => T): T[] =>
    xs.length > n ? [...xs.slice(0, n), make(xs.length - n)] : xs;
  const more = (k: number) => `… ${k} more not stored`;
  return {
    ...r,
    changed: cut(r.changed, (k) => ({ kind: 'secret', target: '', message: more(k) })),
    errors: cut(r.errors, (k) => ({ scope: 'store', target: '', message: more(k) })),
    warnings: cut(r.warnings, (k) => ({ scope: 'store', target: '', message: more(k) })),
  };
}

const codeOf = azureErrorCode;

/** 404 for the row (not for the whole table). */
function missingRow(e: unknown): boolean {
  return statusOf(e) === 404 && codeOf(e) !== 'TableNotFound';
}

export interface RolloutStoreOptions {
  requestTimeoutMs?: number;
}

export class TableRolloutStore implements RolloutStore {
  private ready: Promise<void> | undefined;

  constructor(
    private readonly table: TableClient,
    private readonly options: RolloutStoreOptions = {},
  ) {}

  private signal(): AbortSignal {
    return AbortSignal.timeout(this.options.requestTimeoutMs ?? 30_000);
  }

  /** Creates the table on first use (an existing table is fine); retried on the next call if it failed. */
  private ensureTable(): Promise<void> {
    this.ready ??= this.table.createTable({ abortSignal: this.signal() }).catch((e: unknown) => {
      this.ready = undefined;
      throw fromAzureError(`Table storage create table ${this.table.tableName}`, e);
    });
    return this.ready;
  }

  /**
   * Runs `fn`, mapping errors (`onError` first). A table deleted under us (TableNotFound) is re-created and the
   * call tried once more.
   */
  private async call<T>(
    what: string,
    fn: () => Promise<T>,
    onError?: (e: unknown) => { value: T } | Error | undefined,
  ): Promise<T> {
    await this.ensureTable();
    try {
      try {
        return await fn();
      } catch (e) {
        if (codeOf(e) !== 'TableNotFound') throw e;
        this.ready = undefined;
        await this.ensureTable();
        return await fn();
      }
    } catch (e) {
      if (codeOf(e) === 'TableNotFound') this.ready = undefined;
      const handled = onError?.(e);
      if (handled instanceof Error) throw handled;
      if (handled !== undefined) return handled.value;
      throw fromAzureError(`Table storage ${what}`, e);
    }
  }

  private stateEntity(app: string, state: AppState): Entity {
    return {
      partitionKey: APP_PARTITION,
      rowKey: safeKey(app),
      app,
      schemaVersion: state.schemaVersion,
      // Readable columns for people browsing the table; the JSON is the source of truth.
      activeGroup: state.active?.group ?? '',
      rolloutId: state.rollout?.id ?? '',
      rolloutState: state.rollout?.state ?? '',
      step: state.rollout?.step ?? '',
      updatedAt: state.updatedAt,
      ...encode(`state of ${app}`, state, shrinkState),
    };
  }

  private parseState(e: TableEntityResult<Record<string, unknown>>): StoredAppState {
    const state = JSON.parse(unchunk(e)) as AppState;
    return { app: typeof e['app'] === 'string' ? e['app'] : state.app, state, etag: e.etag };
  }

  async get(app: string): Promise<{ state: AppState; etag: string } | undefined> {
    return this.call<{ state: AppState; etag: string } | undefined>(
      `get ${app}`,
      async () => {
        const e = await this.table.getEntity<Record<string, unknown>>(APP_PARTITION, safeKey(app), {
          abortSignal: this.signal(),
        });
        const { state, etag } = this.parseState(e);
        return { state, etag };
      },
      (e) => (missingRow(e) ? { value: undefined } : undefined),
    );
  }

  async create(app: string, state: AppState): Promise<string> {
    return this.call(
      `create ${app}`,
      async () => {
        const res = await this.table.createEntity(this.stateEntity(app, state), {
          abortSignal: this.signal(),
        });
        return res.etag ?? '';
      },
      (e) =>
        statusOf(e) === 409
          ? new ConflictError(`rollout state of ${app} already exists`, {
              statusCode: 409,
              code: 'EntityAlreadyExists',
            })
          : undefined,
    );
  }

  async replace(app: string, state: AppState, etag: string): Promise<string> {
    return this.call(
      `replace ${app}`,
      async () => {
        const res = await this.table.updateEntity(this.stateEntity(app, state), 'Replace', {
          etag,
          abortSignal: this.signal(),
        });
        return res.etag ?? '';
      },
      (e) => {
        const status = statusOf(e);
        // 412: someone else wrote since we read; 404: the row was removed since we read. Either way: re-read.
        if (status === 412 || missingRow(e))
          return new ConflictError(`rollout state of ${app} changed since it was read (${status})`, {
            statusCode: status,
            code: status === 412 ? 'UpdateConditionNotSatisfied' : 'ResourceNotFound',
          });
        return undefined;
      },
    );
  }

  async list(): Promise<StoredAppState[]> {
    return this.call('list', async () => {
      const out: StoredAppState[] = [];
      const entities = this.table.listEntities<Record<string, unknown>>({
        queryOptions: { filter: odata`PartitionKey eq ${APP_PARTITION}` },
        abortSignal: this.signal(),
      });
      for await (const e of entities) out.push(this.parseState(e));
      return out;
    });
  }

  async appendHistory(app: string, entry: HistoryEntry): Promise<void> {
    await this.call(`append history ${app}/${entry.rolloutId}`, async () => {
      await this.table.upsertEntity(
        {
          partitionKey: historyPartition(app),
          rowKey: historyRowKey(entry),
          app,
          rolloutId: entry.rolloutId,
          outcome: entry.outcome,
          finishedAt: entry.finishedAt,
          ...encode(`history ${app}/${entry.rolloutId}`, entry, shrinkHistory),
        },
        'Replace',
        { abortSignal: this.signal() },
      );
    });
  }

  async listHistory(app: string, limit: number): Promise<HistoryEntry[]> {
    if (limit <= 0) return [];
    return this.call(`list history ${app}`, async () => {
      const out: HistoryEntry[] = [];
      const pages = this.table
        .listEntities<Record<string, unknown>>({
          queryOptions: { filter: odata`PartitionKey eq ${historyPartition(app)}` },
          abortSignal: this.signal(),
        })
        .byPage({ maxPageSize: Math.min(limit, 1000) });
      for await (const page of pages) {
        for (const e of page) {
          out.push(JSON.parse(unchunk(e)) as HistoryEntry);
          if (out.length >= limit) return out;
        }
      }
      return out;
    });
  }

  async recordReconcile(result: ReconcileResult): Promise<void> {
    await this.call('record reconcile', async () => {
      await this.table.upsertEntity(
        {
          partitionKey: RECONCILE_PARTITION,
          rowKey: RECONCILE_ROW,
          at: result.at,
          ...encode('reconcile result', result, shrinkReconcile),
        },
        'Replace',
        { abortSignal: this.signal() },
      );
    });
  }

  async getLastReconcile(): Promise<ReconcileResult | undefined> {
    return this.call<ReconcileResult | undefined>(
      'get last reconcile',
      async () => {
        const e = await this.table.getEntity<Record<string, unknown>>(RECONCILE_PARTITION, RECONCILE_ROW, {
          abortSignal: this.signal(),
        });
        return JSON.parse(unchunk(e)) as ReconcileResult;
      },
      (e) => (missingRow(e) ? { value: undefined } : undefined),
    );
  }
}
