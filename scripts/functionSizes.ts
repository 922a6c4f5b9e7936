/**
 * How long are our functions and files? Lists every function (declarations, methods, arrow functions and function
 * expressions) longer than a limit, and every file longer than a limit, measured in source lines from the first
 * to the last line of the node (comments and blank lines inside included), with the TypeScript compiler's parser.
 *
 *   npx tsx scripts/functionSizes.ts                        # src/ (80 lines, domain files 350), emulator/ (120)
 *   npx tsx scripts/functionSizes.ts --dir src --max 60     # one folder, another limit
 *
 * A nested function counts inside its parent too: a 1,000-line function holding 50 small ones is still listed.
 * Exit code 0 always: it informs a review (issue 12), it does not gate CI.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

interface Finding {
  file: string;
  name: string;
  line: number;
  lines: number;
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(full));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !e.name.endsWith('.test.ts'))
      out.push(full);
  }
  return out;
}

function nameOf(node: ts.Node, source: ts.SourceFile): string {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name)
    return node.name.getText(source);
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(source);
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(source);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  return '(anonymous)';
}

export function longFunctions(file: string, max: number): Finding[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: Finding[] = [];
  const visit = (node: ts.Node) => {
    if (
      ts.isFunctionDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isConstructorDeclaration(node) ||
      ts.isArrowFunction(node) ||
      ts.isFunctionExpression(node)
    ) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > max) found.push({ file, name: nameOf(node, source), line: start + 1, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function report(dir: string, maxFunction: number, maxFile?: number): void {
  const files = tsFiles(dir);
  const functions = files.flatMap((f) => longFunctions(f, maxFunction)).sort((a, b) => b.lines - a.lines);
  console.log(`${dir}: ${files.length} files; functions over ${maxFunction} lines: ${functions.length}`);
  for (const f of functions)
    console.log(`  ${f.lines.toString().padStart(5)}  ${f.file}:${f.line} ${f.name}`);
  if (maxFile !== undefined) {
    const big = files
      .map((f) => ({ f, n: fs.readFileSync(f, 'utf8').split('\n').length }))
      .filter((x) => x.n > maxFile)
      .sort((a, b) => b.n - a.n);
    console.log(`${dir}: files over ${maxFile} lines: ${big.length}`);
    for (const { f, n } of big) console.log(`  ${n.toString().padStart(5)}  ${f}`);
  }
}

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
if (arg('--dir'))
  report(
    arg('--dir')!,
    Number(arg('--max') ?? 80),
    arg('--max-file') ? Number(arg('--max-file')) : undefined,
  );
else {
  report('src', 80);
  report('src/domain', 80, 350);
  report('emulator/src', 120);
}
