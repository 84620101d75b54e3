import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    pool: 'forks',
    // Spawned `grantory` processes run dist/; it is built first when stale (test/support/build-dist.ts).
    globalSetup: ['test/support/build-dist.ts'],
    // Spawned servers run one process unless a test sets GRANTORY_WORKERS (test/support/cli.ts too).
    env: { GRANTORY_WORKERS: '1' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A test that is skipped by accident must not pass CI: .ci/run checks the report.
    reporters: ['default'],
  },
});
