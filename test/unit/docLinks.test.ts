/**
 * Every relative link in the repository's Markdown resolves (file and, for Markdown targets, heading anchor), and
 * every repository path a code comment cites (`docs/design.md`, `host/README.md`, `src/config/settings.ts`...)
 * exists. Docs that point nowhere are how a newcomer gets lost (issue 12).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.local', '.tools', 'test-results', 'coverage']);
const CODE_EXTENSIONS = /\.(ts|js|mjs|bicep|ya?ml|sh|json)$/;
/**
 * Paths a comment may cite: they start at one of the repository's top-level folders (or are a root file). A path
 * right after another repository's name ("Azure/acr docs/AAD-OAuth.md") is that repository's, not ours.
 */
const CITED_PATH =
  /(?<![\w./-])(?<![\w.-]+\/[\w.-]+ )((?:docs|src|emulator|host|scripts|test|bench|infra|\.ci)\/[\w.@/-]*[\w-]\.(?:md|ts|bicep|json|ya?ml|sh)|(?:README|design|configuration|deploy-to-azure|local-stack|testing|benchmarks)\.md)(?![\w/-])/g;

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIP_DIRS.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else out.push(full);
  }
  return out;
}

/** GitHub's heading anchors: lower case, punctuation dropped (except '-' and '_'), spaces to '-'. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const m = !inFence && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1]!.replace(/`/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    anchors.add(
      text
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return anchors;
}

/** Relative link targets of a Markdown text (not URLs, not pure anchors), outside code fences and spans. */
export function relativeLinks(markdown: string): string[] {
  const links: string[] = [];
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      continue;
    }
    if (inFence) continue;
    const prose = line.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      links.push(target);
    }
  }
  return links;
}

/** Problems with the links of one Markdown file: missing files and missing heading anchors. */
export function brokenLinks(
  file: string,
  markdown: string,
  read: (absolute: string) => string | undefined,
): string[] {
  const problems: string[] = [];
  for (const link of relativeLinks(markdown)) {
    const [target, anchor] = link.split('#') as [string, string | undefined];
    const absolute = target === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(target));
    const content = read(absolute);
    if (content === undefined) {
      problems.push(`${link}: no such file`);
      continue;
    }
    if (anchor && absolute.endsWith('.md') && !headingAnchors(content).has(anchor))
      problems.push(`${link}: no heading #${anchor}`);
  }
  return problems;
}

function readIfExists(absolute: string): string | undefined {
  if (!fs.existsSync(absolute)) return undefined;
  return fs.statSync(absolute).isDirectory() ? '' : fs.readFileSync(absolute, 'utf8');
}

const files = walk(ROOT);

describe('documentation links', () => {
  it('the checker finds a missing file, a missing anchor and a cited path that does not exist', () => {
    const fake = new Map([
      ['/r/docs/a.md', '# Title\n## Second part\n'],
      ['/r/README.md', ''],
    ]);
    const text =
      '[ok](a.md#second-part) [gone](b.md) [bad anchor](a.md#third) `[code](nope.md)` [web](https://x)';
    expect(brokenLinks('/r/docs/x.md', text, (p) => fake.get(p))).toEqual([
      'b.md: no such file',
      'a.md#third: no heading #third',
    ]);
    expect(
      [...'see docs/design.md and src/nope.ts, not Azure/acr docs/AAD-OAuth.md'.matchAll(CITED_PATH)].map(
        (m) => m[1],
      ),
    ).toEqual(['docs/design.md', 'src/nope.ts']);
  });

  it('every relative link in the Markdown files resolves, anchors included', () => {
    const problems = files
      .filter((f) => f.endsWith('.md'))
      .flatMap((f) =>
        brokenLinks(f, fs.readFileSync(f, 'utf8'), readIfExists).map(
          (p) => `${path.relative(ROOT, f)}: ${p}`,
        ),
      );
    expect(problems).toEqual([]);
  });

  it('every repository path a code comment or script cites exists', () => {
    const problems: string[] = [];
    // This file's own examples of broken citations are not citations.
    const cited = files.filter(
      (x) => CODE_EXTENSIONS.test(x) && !x.endsWith('package-lock.json') && x !== __filename,
    );
    for (const f of cited) {
      const text = fs.readFileSync(f, 'utf8');
      for (const m of text.matchAll(CITED_PATH)) {
        const mention = m[1]!;
        // A bare doc name is the project's own doc: README.md at the root, the others in docs/.
        const candidates = mention.includes('/')
          ? [mention]
          : mention === 'README.md'
            ? [mention, path.relative(ROOT, path.join(path.dirname(f), mention))]
            : [`docs/${mention}`];
        if (!candidates.some((c) => fs.existsSync(path.join(ROOT, c))))
          problems.push(`${path.relative(ROOT, f)} cites ${mention}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
