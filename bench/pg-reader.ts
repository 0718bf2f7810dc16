/*
 * A reader of a PostgreSQL store for bench/postgres.bench.ts: every `every` ms it asks for the
 * store's stats as `miyabi-sessions stats --store` does, which first folds into the sessions
 * table what was appended since. Prints `ready` after its first read, reads until a line comes
 * on stdin, then prints `{ "reads": n, "folded": events, "cpuMs": its CPU time }` and exits.
 * Usage: node pg-reader.js <url> <schema> <every>
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { PostgresEventStore } from '../src/index.js';
import { readPostgresSessions } from '../src/query/session-reads.js';

const [url, schema, every] = process.argv.slice(2) as string[];
let stopped = false;
createInterface({ input: process.stdin }).once('line', () => (stopped = true));
const store = new PostgresEventStore({ connectionString: url!, schema: schema! });
let reads = 0;
let folded = 0;
let last = -1;
const read = () =>
  readPostgresSessions(store, async (sessions) => {
    await sessions.stats();
    if (last >= 0) folded += sessions.lastSeq - last;
    last = sessions.lastSeq;
  });
// Ready once connected and level with the table: a reader that reads every `every` ms runs for
// long, and its start (a connection, the migration) is no part of what keeping the table costs.
await read();
process.stdout.write('ready\n');
while (!stopped) {
  await sleep(Number(every));
  if (stopped) break;
  await read();
  reads += 1;
}
await store.close();
const cpu = process.cpuUsage();
process.stdout.write(`${JSON.stringify({ reads, folded, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
process.exit(0);
