/*
 * npm run bench:traces: the trace export row alone (bench/traces.bench.ts); prints it.
 * BENCH_RUNS (default 5), BENCH_SIZE (default 250000 sessions).
 */
import { show } from './measure.js';
import { traceBenches } from './traces.bench.js';

const runs = Number(process.env['BENCH_RUNS'] ?? 5);
const size = Number(process.env['BENCH_SIZE'] ?? 250_000);
for (const r of await traceBenches(runs, size)) process.stdout.write(`| ${r.name} | ${show(r.ours)} ${r.unit} | ${r.baselineName}: ${show(r.baseline)} ${r.unit} | ${r.ratio.toFixed(2)} | ${r.target ?? ''} |\n`);
