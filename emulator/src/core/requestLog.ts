/** Every request the emulator answered, so tests and benchmarks can count calls per operation. */
export interface LoggedRequest {
  seq: number;
  at: string;
  method: string;
  path: string;
  host: string;
  operation: string;
  status: number;
  durationMs: number;
  fault?: string;
}

export class RequestLog {
  private entries: LoggedRequest[] = [];
  private seq = 0;
  constructor(private readonly limit = 20_000) {}

  record(entry: Omit<LoggedRequest, 'seq'>): void {
    this.entries.push({ seq: ++this.seq, ...entry });
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
  }

  /** Counts per operation (optionally only requests after `sinceSeq`). */
  summary(sinceSeq = 0): {
    total: number;
    lastSeq: number;
    counts: Record<string, number>;
    statuses: Record<string, number>;
  } {
    const counts: Record<string, number> = {};
    const statuses: Record<string, number> = {};
    let total = 0;
    for (const e of this.entries) {
      if (e.seq <= sinceSeq) continue;
      total++;
      counts[e.operation] = (counts[e.operation] ?? 0) + 1;
      const key = `${e.operation} ${e.status}`;
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
    return { total, lastSeq: this.seq, counts, statuses };
  }

  list(sinceSeq = 0, operation?: string): LoggedRequest[] {
    return this.entries.filter((e) => e.seq > sinceSeq && (!operation || e.operation === operation));
  }

  clear(): void {
    this.entries = [];
  }
}
