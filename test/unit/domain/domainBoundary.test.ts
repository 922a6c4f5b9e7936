import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Guards docs/design.md's "the domain has no SDK imports". The ESLint rule for src/domain is overridden by the
// later src/** block in eslint.config.js (flat config replaces a rule's options), so check it here too.
const root = new URL('../../../src/', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

const importsOf = (file: string) =>
  [...readFileSync(join(root, file), 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map(
    (m) => m[1]!,
  );

describe('architecture', () => {
  it('src/domain imports no SDK, adapters, bindings or emulator code', () => {
    const offending = files('domain').flatMap((f) =>
      importsOf(f)
        .filter(
          (i) =>
            i.startsWith('@azure/') ||
            /\/(adapters|functions|emulator|host)\//.test(i) ||
            i === '../composition.js',
        )
        .map((i) => `${f}: ${i}`),
    );
    expect(offending).toEqual([]);
    expect(files('domain').length).toBeGreaterThan(5);
  });

  it('src/config and src/events do not depend on the domain or the SDK clients', () => {
    const offending = [...files('config'), ...files('events')].flatMap((f) =>
      importsOf(f)
        .filter((i) => i.includes('/domain/') || /^@azure\/(arm-|keyvault|data-tables|identity)/.test(i))
        .map((i) => `${f}: ${i}`),
    );
    expect(offending).toEqual([]);
  });
});
