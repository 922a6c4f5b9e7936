import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/summaryReporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          // Unit tests run first (and fast); integration tests after, with their own worker limit.
          sequence: { groupOrder: 0 },
          include: ['test/unit/**/*.test.ts', 'src/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/globalSetup.ts'],
          setupFiles: ['test/integration/setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Each integration file starts its own emulator/host on free ports; keep the 2-core machine sane.
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
    ],
  },
});
