import { defineConfig } from 'vitest/config';

/*
 * The machines' own tests, for their static mutants (stryker.static.json): a machine's
 * definition runs once, as its module loads, so each of its mutants must run every test that
 * loads it; these are the ones that judge the machines (every path, the rules the projection
 * shares), and they take seconds, where the whole set takes a minute a mutant.
 */
export default defineConfig({
  test: {
    include: ['test/machines/**/*.test.ts', 'test/pipeline/governed-machine.test.ts', 'test/pipeline/pipeline-progress.test.ts'],
    testTimeout: 60_000,
    maxWorkers: 2,
  },
});
