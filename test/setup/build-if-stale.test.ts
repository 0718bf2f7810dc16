import { describe, expect, it } from 'vitest';
import { staleSources } from './build-if-stale.js';

describe('the tests run the code as it is', () => {
  it('dist/ is at least as new as every source the child processes are built from (the global setup builds when it is not)', () => {
    expect(staleSources()).toEqual([]);
  });
});
