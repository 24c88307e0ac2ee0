import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'grader/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    // Every file gets its own vhost, so files may run in parallel on the one broker.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});
