/*
 * npm run bench:dashboard: only the dashboard rows (bench/dashboard.bench.ts), on a store of
 * 250,000 sessions against an empty one and one of 25,000 (BENCH_SIZES, default 25000,250000);
 * prints the rows. BENCH_RUNS and BENCH_ACTIVE as for npm run bench; CHROMIUM_PATH if Chromium
 * is not /usr/bin/chromium; BENCH_PG the PostgreSQL url (the same rows on PostgreSQL).
 */
import { dashboardBenches } from './dashboard.bench.js';
import { show } from './measure.js';
import { seededStore } from './seeded-store.js';

const runs = Number(process.env['BENCH_RUNS'] ?? 5);
const share = Number(process.env['BENCH_ACTIVE'] ?? 0.25);
const [smallSize, largeSize] = (process.env['BENCH_SIZES'] ?? '25000,250000').split(',').map(Number);
const small = await seededStore(smallSize!, share);
const large = await seededStore(largeSize!, share);
try {
  const rows = await dashboardBenches(runs, large, small, process.env['BENCH_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test');
  const digits = (unit: string) => (unit === 'ms' ? 1 : 0);
  for (const r of rows) process.stdout.write(`| ${r.name} | ${show(r.ours, digits(r.unit))} ${r.unit} | ${r.baselineName}: ${show(r.baseline, digits(r.unit))} ${r.unit} | ${r.ratio.toFixed(2)} | ${r.target ?? ''}${r.note === undefined ? '' : ` — ${r.note}`} |\n`);
} finally {
  await small.done();
  await large.done();
}
