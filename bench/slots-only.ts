/*
 * npm run bench:slots: the concurrency-slot rows alone (bench/slots.bench.ts), files and
 * PostgreSQL; prints them. BENCH_RUNS (default 30), BENCH_PG the PostgreSQL url.
 */
import { show } from './measure.js';
import { slotBenches } from './slots.bench.js';

const runs = Number(process.env['BENCH_RUNS'] ?? 30);
const pgUrl = process.env['BENCH_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';
for (const r of await slotBenches(runs, pgUrl)) process.stdout.write(`| ${r.name} | ${show(r.ours, 2)} ${r.unit} | ${r.baselineName}: ${show(r.baseline, 1)} ${r.unit} | ${r.note ?? ''} |\n`);
