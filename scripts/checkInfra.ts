/**
 * `npm run check:infra`: the real Bicep compiler and linter over infra/main.bicep and every module. Prints the CLI
 * version, one line per file (build, lint) and the totals; exits 1 on any error or warning, or when the CLI is
 * missing (with how to install it). Suppressions belong inline in the template, with their reason:
 * `#disable-next-line <rule> // <why>`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BICEP_MISSING_HELP,
  bicepVersion,
  checkBicepFiles,
  failingDiagnostics,
  formatDiagnostic,
  locateBicep,
} from './lib/bicepCli.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const infraDir = path.join(repoRoot, 'infra');

const bicep = locateBicep(repoRoot);
if (!bicep) {
  console.error(BICEP_MISSING_HELP);
  process.exit(1);
}

console.log(`check:infra: ${bicepVersion(bicep)} (${path.relative(repoRoot, bicep) || bicep})`);
const result = checkBicepFiles(bicep, infraDir);
const failing = failingDiagnostics(result);
const unique = (list: string[]) => [...new Set(list)];

for (const file of result.files) {
  const count = (phase: 'build' | 'lint', level: 'Error' | 'Warning') =>
    unique(result[phase].filter((d) => d.file === file && d.level === level).map(formatDiagnostic)).length;
  const compiled = result.templates.has(file) ? 'build ok' : 'build FAILED';
  console.log(
    `  infra/${file.padEnd(34)} ${compiled} (${count('build', 'Error')} errors, ${count('build', 'Warning')} warnings)` +
      `, lint (${count('lint', 'Error')} errors, ${count('lint', 'Warning')} warnings)`,
  );
}
for (const line of unique(failing.map(formatDiagnostic))) console.log(`    infra/${line}`);
for (const line of result.otherOutput) console.log(`    ${line}`);

const errors = unique(failing.filter((d) => d.level === 'Error').map(formatDiagnostic)).length;
const warnings = unique(failing.filter((d) => d.level === 'Warning').map(formatDiagnostic)).length;
const missing = result.files.filter((f) => !result.templates.has(f));
console.log(
  `check:infra: ${result.files.length} files, bicep build + bicep lint: ${errors} errors, ${warnings} warnings` +
    (missing.length > 0 ? `, ${missing.length} not compiled` : ''),
);
process.exit(errors + warnings + missing.length + result.otherOutput.length === 0 ? 0 : 1);
