/**
 * `.local/stack.json` (docs/design.md, "Local stack"): each process of the local stack (the emulator, the host,
 * `npm start`) merges its part through this one module.
 * Writes go through a temp file and a rename, so a reader never sees half a file; `pids` is merged key by key.
 */
import fs from 'node:fs';
import path from 'node:path';

export function readStackFile(file: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function mergeStackFile(file: string, part: Record<string, unknown>): Record<string, unknown> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const current = readStackFile(file) ?? {};
  const pids = {
    ...(current['pids'] as Record<string, unknown> | undefined),
    ...(part['pids'] as Record<string, unknown> | undefined),
  };
  const merged = { ...current, ...part, pids };
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(merged, null, 2));
  fs.renameSync(tmp, file);
  return merged;
}
