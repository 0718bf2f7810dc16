/*
 * One of several processes writing to one PostgreSQL database at once, for the multi-process
 * rows of bench/postgres.bench.ts. Prepares, prints `ready`, waits for a line on stdin, runs,
 * then prints `{ "start": <epoch ms>, "end": <epoch ms>, "cpuMs": <CPU ms of the run> }` (for `ours`
 * with its store's commits, events committed and ms spent in its append calls) and exits. Usage:
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
  const cpu = process.cpuUsage();
  await runWorkers(manager, Number(callers), Number(steps), older, 5_000_000 + Number(index) * 100_000);
  const end = Date.now();
  const cpuMs = cpuMsSince(cpu);
  const { commits, eventsCommitted, callMs } = store.counters;
  await manager.close();
  process.stdout.write(`${JSON.stringify({ start, end, commits, eventsCommitted, callMs, cpuMs })}\n`);
} else {
  process.stdout.write('ready\n');
  await go();
  const start = Date.now();
  const cpu = process.cpuUsage();
  await bareInsertLoop(url!, schema!, Number(steps), Number(callers));
  process.stdout.write(`${JSON.stringify({ start, end: Date.now(), cpuMs: cpuMsSince(cpu) })}\n`);
}

/** CPU time (user and system) this process used since `from`, in ms. */
function cpuMsSince(from: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(from);
  return (user + system) / 1000;
}
process.exit(0);
