/*
 * npm run bench:pg-table: only what keeping the PostgreSQL sessions table costs (100 callers,
 * the table kept vs off), on a store of 1 000 sessions; prints the row. BENCH_RUNS, BENCH_PG as
 * for npm run bench.
 */
import { show } from './measure.js';
import { postgresBenches } from './postgres.bench.js';
import { seededStore } from './seeded-store.js';

const runs = Number(process.env['BENCH_RUNS'] ?? 5);
const store = await seededStore(1000, 0.25);
try {
  const rows = await postgresBenches(runs, process.env['BENCH_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test', store, 0.25, ['table']);
  for (const r of rows) process.stdout.write(`| ${r.name} | ${show(r.ours)} ${r.unit} | ${r.baselineName}: ${show(r.baseline)} ${r.unit} | ${r.ratio.toFixed(2)} | ${r.target ?? ''}${r.note ? ` — ${r.note}` : ''} |\n`);
} finally {
  await store.done();
}
