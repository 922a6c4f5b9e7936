/**
 * Closes a run with what CI needs in its last lines: the name (file, test and the first line of its error) of every
 * failed test, then one plain line, `Summary: N passed, N failed, N skipped`, so a red run says what broke without
 * scrolling and CI tooling that reads the closing line sees the counts whatever the runner.
 */
import path from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/** The first line of a failure, trimmed: enough to tell two failures apart at a glance. */
function firstLine(message: string | undefined): string {
  const line = (message ?? '').split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line.trim();
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let skipped = 0;
    const failures: string[] = [];
    for (const module of testModules) {
      const file = path.relative(process.cwd(), module.moduleId);
      const project = module.project.name;
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') passed++;
        else if (result.state === 'failed') {
          const error = firstLine(result.errors?.[0]?.message);
          failures.push(`${project} ${file} > ${test.fullName}${error ? `\n      ${error}` : ''}`);
        } else skipped++;
      }
      // A file that failed to load (or whose hooks failed) without a failed test is a failure of its own.
      if (
        module.state() === 'failed' &&
        ![...module.children.allTests()].some((t) => t.result().state === 'failed')
      ) {
        const error = firstLine(module.errors()[0]?.message);
        failures.push(`${project} ${file} (the file itself)${error ? `\n      ${error}` : ''}`);
      }
    }
    if (failures.length > 0)
      process.stdout.write(`\nFailed:\n${failures.map((f) => `  FAIL ${f}`).join('\n')}\n`);
    process.stdout.write(`\nSummary: ${passed} passed, ${failures.length} failed, ${skipped} skipped\n`);
  }
}
