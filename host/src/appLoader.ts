/**
 * Finds and loads the app's entry point as the worker does: `main` of the app's package.json (a file, or a glob
 * such as `dist/src/functions/*.js`), imported as a module so its top-level `app.*` calls register functions.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export class AppLoadError extends Error {
  override name = 'AppLoadError';
}

function globToRegex(segment: string): RegExp {
  const source = segment
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${source}$`);
}

/** Expands `*` and `?` within path segments (and `**` for any depth), relative to `root`. */
export function expandEntryGlob(root: string, pattern: string): string[] {
  const segments = pattern.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  let current = [root];
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    const next: string[] = [];
    for (const dir of current) {
      if (segment === '**') {
        const walk = (d: string) => {
          next.push(d);
          for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
            if (entry.isDirectory() && entry.name !== 'node_modules') walk(path.join(d, entry.name));
          }
        };
        if (fs.existsSync(dir) && fs.statSync(dir).isDirectory()) walk(dir);
        continue;
      }
      if (!/[*?]/.test(segment)) {
        next.push(path.join(dir, segment));
        continue;
      }
      if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) continue;
      const re = globToRegex(segment);
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (re.test(entry.name) && (last ? entry.isFile() : entry.isDirectory()))
          next.push(path.join(dir, entry.name));
      }
    }
    current = next;
  });
  return current.filter((f) => fs.existsSync(f) && fs.statSync(f).isFile()).sort();
}

export function entryPoints(appDir: string): { main: string; files: string[] } {
  const packageFile = path.join(appDir, 'package.json');
  let pkg: { main?: unknown };
  try {
    pkg = JSON.parse(fs.readFileSync(packageFile, 'utf8')) as { main?: unknown };
  } catch (err) {
    throw new AppLoadError(`Cannot read ${packageFile}: ${(err as Error).message}`);
  }
  if (typeof pkg.main !== 'string' || pkg.main === '') {
    throw new AppLoadError(`${packageFile} has no "main": the v4 programming model loads functions from it.`);
  }
  const files = /[*?]/.test(pkg.main)
    ? expandEntryGlob(appDir, pkg.main)
    : [path.join(appDir, pkg.main)].filter((f) => fs.existsSync(f));
  if (files.length === 0) {
    throw new AppLoadError(
      `The entry point "${pkg.main}" of ${packageFile} does not exist${/\.js$/.test(pkg.main) ? ' (did you run `npm run build`?)' : ''}.`,
    );
  }
  return { main: pkg.main, files };
}

export async function loadApp(appDir: string): Promise<string[]> {
  const { main, files } = entryPoints(appDir);
  for (const file of files) {
    try {
      await import(pathToFileURL(file).href);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      error.message = `Worker was unable to load entry point "${main}" (${path.relative(appDir, file)}): ${error.message}`;
      throw error;
    }
  }
  return files;
}
