/**
 * What a benchmark part is (`npm run bench -- --part <name>`): a named measurement with its own flags, run by
 * bench/run.ts, returning the figures it writes to bench/results/latest.json and the table it prints. A part that
 * also checks an outcome (a lost push, a doubled rollout) says so with `ok: false`; a slow figure is never a
 * failure (timing is reported, not asserted).
 */
export interface BenchContext {
  /** The repository root (the working directory). */
  root: string;
  /** A throw-away directory for this run (state of the child processes). */
  tmp: string;
  /** Every flag of every part, as given or defaulted (strings, as `node:util` parseArgs returns them). */
  args: Record<string, string>;
  /** The emulator's CA certificate, trusted by this process (NODE_EXTRA_CA_CERTS) and passed to children. */
  caCertPath: string;
  /** Progress on stdout, for a person watching. */
  log(text: string): void;
}

export interface PartOutcome {
  /** JSON figures: what `bench/results/latest.json` keeps for this part. */
  figures: Record<string, unknown>;
  /** A plain-text table for the terminal (docs/benchmarks.md shows the same figures). */
  table: string;
  /** False when the part saw a wrong outcome (not a slow one); `npm run bench` then exits 1. */
  ok: boolean;
}

export interface BenchPart {
  name: string;
  /** One line for `--help`. */
  summary: string;
  /** The part's flags (`--name value`), with their defaults and one line of help each. */
  options: Record<string, { default: string; help: string }>;
  run(context: BenchContext): Promise<PartOutcome>;
}
