/*
 * npm run bench:notify: the notification delay row alone (bench/notify.bench.ts); prints it.
 * BENCH_RUNS as for npm run bench (default 10 here: each run is one pipeline).
 */
import { show } from './measure.js';
import { notifyBenches } from './notify.bench.js';

const runs = Number(process.env['BENCH_RUNS'] ?? 10);
for (const r of await notifyBenches(runs)) process.stdout.write(`| ${r.name} | ${show(r.ours)} ${r.unit} | ${r.baselineName}: ${show(r.baseline)} ${r.unit} | ${r.note ?? ''} |\n`);
