import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['./test/global-setup.mts'],
    testTimeout: 15_000,
    hookTimeout: 15_000,
    // Each file starts its own servers on 127.0.0.1 with port 0, so files can run in parallel.
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.mts'],
  },
});
