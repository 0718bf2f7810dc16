import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { FileEventStore, PostgresEventStore } from '../src/index.js';
import { copyEvents } from '../src/copy/copy-events.js';
import { mix } from './append.bench.js';
import { measurePair, perSecond, type Row } from './measure.js';
import { bareInsertLoop, createBareTable, oursPgLoop, openPgManager } from './pg-loops.js';
import type { SeededStore } from './seeded-store.js';
import { scratch } from './work-dir.js';

let issues = 3_000_000;

/**
 * The PostgreSQL store with the defaults, on a schema seeded with the smallest store's events
 * (its Active sessions among them), beside bare `pg` loops on a table of the same shape, in
 * alternation: one caller vs an autocommit INSERT loop; 100 callers vs one INSERT of 100 rows
 * per transaction; 4 processes × 25 callers vs the same bare loop (25 rows per INSERT) from 4
 * processes.
 */
export async function postgresBenches(runs: number, url: string, store: SeededStore, share: number, only?: ReadonlyArray<'table'>): Promise<Row[]> {
  const schema = `miyabi_bench_${process.pid}`;
  const bare = `miyabi_bench_bare_${process.pid}`;
  const work = await scratch('pg');
  try {
    await drop(url, [schema, bare]);
    await copyEvents(new FileEventStore(store.dir), new PostgresEventStore({ connectionString: url, schema }));
    await createBareTable(url, bare);
    const calls: Record<number, CallStats[]> = { 1: [], 100: [] };
    const ours = (callers: number, steps: number, costs?: RunCost[]) => async () => {
      const store = new PostgresEventStore({ connectionString: url, schema });
      const manager = await openPgManager(work.dir, url, schema, store);
      const older = (await manager.listActiveSessions()).map((s) => s.id).sort(() => Math.random() - 0.5);
      const before = { ...store.counters };
      const costBefore = costs === undefined ? null : await serverMark(url);
      const started = performance.now();
      const rate = await oursPgLoop(manager, callers, steps, older, (issues += callers));
      if (costBefore !== null) costs!.push(await serverCostSince(url, costBefore, store.counters.eventsCommitted - before.eventsCommitted));
      calls[callers]!.push({ commits: store.counters.commits - before.commits, eventsCommitted: store.counters.eventsCommitted - before.eventsCommitted, callMs: store.counters.callMs - before.callMs, wallMs: performance.now() - started });
      await manager.close();
      return rate;
    };
    // The table row runs last: its long runs leave about 600,000 events in the schema, and the
    // rows against bare `pg` are of a store of about 1,000 sessions (the bare table starts empty).
    const keptTable = async (): Promise<Row> => {
      // What keeping the sessions table costs the writers: appends never touch it; a reader folds
      // what is new before it reads. The same appends, with such a reader every 250 ms, and without.
      // Runs of 40,000 steps (about 2 s): a run of 10,000 held one or two reads, and each run's
      // figure then hung on whether a second one fell inside it.
      const readerStats: ReaderStats[] = [];
      const read: RunCost[] = [];
      const alone: RunCost[] = [];
      const withReader = await measurePair(runs, 1, () => whileReading(url, schema, 250, readerStats, ours(100, 40_000, read)), ours(100, 40_000, alone));
      return {
        name: 'PostgreSQL: durable append, 100 callers, while a reader folds the sessions table and reads stats every 250 ms, vs the same without it',
        unit: 'events/s',
        ...withReader,
        baselineName: 'the same appends with no reader (the table not kept)',
        ratio: withReader.ours.median / withReader.baseline.median,
        target: '≥ 0.9',
        note: [readerNote(readerStats), costNote(read, alone)].filter((part) => part !== '').join('; '),
      };
    };
    if (only?.includes('table') === true) return [await keptTable()];
    const single = await measurePair(runs, 1, ours(1, 500), () => bareInsertLoop(url, bare, 1000, 1));
    const burst = await measurePair(runs, 1, ours(100, 10_000), () => bareInsertLoop(url, bare, 10_000, 100));
    const fleetCalls: CallStats[] = [];
    const fleet = await measurePair(runs, 1, () => processes('ours', url, schema, fleetCalls), () => processes('bare', url, bare, []));
    // The table row's runs are of 100 callers too: the burst's own calls are told apart first.
    const burstCalls = [...calls[100]!];
    const tableRow = await keptTable();
    return [
      { name: `PostgreSQL: durable append, 1 caller (${mix(store, share)} beside it)`, unit: 'events/s', ...single, baselineName: 'bare pg: autocommit INSERT of one row, in a loop', ratio: single.ours.median / single.baseline.median, target: '≥ 0.5', note: whereTimeGoes(calls[1]!) },
      { name: 'PostgreSQL: durable append, 100 callers', unit: 'events/s', ...burst, baselineName: 'bare pg: one INSERT of 100 rows per transaction, in a loop', ratio: burst.ours.median / burst.baseline.median, target: '≥ 0.5', note: whereTimeGoes(burstCalls) },
      tableRow,
      { name: 'PostgreSQL: durable append, 4 processes × 25 callers, total', unit: 'events/s', ...fleet, baselineName: 'bare pg: one INSERT of 25 rows per transaction, in a loop, from 4 processes', ratio: fleet.ours.median / fleet.baseline.median, note: whereTimeGoes(fleetCalls, true) },
    ];
  } finally {
    await drop(url, [schema, bare]);
    await work.done();
  }
}

/** What one reader process did during a run. */
interface ReaderStats {
  reads: number;
  folded: number;
  /** The reader process's CPU time, its start and first read included. */
  cpuMs: number;
}

/** Runs `work` while a reader process (bench/pg-reader.ts) reads every `every` ms; resolves with what `work` resolves with. */
async function whileReading(url: string, schema: string, every: number, stats: ReaderStats[], work: () => Promise<number>): Promise<number> {
  const script = fileURLToPath(new URL('./pg-reader.js', import.meta.url));
  const child = spawn(process.execPath, [script, url, schema, String(every)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
  const exited = new Promise<void>((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`pg-reader exited ${code}`)))));
  while (!lines.includes('ready')) await new Promise((r) => setTimeout(r, 10));
  try {
    return await work();
  } finally {
    child.stdin.write('stop\n');
    await exited;
    stats.push(JSON.parse(lines.at(-1)!) as ReaderStats);
  }
}

function readerNote(stats: ReaderStats[]): string {
  const reads = stats.reduce((n, s) => n + s.reads, 0);
  const folded = stats.reduce((n, s) => n + s.folded, 0);
  const cpuMs = stats.reduce((n, s) => n + s.cpuMs, 0);
  return reads === 0 ? '' : `the reader: ${reads} reads over the runs, each folding ${Math.round(folded / reads)} events on average before it read; its process used ${Math.round(cpuMs / stats.length)} ms of CPU a run`;
}

/** What the server did during one measured run: the WAL it wrote and its CPU (null when it does not run here), per event appended. */
interface RunCost {
  walBytes: number;
  serverMs: number | null;
  events: number;
}

/** Where the server's WAL and CPU stand now. */
async function serverMark(url: string): Promise<{ lsn: string; serverMs: number | null }> {
  const [row] = await queryOnce<{ lsn: string }>(url, 'SELECT pg_current_wal_insert_lsn()::text AS lsn');
  return { lsn: row!.lsn, serverMs: serverCpuMs() };
}

/** The WAL and server CPU since `mark`, for `events` appended. */
async function serverCostSince(url: string, mark: { lsn: string; serverMs: number | null }, events: number): Promise<RunCost> {
  const serverMs = serverCpuMs();
  const [row] = await queryOnce<{ bytes: string }>(url, 'SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::text AS bytes', [mark.lsn]);
  return { walBytes: Number(row!.bytes), serverMs: serverMs === null || mark.serverMs === null ? null : serverMs - mark.serverMs, events };
}

/**
 * What keeping the table adds to the server's work, per event appended: the WAL (the folds' rows
 * and index entries go through the WAL the appends' commits wait to flush) and the CPU (the
 * reader's queries run on the same two cores as the appends).
 */
function costNote(read: RunCost[], alone: RunCost[]): string {
  const per = (costs: RunCost[], key: 'walBytes' | 'serverMs') => {
    const events = costs.reduce((n, c) => n + c.events, 0);
    if (events === 0 || costs.some((c) => c[key] === null)) return null;
    return costs.reduce((n, c) => n + c[key]!, 0) / events;
  };
  const [walRead, walAlone, cpuRead, cpuAlone] = [per(read, 'walBytes'), per(alone, 'walBytes'), per(read, 'serverMs'), per(alone, 'serverMs')];
  const walText = walRead === null || walAlone === null ? '' : `WAL an event appended, with the reader ${Math.round(walRead)} B, without ${Math.round(walAlone)} B`;
  const cpuText = cpuRead === null || cpuAlone === null ? '' : `; the server's CPU an event, with ${Math.round(cpuRead * 1000)} µs, without ${Math.round(cpuAlone * 1000)} µs`;
  return walText + cpuText;
}

/** What our store's counters say about one measured run (or one writer process of it). */
interface CallStats {
  commits: number;
  eventsCommitted: number;
  /** Time in `append_events` calls, round trip (and any wait for the lock) included. */
  callMs: number;
  /** The run's wall time (for a process: from its start to its end). */
  wallMs: number;
}

/**
 * Where our time goes, over all measured runs: events per commit, the time of one append call
 * (round trip, server work and, with other writers, the wait for the lock), and the share of
 * the wall time spent in those calls (the rest is the manager's own work between commits).
 */
function whereTimeGoes(stats: CallStats[], othersWriting = false): string {
  const sum = (key: keyof CallStats) => stats.reduce((total, s) => total + s[key], 0);
  const commits = sum('commits');
  if (commits === 0) return '';
  return `ours: ${(sum('eventsCommitted') / commits).toFixed(1)} events per commit; an append call ${(sum('callMs') / commits).toFixed(2)} ms (round trip, server${othersWriting ? ', waiting for the lock' : ''}); calls take ${Math.round((100 * sum('callMs')) / sum('wallMs'))}% of each writer's time, the manager's own work the rest`;
}

/**
 * The 4-process row on a schema of its own, made for the run and dropped after it: empty for
 * `ours` (the managers migrate it), a bare table for `bare`. Resolves with events/s.
 */
export async function writerFleet(mode: 'ours' | 'bare', url: string, stats: CallStats[], prefix: string, cpu?: FleetCpu[]): Promise<number> {
  const schema = `miyabi_${prefix}_${mode}_${process.pid}`;
  await drop(url, [schema]);
  if (mode === 'bare') await createBareTable(url, schema);
  try {
    return await processes(mode, url, schema, stats, cpu);
  } finally {
    await drop(url, [schema]);
  }
}

/** CPU a fleet run used: its writer processes' (all 4), and the server's when it runs on this machine (else null); with the events it added. */
export interface FleetCpu {
  writersMs: number;
  serverMs: number | null;
  events: number;
}

/** CPU ms every local `postgres` process (and the backends that exited, counted on the postmaster) has used; null when none runs here. */
function serverCpuMs(): number | null {
  let ms = 0;
  let found = false;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('postgres')) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ').map(Number);
      // utime, stime; and cutime, cstime: the backends that exited, reaped by the postmaster.
      ms += (fields[11]! + fields[12]! + fields[13]! + fields[14]!) * 10;
      found = true;
    } catch {
      // Gone meanwhile.
    }
  }
  return found ? ms : null;
}

/** 4 writer processes started together; resolves with the rows they added per second of wall time. */
async function processes(mode: 'ours' | 'bare', url: string, schema: string, stats: CallStats[], cpu?: FleetCpu[]): Promise<number> {
  const script = fileURLToPath(new URL('./pg-writer.js', import.meta.url));
  const steps = 2500;
  const children = await Promise.all([0, 1, 2, 3].map(async (index) => {
    const place = mode === 'ours' ? await scratch(`pg-writer-${index}`) : { dir: '-', done: async () => {} };
    const args = [script, mode, url, schema, place.dir, '25', String(steps), String(index), '4'];
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
    const exited = new Promise<void>((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`pg-writer ${mode} exited ${code}`)))));
    while (!lines.includes('ready')) await new Promise((r) => setTimeout(r, 10));
    return { child, lines, exited, place };
  }));
  const before = await rowCount(url, schema);
  const serverBefore = serverCpuMs();
  for (const c of children) c.child.stdin.write('go\n');
  await Promise.all(children.map((c) => c.exited));
  const serverAfter = serverCpuMs();
  const after = await rowCount(url, schema);
  for (const c of children) await c.place.done();
  const spans = children.map((c) => JSON.parse(c.lines.at(-1)!) as { start: number; end: number; cpuMs: number } & Partial<CallStats>);
  cpu?.push({ writersMs: spans.reduce((sum, s) => sum + s.cpuMs, 0), serverMs: serverBefore === null || serverAfter === null ? null : serverAfter - serverBefore, events: after - before });
  for (const span of spans) if (span.commits !== undefined) stats.push({ commits: span.commits, eventsCommitted: span.eventsCommitted!, callMs: span.callMs!, wallMs: span.end - span.start });
  const ms = Math.max(...spans.map((s) => s.end)) - Math.min(...spans.map((s) => s.start));
  return perSecond(after - before, ms);
}

async function rowCount(url: string, schema: string): Promise<number> {
  const [row] = await queryOnce<{ n: string }>(url, `SELECT count(*)::text AS n FROM ${schema}.events`);
  return Number(row!.n);
}

/** One query on a connection of its own, closed after it (the bench's own bookkeeping, untimed). */
async function queryOnce<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function drop(url: string, schemas: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}
