import { defineConfig } from 'vitest/config';
import { resolve } from 'node:path';

export default defineConfig({
  resolve: { alias: { '@shared': resolve('src-shared') } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/unit/setup.ts'],
          environment: 'node',
          testTimeout: 60_000,
          // setup work (a CLI run, a tiny model written and trained) can take over the 10 s default on a busy machine
          hookTimeout: 120_000,
          pool: 'forks',
          // Files share a worker process instead of each starting fresh: tfjs, zod and the schemas load once per
          // worker, not once per file, which takes about a third off the tier on a 2-core machine. setup.ts
          // runs before every file and puts tfjs back on its defaults; tests restore what they spy on.
          isolate: false,
        },
      },
      {
        // The CLI as a real process (tsx and the built binary), the runner with real worker processes.
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
});
