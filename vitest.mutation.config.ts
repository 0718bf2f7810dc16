import { defineConfig } from 'vitest/config';

/*
 * The tests `npm run test:mutation` (StrykerJS) runs against each mutant of the core: those
 * that import the sources directly. Tests that run the built files (the CLI, child processes)
 * would see no mutant, only cost time; they stay in `npm test`.
 */
export default defineConfig({
  test: {
    include: [
      'test/machines/**/*.test.ts',
      'test/projections/**/*.test.ts',
      'test/checkpoint/**/*.test.ts',
      'test/store/file/line-codec.test.ts',
      'test/store/file/stamp-batch.test.ts',
      'test/store/file/log-scanner.test.ts',
      'test/store/file/durability.test.ts',
      'test/store/group-commit.test.ts',
      'test/store/event-store.contract.test.ts',
      'test/manager/decide.test.ts',
      'test/manager/model.property.test.ts',
      'test/manager/session-manager.test.ts',
      'test/manager/retry-session.test.ts',
      'test/manager/recovery.test.ts',
      'test/manager/pipeline-streams.test.ts',
      'test/pipeline/governed-machine.test.ts',
      'test/pipeline/decide-pipeline.test.ts',
      'test/pipeline/pipeline-progress.test.ts',
      'test/faults/log-reader.fuzz.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});
