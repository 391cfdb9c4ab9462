import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Two cores: at most two test files at once (integration and e2e tests start DynamoDB Local).
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
    // A run leaves no process and no temp folder behind (checked, and cleaned, after the run).
    globalSetup: ['./test/support/leak-check.ts'],
  },
});
