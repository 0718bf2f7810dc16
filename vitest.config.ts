import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Child processes run the built files: build first if any source is newer than dist/.
    globalSetup: ['test/setup/build-if-stale.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Multi-process tests fork their own children; two workers match the machines' two cores.
    maxWorkers: 2,
  },
});
