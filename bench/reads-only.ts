/*
 * npm run bench:reads: only the read rows (bench/read.bench.ts) and the CLI write rows, on the
 * largest store and a smaller one (BENCH_SIZES, default 50000,250000), for working on reads
 * without the whole bench; prints the rows. BENCH_RUNS and BENCH_ACTIVE as for npm run bench.
 */
import { show } from './measure.js';
import { readBenches } from './read.bench.js';
import { seededStore } from './seeded-store.js';
import { cliBenches } from './size.bench.js';

const runs = Number(process.env['BENCH_RUNS'] ?? 5);
const share = Number(process.env['BENCH_ACTIVE'] ?? 0.25);
const [smallSize, largeSize] = (process.env['BENCH_SIZES'] ?? '50000,250000').split(',').map(Number);
const small = await seededStore(smallSize!, share);
const large = await seededStore(largeSize!, share);
try {
  const rows = [...(await cliBenches(runs, large)), ...(await readBenches(runs, large, small))];
  const digits = (unit: string) => (unit === 'ms' ? 2 : 0);
  for (const r of rows) process.stdout.write(`| ${r.name} | ${show(r.ours, digits(r.unit))} ${r.unit} | ${r.baselineName}: ${show(r.baseline, digits(r.unit))} ${r.unit} | ${r.ratio.toFixed(2)} | ${r.target ?? ''} |\n`);
} finally {
  await small.done();
  await large.done();
}
