/**
 * Persistent emulator state, like Azurite's: each service keeps a JSON-serialisable slice; the whole document is
 * written (atomically, debounced) to `{stateDir}/state.json` so groups, secrets and registry content survive a
 * restart. `reset()` forgets everything.
 */
import fs from 'node:fs';
import path from 'node:path';

export class StateStore {
  private doc: Record<string, unknown> = {};
  private timer: NodeJS.Timeout | undefined;
  private readonly file: string;

  constructor(
    private readonly stateDir: string,
    /** Debounce of the file write: changes within it are written together. */
    private readonly flushDelayMs = 50,
  ) {
    this.file = path.join(stateDir, 'state.json');
    fs.mkdirSync(stateDir, { recursive: true });
    if (fs.existsSync(this.file)) {
      try {
        this.doc = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, unknown>;
      } catch {
        // A torn file from a crash: start clean rather than refuse to start.
        this.doc = {};
      }
    }
  }

  /** The named slice, created with `init()` on first use. Mutate it in place, then call `changed()`. */
  slice<T extends object>(name: string, init: () => T): T {
    if (!(name in this.doc)) this.doc[name] = init();
    return this.doc[name] as T;
  }

  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.flushDelayMs);
    this.timer.unref();
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.doc));
    fs.renameSync(tmp, this.file);
  }

  reset(): void {
    this.doc = {};
    this.flush();
  }
}
