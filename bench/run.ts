/**
 * `npm run bench`: the benchmark parts (bench/parts/), each a measurement of its own, run one after another.
 * Every part's figures go into bench/results/latest.json under its name, with the machine, the commit and the
 * command that produced them; parts not run keep their last figures. Not a test: a part fails only when it sees a
 * wrong outcome (a lost push, a doubled rollout), never because something was slow.
 *
 *   npm run bench                          # the reconcile tick (the default part)
 *   npm run bench -- --part tick,storm     # named parts, in that order
 *   npm run bench -- --part all            # every part
 *   npm run bench -- --help                # the parts and their flags
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import { ensureCa } from '../emulator/src/core/ca.js';
import { installLocalhostResolver } from '../emulator/src/localhostDns.js';
import { stopAllServices } from '../scripts/lib/services.js';
import type { BenchContext, BenchPart } from './lib/benchPart.js';
import { DEFAULT_PART, PARTS } from './parts/index.js';

const ROOT = path.resolve('.');
const REEXEC_MARKER = 'BENCH_REEXEC';

const partOptions = Object.fromEntries(
  PARTS.flatMap((p) => Object.entries(p.options)).map(([name, o]) => [
    name,
    { type: 'string' as const, default: o.default },
  ]),
);
const { values } = parseArgs({
  options: {
    ...partOptions,
    part: { type: 'string', default: DEFAULT_PART },
    out: { type: 'string', default: 'bench/results/latest.json' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(help());
  process.exit(0);
}

// Node reads NODE_EXTRA_CA_CERTS only at start: run again with the emulator's CA trusted, as a shell would.
const ca = ensureCa(path.join(ROOT, '.local/ca'));
if (process.env['NODE_EXTRA_CA_CERTS'] !== ca.certPath && !process.env[REEXEC_MARKER]) {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: ca.certPath, [REEXEC_MARKER]: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  process.exitCode = await main();
}

function selectedParts(): BenchPart[] {
  const names =
    values.part === 'all' ? PARTS.map((p) => p.name) : values.part.split(',').map((s) => s.trim());
  return names.map((name) => {
    const part = PARTS.find((p) => p.name === name);
    if (!part) throw new Error(`unknown part "${name}": one of ${PARTS.map((p) => p.name).join(', ')}, all`);
    return part;
  });
}

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT })
      .toString()
      .trim();
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  const parts = selectedParts();
  installLocalhostResolver();
  const args = Object.fromEntries(
    Object.keys(partOptions).map((name) => [name, String(values[name as keyof typeof values])]),
  );
  const out = path.resolve(values.out);
  const previous = fs.existsSync(out)
    ? (JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>)
    : {};
  const results: Record<string, unknown> =
    typeof previous['parts'] === 'object' && previous['parts'] ? { ...(previous['parts'] as object) } : {};
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const machine = {
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  };
  let ok = true;
  for (const part of parts) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `aci-bench-${part.name}-`));
    const context: BenchContext = {
      root: ROOT,
      tmp,
      args,
      caCertPath: ca.certPath,
      log: (text) => process.stdout.write(text),
    };
    const started = Date.now();
    console.log(`\n== ${part.name}: ${part.summary}`);
    try {
      const outcome = await part.run(context);
      ok &&= outcome.ok;
      results[part.name] = {
        generatedAt: new Date().toISOString(),
        command,
        commit: commit(),
        machine,
        durationSeconds: Math.round((Date.now() - started) / 1000),
        ok: outcome.ok,
        ...outcome.figures,
      };
      // Written after each part: a later part that fails loses nothing already measured.
      await writeResults(out, results);
      console.log(`\n${outcome.table}`);
      if (!outcome.ok) console.error(`\n${part.name}: the outcome is wrong (see above)`);
    } finally {
      await stopAllServices();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  return ok ? 0 : 1;
}

async function writeResults(out: string, results: Record<string, unknown>): Promise<void> {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  // Formatted as the repository's Prettier config wants it, so `npm run lint` stays green after a run.
  const options = (await prettier.resolveConfig(out)) ?? {};
  const json = JSON.stringify({ updatedAt: new Date().toISOString(), parts: results });
  fs.writeFileSync(out, await prettier.format(json, { ...options, parser: 'json' }));
  console.log(`\nwritten to ${path.relative(ROOT, out)}`);
}

function help(): string {
  const lines = [
    'npm run bench -- [--part <name>[,<name>…] | all] [--out file] [flags]',
    `(no --part: ${DEFAULT_PART})`,
    '',
    'parts:',
    ...PARTS.map((p) => `  ${p.name.padEnd(10)} ${p.summary}`),
    '',
    'flags:',
  ];
  for (const p of PARTS)
    for (const [name, o] of Object.entries(p.options))
      lines.push(`  --${name.padEnd(16)} ${o.help} (${p.name}; default ${o.default})`);
  return lines.join('\n');
}
