/*
 * npm run bench:pg-order: where the time of several hosts' appends goes, for issue 28's
 * ordering row (4 processes × 25 callers ≥ 0.5× bare inserts from 4 processes).
 *
 * 1. The ordering alone, in SQL, on 4 connections committing 25 rows at a time: ours today
 *    (the schema's advisory lock held through the commit's WAL flush, as append_events does),
 *    the lock released before the flush (the insert committed with synchronous_commit off, so
 *    its commit record goes into WAL under the lock, then a second, flushing commit: the WAL is
 *    one order, so whatever a flush keeps, it keeps a prefix of `seq`), and bare inserts (a
 *    sequence, no order kept), run alternately in the same run.
 * 2. The 4-process row itself (4 managers × 25 callers of the pipeline mix), with the share of
 *    the two cores left idle while it runs: an ordering can only speed up a run that waits.
 * Prints markdown rows. BENCH_RUNS (default 5), BENCH_PG as for npm run bench.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { measurePair, perSecond, show, summarize } from './measure.js';
import { writerFleet, type FleetCpu } from './postgres.bench.js';

const url = process.env['BENCH_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const runs = Number(process.env['BENCH_RUNS'] ?? 5);
const schema = `miyabi_order_${process.pid}`;
const CONNECTIONS = 4;
const ROWS = 25;
const SECONDS = 3;

/** Tables of our events' shape, and the two ways of keeping the order in a function and a procedure. */
async function setUp(client: pg.Client): Promise<void> {
  const s = schema;
  await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE; CREATE SCHEMA ${s};
    CREATE TABLE ${s}.events (seq bigint PRIMARY KEY, id uuid NOT NULL UNIQUE, session_id uuid NOT NULL, version integer NOT NULL,
      type text NOT NULL, event json NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(), UNIQUE (session_id, version));
    CREATE TABLE ${s}.bare (seq bigserial PRIMARY KEY, id uuid NOT NULL UNIQUE, session_id uuid NOT NULL, version integer NOT NULL,
      type text NOT NULL, event json NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(), UNIQUE (session_id, version));
    CREATE TABLE ${s}.durable (pid integer PRIMARY KEY, seq bigint NOT NULL);
    CREATE FUNCTION ${s}.locked_insert(n integer, body json) RETURNS bigint LANGUAGE plpgsql AS $$
    DECLARE top bigint;
    BEGIN
      PERFORM pg_advisory_xact_lock(hashtext('${s}'));
      SELECT coalesce(max(seq), 0) INTO top FROM ${s}.events;
      INSERT INTO ${s}.events (seq, id, session_id, version, type, event)
        SELECT top + g, gen_random_uuid(), gen_random_uuid(), 1, 'SessionSpawned', body FROM generate_series(1, n) g;
      RETURN top + 1;
    END $$;
    CREATE PROCEDURE ${s}.released_insert(n integer, body json, INOUT first bigint) LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM set_config('synchronous_commit', 'off', true);
      first := ${s}.locked_insert(n, body);
      COMMIT;
      INSERT INTO ${s}.durable (pid, seq) SELECT pg_backend_pid(), max(seq) FROM ${s}.events
        ON CONFLICT (pid) DO UPDATE SET seq = excluded.seq;
      COMMIT;
    END $$;`);
}

type Mode = 'bare' | 'held' | 'released';

/** Rows committed per second by 4 connections, each committing 25 rows at a time for a few seconds. */
async function rate(mode: Mode): Promise<number> {
  const body = JSON.stringify({ type: 'SessionSpawned', data: { agentName: 'CodeGenAgent', purpose: 'Resolve issue #1000001', context: { issueNumber: 1000001, currentPhase: 'CodeGeneration', worktreePath: '/w/issue-1000001', previousResults: [] }, parentSession: null } });
  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return client;
  }));
  let rows = 0;
  const started = performance.now();
  const until = started + SECONDS * 1000;
  await Promise.all(clients.map(async (client) => {
    while (performance.now() < until) {
      if (mode === 'bare') await client.query({ name: 'bare', text: `INSERT INTO ${schema}.bare (id, session_id, version, type, event) SELECT gen_random_uuid(), gen_random_uuid(), 1, 'SessionSpawned', $1::json FROM generate_series(1, $2::int)`, values: [body, ROWS] });
      else if (mode === 'held') await client.query({ name: 'held', text: `SELECT ${schema}.locked_insert($1, $2::json)`, values: [ROWS, body] });
      else await client.query({ name: 'released', text: `CALL ${schema}.released_insert($1, $2::json, NULL)`, values: [ROWS, body] });
      rows += ROWS;
    }
  }));
  const ms = performance.now() - started;
  await Promise.all(clients.map((c) => c.end()));
  return perSecond(rows, ms);
}

/** Jiffies the machine spent idle and in total, from /proc/stat. */
function cpuTimes(): { idle: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: fields[3]! + fields[4]!, total: fields.reduce((a, b) => a + b, 0) };
}

const admin = new pg.Client({ connectionString: url });
await admin.connect();
try {
  await setUp(admin);
  const held = await measurePair(runs, 1, () => rate('held'), () => rate('bare'));
  const released = await measurePair(runs, 1, () => rate('released'), () => rate('bare'));
  const line = (name: string, pair: typeof held) => `| ${name} | ${show(pair.ours)} rows/s | bare INSERT of 25 rows a transaction, 4 connections: ${show(pair.baseline)} rows/s | ${(pair.ours.median / pair.baseline.median).toFixed(2)} |`;
  process.stdout.write(`${line('ordering alone, 4 connections × 25 rows a commit: the lock held through the WAL flush (ours today)', held)}\n`);
  process.stdout.write(`${line('ordering alone: the lock released before the flush (async commit under the lock, then a flushing commit)', released)}\n`);
  const idle: number[] = [];
  const oursCpu: FleetCpu[] = [];
  const bareCpu: FleetCpu[] = [];
  const fleet = await measurePair(runs, 1, async () => {
    const before = cpuTimes();
    const events = await writerFleet('ours', url, [], 'fleet', oursCpu);
    const after = cpuTimes();
    idle.push((100 * (after.idle - before.idle)) / (after.total - before.total));
    return events;
  }, () => writerFleet('bare', url, [], 'fleet', bareCpu));
  // CPU µs per event, over the measured runs (the warm-up's first entry left out).
  const perEvent = (runs: FleetCpu[], key: 'writersMs' | 'serverMs') => {
    const measured = runs.slice(1);
    if (measured.some((r) => r[key] === null)) return 'n/a';
    return ((1000 * measured.reduce((sum, r) => sum + r[key]!, 0)) / measured.reduce((sum, r) => sum + r.events, 0)).toFixed(0);
  };
  process.stdout.write(
    `| PostgreSQL: durable append, 4 processes × 25 callers, total (managers, pipeline mix, an empty schema) | ${show(fleet.ours)} events/s | bare pg: one INSERT of 25 rows per transaction, in a loop, from 4 processes: ${show(fleet.baseline)} events/s | ${(fleet.ours.median / fleet.baseline.median).toFixed(2)} | CPU idle while ours ran: ${show(summarize(idle), 1)}%; CPU µs an event, writers / server: ours ${perEvent(oursCpu, 'writersMs')} / ${perEvent(oursCpu, 'serverMs')}, bare ${perEvent(bareCpu, 'writersMs')} / ${perEvent(bareCpu, 'serverMs')} |\n`,
  );
} finally {
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}
