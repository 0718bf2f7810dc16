/*
 * A reader of a PostgreSQL store for bench/postgres.bench.ts: every `every` ms it asks for the
 * store's stats as `miyabi-sessions stats --store` does, which first folds into the sessions
 * table what was appended since. Prints `ready`, reads until a line comes on stdin, then prints
 * `{ "reads": n, "folded": events }` and exits. Usage: node pg-reader.js <url> <schema> <every>
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
process.stdout.write('ready\n');
while (!stopped) {
  await readPostgresSessions(store, async (sessions) => {
    await sessions.stats();
    if (last >= 0) folded += sessions.lastSeq - last;
    last = sessions.lastSeq;
  });
  reads += 1;
  await sleep(Number(every));
}
await store.close();
process.stdout.write(`${JSON.stringify({ reads, folded })}\n`);
process.exit(0);
