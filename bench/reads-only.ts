/*
 * npm run bench:reads: only the read rows (bench/read.bench.ts) and the CLI write rows, on the
 * largest store and a smaller one (BENCH_SIZES, default 25000,250000: the streaming commands'
 * memory targets compare 250,000 sessions with 25,000), for working on reads
 * without the whole bench, and the read rows on PostgreSQL (BENCH_ONLY=postgres: those alone;
 * BENCH_ONLY=streams: only list --all, audit and export);
 * prints the rows. BENCH_RUNS, BENCH_ACTIVE and BENCH_PG as for npm run bench.
 */
import { show } from './measure.js';
import { postgresReadBenches, readBenches, streamBenches } from './read.bench.js';
import { seededStore } from './seeded-store.js';
import { cliBenches } from './size.bench.js';

const runs = Number(process.env['BENCH_RUNS'] ?? 5);
const share = Number(process.env['BENCH_ACTIVE'] ?? 0.25);
const [smallSize, largeSize] = (process.env['BENCH_SIZES'] ?? '25000,250000').split(',').map(Number);
const small = await seededStore(smallSize!, share);
const large = await seededStore(largeSize!, share);
try {
  const only = process.env['BENCH_ONLY'];
  const rows = only === 'streams' ? await streamBenches(large, small) : only === 'postgres' ? [] : [...(await cliBenches(runs, large)), ...(await readBenches(runs, large, small))];
  if (only !== 'streams') rows.push(...(await postgresReadBenches(runs, large, process.env['BENCH_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test')));
  const digits = (unit: string) => (unit === 'ms' ? 2 : 0);
  for (const r of rows) process.stdout.write(`| ${r.name} | ${show(r.ours, digits(r.unit))} ${r.unit} | ${r.baselineName}: ${show(r.baseline, digits(r.unit))} ${r.unit} | ${r.ratio.toFixed(2)} | ${r.target ?? ''} |\n`);
} finally {
  await small.done();
  await large.done();
}
