import { bareBatchLoop, bareDsyncLoop, bareSyncLoop } from './bare-loops.js';
import { measurePair, perSecond, summarize, type Row } from './measure.js';
import { oursConcurrent, oursSingle } from './ours-loops.js';
import type { SeededStore } from './seeded-store.js';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
const tails = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(2)}, p99 ${percentile(sorted, 99).toFixed(2)}, p99.9 ${percentile(sorted, 99.9).toFixed(2)} ms`;
};
/** How a row names the workload. */
export const mix = (store: SeededStore, share: number) => `pipeline mix, ${store.sessions.toLocaleString('en-US')} sessions, ${Math.round(share * 100)}% Active`;

/**
 * One caller, defaults: the pipeline mix through the manager, against the fastest bare loop with
 * the same durability (an awaited O_DSYNC write per append, the same bytes), in alternation.
 */
export async function singleCallerBenches(runs: number, store: SeededStore, share: number): Promise<Row[]> {
  const steps = 1500;
  let shape = { eventsPerAppend: 1, bytesPerAppend: 600 };
  let oursLatency: number[] = [];
  let bareLatency: number[] = [];
  const { ours, baseline } = await measurePair(
    runs,
    2,
    async () => {
      const run = await oursSingle(store.dir, steps);
      shape = run;
      oursLatency = run.latencies;
      return run.perSecond;
    },
    async () => {
      const bare = await bareDsyncLoop(shape.bytesPerAppend, steps);
      bareLatency = bare.latencies;
      return perSecond(steps * shape.eventsPerAppend, bare.ms);
    },
  );
  const { baseline: sync } = await measurePair(runs, 0, async () => 0, async () => perSecond(steps * shape.eventsPerAppend, await bareSyncLoop(shape.bytesPerAppend, steps)));
  return [
    {
      name: `durable append, 1 caller (${mix(store, share)})`,
      unit: 'events/s',
      ours,
      baseline,
      baselineName: 'async O_DSYNC write per append',
      ratio: ours.median / baseline.median,
      target: '≥ 0.8',
      note: `sync write + fdatasync per append: ${Math.round(sync.median).toLocaleString('en-US')} events/s; latency per append ours ${tails(oursLatency)}; bare ${tails(bareLatency)}`,
    },
  ];
}

/**
 * 100 concurrent callers on a store of `store.sessions`: defaults, the same with checkpoints off
 * (an extra, named so), and the bare batched loop (one write of 100 appends, one fdatasync),
 * all in alternation. Write amplification of the defaults, close included.
 */
export async function burstBenches(runs: number, store: SeededStore, share: number): Promise<Row[]> {
  const steps = 20_000;
  let shape = { eventsPerAppend: 1, bytesPerAppend: 600 };
  const amplifications: number[] = [];
  const offValues: number[] = [];
  const { ours, baseline } = await measurePair(
    runs,
    1,
    async () => {
      const run = await oursConcurrent(store.dir, 100, steps);
      shape = run;
      amplifications.push(run.amplification);
      offValues.push((await oursConcurrent(store.dir, 100, steps, { checkpointEvery: Number.MAX_SAFE_INTEGER, checkpointIdleMs: -1 })).perSecond);
      return run.perSecond;
    },
    async () => perSecond(steps * shape.eventsPerAppend, await bareBatchLoop(shape.bytesPerAppend, steps / 100, 100)),
  );
  // The warm-up round's figures are not counted.
  const off = summarize(offValues.slice(1));
  const amplification = summarize(amplifications.slice(1));
  const name = `100 callers (${mix(store, share)})`;
  return [
    // Ours runs the defaults; only this baseline does not, and the name says so. Its twin below
    // sets ours beside a bare loop.
    { name: `durable append, ${name}, vs the same with checkpoints off`, unit: 'events/s', ours, baseline: off, baselineName: 'same, checkpoints off (checkpointEvery: ∞, checkpointIdleMs: -1)', ratio: ours.median / off.median, target: '≥ 0.7 and ≥ 50,000/s' },
    { name: `durable append, ${name}, vs bare`, unit: 'events/s', ours, baseline, baselineName: 'write of 100 appends + one fdatasync', ratio: ours.median / baseline.median },
    { name: `write amplification, ${name}`, unit: 'B/B', ours: amplification, baseline: amplification, baselineName: 'bytes written per byte appended (close included)', ratio: amplification.median, target: '≤ 3', lowerIsBetter: true },
  ];
}
