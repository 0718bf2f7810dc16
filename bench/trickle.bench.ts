import { bareTrickle } from './bare-loops.js';
import { summarize, type Row } from './measure.js';
import { oursSingle, oursTrickle } from './ours-loops.js';
import type { SeededStore } from './seeded-store.js';

/**
 * A trickle with the defaults: one append of the pipeline mix every `intervalMs` (agents take
 * their time), on a large store. Bytes the process wrote (/proc/self/io) per byte the log grew,
 * close included, beside the bare O_DSYNC loop at the same pace, whose own figure is what the
 * kernel writes for a small synchronous append (a whole page, and some).
 */
export async function trickleBenches(store: SeededStore, share: number, steps: number, intervalMs: number): Promise<Row> {
  const ours = await oursTrickle(store.dir, steps, intervalMs);
  const bare = await bareTrickle(ours.bytesPerAppend, Math.min(steps, 30), intervalMs);
  return {
    name: `write amplification, trickle of 1 append / ${intervalMs} ms (pipeline mix, ${store.sessions.toLocaleString('en-US')} sessions, ${Math.round(share * 100)}% Active)`,
    unit: 'B/B',
    ours: summarize([ours.amplification]),
    baseline: summarize([bare]),
    baselineName: 'bare O_DSYNC append at the same pace',
    ratio: ours.amplification,
    lowerIsBetter: true,
    target: '≤ 10',
    note: `${steps} appends; checkpoints in place: ${ours.manager.checkpointCounters.incremental}, whole: ${ours.manager.checkpointCounters.full}`,
  };
}

/**
 * A whole checkpoint interval, defaults: one caller appending as many times as the default tail (10 000), back
 * to back, close included. The pace does not change what a checkpoint writes (it is decided by
 * bytes, not time), so this is what a trickle costs once its interval is full; beside it the bare
 * O_DSYNC loop's bytes per byte at the same append size.
 */
export async function intervalBench(store: SeededStore, share: number): Promise<Row> {
  const ours = await oursSingle(store.dir, 10_000);
  const bare = await bareTrickle(ours.bytesPerAppend, 200, 0);
  return {
    name: `write amplification, one checkpoint interval: 10,000 appends by one caller (pipeline mix, ${store.sessions.toLocaleString('en-US')} sessions, ${Math.round(share * 100)}% Active)`,
    unit: 'B/B',
    ours: summarize([ours.amplification]),
    baseline: summarize([bare]),
    baselineName: 'bare O_DSYNC append, same size',
    ratio: ours.amplification,
    lowerIsBetter: true,
    target: '≤ 10',
    note: `checkpoints in place: ${ours.manager.checkpointCounters.incremental}, whole: ${ours.manager.checkpointCounters.full}`,
  };
}
