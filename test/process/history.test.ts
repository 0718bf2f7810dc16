import { execSync } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { FileEventStore, PostgresEventStore, type EventStore, type SessionEvent, type StoreCursor } from '../../src/index.js';
import { auditStore } from '../../src/audit/audit-log.js';
import { startChild, waitForLine } from '../helpers/children.js';
import { tempDir } from '../helpers/fixtures.js';
import { checkHistory, operationsOf, type HistoryRecord, type Operation, type ReaderView } from '../helpers/history/history.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';

/*
 * Recorded histories: writers in separate processes run generated operations through the
 * manager, racing on shared sessions; one is killed with SIGKILL mid-run (on PostgreSQL,
 * backends are also terminated mid-commit), and a new writer takes its place; a reader reads
 * the log all along. The checker then proves the promises on the final log and on everything
 * the reader saw (test/helpers/history/history.ts), and names bugs planted in a real history.
 * `npm test` runs a short history; `test:faults` 10,000 operations (HISTORY_OPS).
 */
const WRITERS = Number(process.env['HISTORY_WRITERS'] ?? 4);
const OPS = Number(process.env['HISTORY_OPS'] ?? 40);
/**
 * A shell command that restarts the PostgreSQL server (e.g. `pg_ctlcluster --skip-systemctl-redirect
 * 15 main restart`): given, the PostgreSQL history restarts it half way through. Only when nothing
 * else uses that server meanwhile: run this file alone (docs/how-it-works.md, recorded histories).
 */
const PG_RESTART = process.env['HISTORY_PG_RESTART'];

interface Run {
  operations: Operation[];
  log: SessionEvent[];
  views: ReaderView[];
  restarts: number;
  /** PostgreSQL backends terminated while they ran an append. */
  terminated: number;
  findings: unknown[];
}

/** Reads what was appended since `cursor`, adding each event to `view`; resolves with the new cursor. */
async function readOn(store: EventStore, cursor: StoreCursor | null, view: ReaderView): Promise<StoreCursor | null> {
  const read = await store.readRecords(cursor);
  for await (const batch of read.records) for (const { event } of batch) view.seen.push({ seq: event.seq, id: event.id });
  return read.end().cursor;
}

/** The invoke records of a writer's history file (none while it has none). */
async function invokeLines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((l) => l.includes('"invoke"'));
}

/** A connection for the test's own work on the server (terminating backends); one the server drops says nothing. */
function adminClient(): pg.Client {
  const client = new pg.Client({ connectionString: PG_URL });
  client.on('error', () => undefined);
  return client;
}

async function recordHistory(kind: 'file' | 'postgres', dir: string): Promise<Run> {
  const schema = freshSchema();
  // On files the disk fails now and then in each writer, through the store's seam (history-writer.ts).
  if (kind === 'file') process.env['HISTORY_DISK_FAULTS'] = '1';
  const pgArgs = kind === 'postgres' ? [PG_URL, schema] : [];
  const open = (): EventStore => (kind === 'file' ? new FileEventStore(join(dir, 'store')) : new PostgresEventStore({ connectionString: PG_URL, schema }));
  let restarts = 0;
  const writers: Array<Promise<void>> = [];
  let killed = false;
  let admin = adminClient();
  if (kind === 'postgres') await admin.connect();
  // Each writer slot runs its operations, in as many processes as it takes: one that dies (killed, or its commit's outcome unknown) is replaced.
  const slot = async (index: number) => {
    let done = 0;
    for (let attempt = 0; done < OPS && attempt < 12; attempt += 1) {
      const name = `w${index}${attempt === 0 ? '' : `r${attempt}`}`;
      const writer = startChild('history-writer', [dir, name, String(1000 + index * 7919 + attempt), String(OPS - done), ...pgArgs]);
      await waitForLine([writer], 'ready', 30_000, `${name} ready`);
      if (index === 0 && !killed) {
        // Killed with SIGKILL a third of the way in (the next writer of the slot, if this one died first).
        void (async () => {
          const file = join(dir, 'history', `${name}.ndjson`);
          for (;;) {
            const lines = (await invokeLines(file)).length;
            if (lines >= Math.max(3, (OPS - done) / 3) || writer.child.exitCode !== null) break;
            await new Promise((r) => setTimeout(r, 5));
          }
          if (writer.child.exitCode === null) {
            killed = true;
            writer.child.kill('SIGKILL');
          }
        })();
      }
      const exited = await writer.exited;
      // Rounds, not operations: a round may invoke two at once (the second's tag ends in b).
      const records = (await invokeLines(join(dir, 'history', `${name}.ndjson`))).filter((l) => !/"tag":"[^"]*b"/.test(l)).length;
      done += records;
      if (exited.code !== 0) restarts += 1;
      if (exited.code !== 0 && exited.signal !== 'SIGKILL' && !/STORAGE|terminat|Connection|ECONNRESET/i.test(exited.stderr)) throw new Error(`${name} failed: ${exited.stderr.slice(-2000)}`);
    }
  };
  const reader = open();
  const view: ReaderView = { reader: 'reader', seen: [] };
  let reading = true;
  let cursor: StoreCursor | null = null;
  const readerLoop = (async () => {
    while (reading) {
      cursor = await readOn(reader, cursor, view).catch(() => cursor);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  for (let i = 0; i < WRITERS; i += 1) writers.push(slot(i));
  // The writers start together (the go file) 200 ms after they were started, ready or not: one
  // that opens slowly (a busy machine) opens while the others write and the disk fails under
  // them, as a late process does. Replacements start at once.
  await new Promise((r) => setTimeout(r, 200));
  await writeFile(join(dir, 'go'), '');
  let terminating = kind === 'postgres';
  let terminated = 0;
  let restarted = false;
  const restarter = (async () => {
    if (kind !== 'postgres' || PG_RESTART === undefined) return;
    // Half way: half of all operations invoked, counted from the writers' records.
    for (;;) {
      const files = await readdir(join(dir, 'history')).catch(() => [] as string[]);
      let invoked = 0;
      for (const file of files) invoked += (await invokeLines(join(dir, 'history', file))).length;
      if (invoked >= (WRITERS * OPS) / 2 || !terminating) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    if (!terminating) return;
    execSync(PG_RESTART, { stdio: 'ignore' });
    restarted = true;
    // The admin connection went with the server: a new one terminates backends from here on.
    await admin.end().catch(() => undefined);
    for (let tries = 0; tries < 100; tries += 1) {
      admin = adminClient();
      if (await admin.connect().then(() => true, () => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const terminator = (async () => {
    // Backends terminated mid-commit: a writer's append whose outcome it cannot know.
    while (terminating) {
      await new Promise((r) => setTimeout(r, 150));
      const { rows } = await admin
        .query<{ done: boolean }>(`SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE query LIKE '%${schema}.append_events%' AND state = 'active' AND pid <> pg_backend_pid() LIMIT 1`)
        .catch(() => ({ rows: [] as Array<{ done: boolean }> }));
      terminated += rows.filter((row) => row.done).length;
    }
  })();
  try {
    await Promise.all(writers);
  } finally {
    terminating = false;
    await restarter;
    await terminator;
    reading = false;
    await readerLoop;
  }
  cursor = await readOn(reader, cursor, view);
  const log: SessionEvent[] = [];
  const final = await reader.readRecords(null);
  for await (const batch of final.records) log.push(...batch.map((r) => r.event));
  const findings = (await auditStore(reader)).findings;
  await reader.close();
  if (kind === 'postgres') {
    await admin.end();
    await dropSchema(schema);
  }
  const records: HistoryRecord[] = [];
  for (const file of await readdir(join(dir, 'history'))) {
    for (const line of (await readFile(join(dir, 'history', file), 'utf8')).split('\n')) if (line.trim().length > 0) records.push(JSON.parse(line) as HistoryRecord);
  }
  expect(killed).toBe(true);
  if (kind === 'postgres' && PG_RESTART !== undefined) expect(restarted).toBe(true);
  return { operations: operationsOf(records), log, views: [view], restarts, terminated, findings };
}

for (const kind of ['file', 'postgres'] as const) {
  describe(`a recorded history of ${WRITERS} writers on one ${kind} store`, () => {
    it(`${WRITERS} × ${OPS} operations, a writer killed${kind === 'postgres' ? `, backends terminated mid-commit${PG_RESTART === undefined ? '' : ', the server restarted'}` : ', disk faults'}: the checker finds nothing, and names each planted bug`, async () => {
      const { dir, cleanup } = await tempDir();
      try {
        const run = await recordHistory(kind, dir);
        const { operations, log, views } = run;
        expect(run.findings).toEqual([]);
        // A long run (test:faults) surely terminates some backends mid-commit, and meets disk faults;
        // a short one may not catch one.
        if (kind === 'postgres' && OPS >= 500) expect(run.terminated).toBeGreaterThan(0);
        if (kind === 'file' && OPS >= 500) expect(operations.filter((o) => o.storageFault !== undefined).length).toBeGreaterThan(0);
        expect(checkHistory(operations, log, views)).toEqual([]);
        const outcomes = new Set(operations.map((o) => o.outcome));
        // Races make refusals; the killed writer's operation in flight, if it had one, is unknown.
        expect(outcomes).toContain('ok');
        expect(outcomes).toContain('fail');
        expect(operations.length).toBeGreaterThanOrEqual(WRITERS * OPS);

        // A lost acknowledged append: an acknowledged completion's event taken out of the log.
        const acked = operations.find((o) => o.outcome === 'ok' && o.op.kind === 'complete')!;
        const lost = log.filter((e) => e.by !== acked.tag).map((e, i) => ({ ...e, seq: i + 1 }));
        expect(checkHistory(operations, lost).map((a) => [a.kind, a.operations])).toContainEqual(['lost-ack', [acked.tag]]);

        // A reader that skips a seq.
        const skipping: ReaderView = { reader: 'skipping', seen: views[0]!.seen.filter((s) => s.seq !== 3) };
        expect(checkHistory(operations, log, [skipping]).map((a) => a.kind)).toEqual(['reader-prefix']);

        // Two winners: a move refused on a session another operation ended, said to be acknowledged.
        const ended = new Map(log.filter((e) => ['SessionHandedOff', 'SessionCompleted', 'SessionFailed'].includes(e.type)).map((e) => [e.sessionId, e.by]));
        const loser = operations.find((o) => o.outcome === 'fail' && o.op.target !== undefined && o.op.kind !== 'retry' && ended.get(o.op.target) !== undefined)!;
        const twoWinners = operations.map((o) => (o === loser ? { ...o, outcome: 'ok' as const, completedAt: o.invokedAt + 1 } : o));
        expect(checkHistory(twoWinners, log).map((a) => [a.kind, a.operations])).toContainEqual(['two-winners', [loser.tag, ended.get(loser.op.target!)!]]);

        // Real time: an operation said to be invoked after a later one in the log was acknowledged.
        const inOrder = operations.filter((o) => o.outcome === 'ok' && log.some((e) => e.by === o.tag));
        const [first, later] = [inOrder[0]!, inOrder.at(-1)!];
        const late = operations.map((o) => (o === first ? { ...o, invokedAt: later.completedAt! + 1, completedAt: later.completedAt! + 2 } : o));
        expect(checkHistory(late, log).map((a) => a.kind)).toContain('real-time');

        // An event nobody invoked, and a refused operation the log holds.
        const phantom = [...log, { ...log.at(-1)!, seq: log.length + 1, id: '00000000-0000-4000-8000-000000000000', by: 'nobody:1' }];
        expect(checkHistory(operations, phantom).map((a) => a.kind)).toEqual(['phantom']);
        const applied = operations.map((o) => (o === acked ? { ...o, outcome: 'fail' as const } : o));
        expect(checkHistory(applied, log).map((a) => [a.kind, a.operations])).toContainEqual(['failed-applied', [acked.tag]]);

        // An unknown operation may be in the log once, or not at all; twice is a duplicate.
        const unknown = operations.map((o) => (o === acked ? { ...o, outcome: 'unknown' as const, completedAt: null } : o));
        expect(checkHistory(unknown, log)).toEqual([]);
        const event = log.find((e) => e.by === acked.tag)!;
        const twice = [...log, { ...event, seq: log.length + 1, id: '00000000-0000-4000-8000-000000000001' }];
        expect(checkHistory(unknown, twice).map((a) => [a.kind, a.operations])).toEqual([['duplicated', [acked.tag]]]);
      } finally {
        await cleanup();
      }
    }, 600_000);
  });
}
