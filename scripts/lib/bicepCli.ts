/**
 * The Bicep CLI as the project uses it: where to find it, how to say it is missing, and the two checks every
 * template must pass — `bicep build` (the compiler type-checks every resource against Azure's published types) and
 * `bicep lint` (infra/bicepconfig.json) — with their diagnostics parsed. Used by `npm run check:infra` and the infra
 * tests, so both apply the same rule: no error, no warning.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BICEP_MISSING_HELP = [
  'The infrastructure check needs the Bicep CLI, which was not found.',
  'Install it with one of:',
  '  bash .ci/install-bicep.sh      (pinned version from NuGet into .tools/bicep/, needs the .NET SDK)',
  '  az bicep install               (Azure CLI; installs ~/.azure/bin/bicep)',
  '  NuGet package Azure.Bicep.CommandLine.linux-x64 (tools/bicep), then set BICEP_CLI=/path/to/bicep',
].join('\n');

/** Where the CLI is looked for, in order: $BICEP_CLI, the repo-local install, PATH, the Azure CLI's copy. */
export function locateBicep(repoRoot: string): string | undefined {
  const candidates = [
    process.env.BICEP_CLI,
    path.join(repoRoot, '.tools', 'bicep', 'bicep'),
    ...(process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'bicep')),
    path.join(os.homedir(), '.azure', 'bin', 'bicep'),
  ];
  return candidates.find((candidate): candidate is string => !!candidate && isExecutable(candidate));
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export interface BicepRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runBicep(bicep: string, args: string[], cwd: string): BicepRun {
  const result = spawnSync(bicep, args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function bicepVersion(bicep: string): string {
  const { stdout } = runBicep(bicep, ['--version'], process.cwd());
  return stdout.trim();
}

export interface BicepDiagnostic {
  /** Path relative to the checked directory, forward slashes. */
  file: string;
  line: number;
  column: number;
  level: 'Error' | 'Warning' | 'Info';
  code: string;
  message: string;
}

const DIAGNOSTIC_LINE = /^(.+?)\((\d+),(\d+)\) : (Error|Warning|Info) ([\w-]+): (.*)$/;

/** Bicep's default diagnostics format: `path(line,col) : Level CODE: message`, one per line on stderr. */
export function parseDiagnostics(output: string, baseDir: string): BicepDiagnostic[] {
  return output.split(/\r?\n/).flatMap((line) => {
    const match = DIAGNOSTIC_LINE.exec(line.trim());
    if (!match) return [];
    const [, file, row, column, level, code, message] = match;
    return [
      {
        file: path.relative(baseDir, path.resolve(baseDir, file!)).split(path.sep).join('/'),
        line: Number(row),
        column: Number(column),
        level: level as BicepDiagnostic['level'],
        code: code!,
        message: message!,
      },
    ];
  });
}

export function listBicepFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.bicep'))
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}

export interface BicepCheckResult {
  files: string[];
  build: BicepDiagnostic[];
  lint: BicepDiagnostic[];
  /** Output lines that are neither diagnostics nor empty (e.g. "Failed to ..."), kept so nothing is hidden. */
  otherOutput: string[];
  /** Compiled ARM JSON per file (relative path of the .bicep file -> template). */
  templates: Map<string, unknown>;
}

/**
 * `bicep build` and `bicep lint` over every .bicep file under `dir`, one process each (`--pattern`), compiled
 * templates written to a temporary directory and read back.
 */
export function checkBicepFiles(bicep: string, dir: string): BicepCheckResult {
  const files = listBicepFiles(dir);
  if (files.length === 0) throw new Error(`no .bicep files under ${dir}`);
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bicep-build-'));
  try {
    const build = runBicep(bicep, ['build', '--pattern', '**/*.bicep', '--outdir', outDir], dir);
    const lint = runBicep(bicep, ['lint', '--pattern', '**/*.bicep'], dir);
    const buildDiagnostics = parseDiagnostics(build.stderr + build.stdout, dir);
    const lintDiagnostics = parseDiagnostics(lint.stderr + lint.stdout, dir);
    const otherOutput = [build, lint]
      .flatMap((run) => (run.stderr + run.stdout).split(/\r?\n/))
      .map((line) => line.trim())
      .filter((line) => line !== '' && !DIAGNOSTIC_LINE.test(line));
    const templates = new Map<string, unknown>();
    for (const file of files) {
      // --outdir mirrors the pattern's folders below the common root.
      const compiled = path.join(outDir, file.replace(/\.bicep$/, '.json'));
      if (fs.existsSync(compiled)) templates.set(file, JSON.parse(fs.readFileSync(compiled, 'utf8')));
    }
    if (build.status !== 0 && buildDiagnostics.every((d) => d.level !== 'Error'))
      otherOutput.push(`bicep build exited with ${build.status}`);
    return { files, build: buildDiagnostics, lint: lintDiagnostics, otherOutput, templates };
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}

/** Errors and warnings fail the check (infos are reported only). */
export function failingDiagnostics(result: BicepCheckResult): BicepDiagnostic[] {
  return [...result.build, ...result.lint].filter((d) => d.level !== 'Info');
}

export function formatDiagnostic(d: BicepDiagnostic): string {
  return `${d.file}(${d.line},${d.column}) : ${d.level} ${d.code}: ${d.message}`;
}
