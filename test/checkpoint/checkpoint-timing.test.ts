import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Checkpointer } from '../../src/checkpoint/checkpointer.js';
import { emptySessionsState } from '../../src/projections/sessions-projection.js';
import { sampleEvents } from '../helpers/events.js';

/*
 * When a checkpoint is considered: once appends pause for idleMs, or 8 × idleMs after the first
 * event it would cover, whichever comes first. The clock is faked; the write itself is not
 * what is tested here (it is stubbed), only when it is asked for.
 */

const IDLE_MS = 100;

describe('when the checkpointer considers a checkpoint', () => {
  let writes: number[];
  let checkpointer: Checkpointer;

  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
    writes = [];
    checkpointer = new Checkpointer(join('/nonexistent', 'sessions.json'), () => ({ state: emptySessionsState(), cursor: { seq: 0, position: {} } }), { every: 1_000_000, idleMs: IDLE_MS, costRatio: 1000 }, 1000);
    vi.spyOn(checkpointer, 'write').mockImplementation(async () => void writes.push(Date.now()));
  });
  afterEach(() => vi.useRealTimers());

  /** Events every `gapMs`, from now until `untilMs`. */
  async function appendEvery(gapMs: number, untilMs: number): Promise<void> {
    const [event] = sampleEvents(1);
    while (Date.now() <= untilMs) {
      checkpointer.noteEvents([event!], true);
      await vi.advanceTimersByTimeAsync(gapMs);
    }
  }

  it('once appends pause for idleMs', async () => {
    await appendEvery(40, 300);
    expect(writes).toEqual([]);
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    // The last event came at 280: a pause of 100 ms from there.
    expect(writes).toEqual([380]);
  });

  it('during a burst, not every idleMs but 8 × idleMs after its first event', async () => {
    await appendEvery(40, 2000);
    expect(writes[0]).toBe(8 * IDLE_MS);
    expect(writes.length).toBeLessThanOrEqual(3);
  });
});
