/**
 * A process's /proc/<pid>/stat line, split into fields (man 5 proc). Linux only: undefined elsewhere, or when the
 * process has gone.
 */
import fs from 'node:fs';

/**
 * The fields from the third (state) on: `fields[0]` is field 3, so field n is `fields[n - 3]`. The command name
 * (field 2) may hold spaces and parentheses, so the fields are counted from after its last ')'.
 */
export function procStatFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
