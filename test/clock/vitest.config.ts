/** The project's test configuration, plus a check in every test worker that the clock really is ahead. */
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../../vitest.config.js';

export default mergeConfig(
  base,
  defineConfig({
    root: fileURLToPath(new URL('../..', import.meta.url)),
    test: { setupFiles: ['test/clock/assert-clock-ahead.ts'] },
  }),
);
