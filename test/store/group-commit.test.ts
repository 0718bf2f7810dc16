import { describe, expect, it } from 'vitest';
import type { AppendRequest } from '../../src/store/event-store.js';
import { GroupCommit, type PendingAppend } from '../../src/store/group-commit.js';

const request: AppendRequest = { events: [], expectedRevisions: new Map() };

/** A commit that settles its batch after one turn of the event loop, as a real one would. */
function committer(batches: number[]): (batch: PendingAppend[]) => Promise<void> {
  return async (batch) => {
    batches.push(batch.length);
    await new Promise((resolve) => setImmediate(resolve));
    for (const pending of batch) pending.resolve([]);
  };
}

async function microtasks(count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) await Promise.resolve();
}

describe('GroupCommit', () => {
  it('commits an append made at any moment after the last commit settled, however late in its turn', async () => {
    // The commit loop ends a few microtasks after its last commit settles: an append queued in
    // that window must start a new loop, not wait forever for one that has ended.
    for (let hops = 0; hops <= 30; hops += 1) {
      const group = new GroupCommit(committer([]), 100);
      await group.enqueue(request);
      await microtasks(hops);
      const second = group.enqueue(request).then(() => 'committed');
      const stalled = new Promise((resolve) => setTimeout(() => resolve(`stranded after ${hops} microtasks`), 200));
      expect(await Promise.race([second, stalled])).toBe('committed');
    }
  });

  it('commits a lone append at once, and puts those that arrive during a commit into the next one, together', async () => {
    const batches: number[] = [];
    const group = new GroupCommit(committer(batches), 100);
    const first = group.enqueue(request);
    const rest = Array.from({ length: 5 }, () => group.enqueue(request));
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([1, 5]);
    // Queued while the loop waits a turn for the callers its last batch released: they go together.
    await Promise.all(Array.from({ length: 250 }, () => group.enqueue(request)));
    expect(batches).toEqual([1, 5, 100, 100, 50]);
    await group.drained();
    // Queued once the loop has ended: the first goes alone, at once.
    await Promise.all(Array.from({ length: 3 }, () => group.enqueue(request)));
    expect(batches).toEqual([1, 5, 100, 100, 50, 1, 2]);
  });

  it('puts every caller a batch released into the next batch, however many microtasks its answer takes to reach it', async () => {
    // A manager's caller gets its answer several awaits after the commit settled, then appends
    // again. Once, the loop looked at the queue before waiting for them, found it empty and
    // ended: the first of them then committed alone, and 100 callers made batches of 100, 1, 99.
    const batches: number[] = [];
    const group = new GroupCommit(committer(batches), 1000);
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        for (let step = 0; step < 6; step += 1) {
          await group.enqueue(request);
          await microtasks(10);
        }
      }),
    );
    expect(batches).toEqual([1, 99, 100, 100, 100, 100, 100]);
  });
});
