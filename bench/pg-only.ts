/*
 * npm run bench:pg: only the PostgreSQL rows (bench/postgres.bench.ts), on a store of 1 000
 * sessions, for working on the PostgreSQL store without the whole bench; prints the rows.
 * BENCH_RUNS and BENCH_PG as for npm run bench.
 */
import { show } from './measure.js';
import { postgresBenches } from './postgres.bench.js';
import { seededStore } from './seeded-store.js';

const runs = Number(process.env['BENCH_RUNS'] ?? 5);
const store = await seededStore(1000, 0.25);
try {
  const rows = await postgresBenches(runs, process.env['BENCH_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test', store, 0.25);
  for (const r of rows) process.stdout.write(`| ${r.name} | ${show(r.ours)} ${r.unit} | ${r.baselineName}: ${show(r.baseline)} ${r.unit} | ${r.ratio.toFixed(2)} | ${r.target ?? ''}${r.note ? ` — ${r.note}` : ''} |\n`);
} finally {
  await store.done();
}
