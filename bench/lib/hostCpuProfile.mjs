/**
 * Preloaded into the functions host by the rollout part's `--host-cpu-prof <dir>` (NODE_OPTIONS=--import): samples
 * the host's CPU with V8's profiler from its start and writes `host-<pid>.cpuprofile` into BENCH_CPU_PROF_DIR when
 * it exits (Chrome DevTools and VS Code open it). Node 20 refuses `--cpu-prof` in NODE_OPTIONS, hence this file.
 */
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';
import process from 'node:process';

const dir = process.env['BENCH_CPU_PROF_DIR'];
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  // A session in the process's own thread answers synchronously, so the profile is written before the exit.
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `host-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
