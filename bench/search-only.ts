/*
 * npm run bench:search: the conversation-search rows alone (bench/search.bench.ts), files and
 * PostgreSQL; prints them. BENCH_RUNS (default 10), BENCH_PG the PostgreSQL url.
 */
import { show } from './measure.js';
import { searchBenches } from './search.bench.js';

const runs = Number(process.env['BENCH_RUNS'] ?? 10);
const pgUrl = process.env['BENCH_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';
for (const r of await searchBenches(runs, pgUrl)) process.stdout.write(`| ${r.name} | ${show(r.ours, 1)} ${r.unit} | ${r.baselineName}: ${show(r.baseline, 1)} ${r.unit} | ${r.ratio.toFixed(2)} | ${r.target ?? ''} |\n`);
