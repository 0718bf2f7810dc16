/*
 * One of several processes writing to one PostgreSQL database at once, for the multi-process
 * rows of bench/postgres.bench.ts. Prepares, prints `ready`, waits for a line on stdin, runs,
 * then prints `{ "start": <epoch ms>, "end": <epoch ms> }` (for `ours` with its store's commits,
 * events committed and ms spent in its append calls) and exits. Usage:
 *   node pg-writer.js ours <url> <schema> <dir> <callers> <steps> <index> <of>
 *   node pg-writer.js bare <url> <schema> -     <callers> <steps>
 * `ours` runs the pipeline mix with `callers` concurrent callers, ending only its share
 * (every `of`-th, from `index`) of the store's older Active sessions; `bare` inserts `steps` rows
 * in statements of `callers` rows.
 */
import { createInterface } from 'node:readline';
import { PostgresEventStore } from '../src/index.js';
import { bareInsertLoop, openPgManager } from './pg-loops.js';
import { runWorkers } from './workload.js';

const [mode, url, schema, dir, callers, steps, index, of] = process.argv.slice(2) as string[];
const go = () => new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

if (mode === 'ours') {
  const store = new PostgresEventStore({ connectionString: url!, schema: schema! });
  const manager = await openPgManager(dir!, url!, schema!, store);
  const older = (await manager.listActiveSessions()).map((s) => s.id).filter((_, i) => i % Number(of) === Number(index));
  process.stdout.write('ready\n');
  await go();
  const start = Date.now();
  await runWorkers(manager, Number(callers), Number(steps), older, 5_000_000 + Number(index) * 100_000);
  const end = Date.now();
  const { commits, eventsCommitted, callMs } = store.counters;
  await manager.close();
  process.stdout.write(`${JSON.stringify({ start, end, commits, eventsCommitted, callMs })}\n`);
} else {
  process.stdout.write('ready\n');
  await go();
  const start = Date.now();
  await bareInsertLoop(url!, schema!, Number(steps), Number(callers));
  process.stdout.write(`${JSON.stringify({ start, end: Date.now() })}\n`);
}
process.exit(0);
