import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PostgresEventStore, SessionManager, type Session } from '../../src/index.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { postgresSessionReader, readFileSessions, readPostgresSessions, type SessionReads } from '../../src/query/session-reads.js';
import { decodeCursor, encodeCursor } from '../../src/projections/session-query.js';
import { TimeSeriesCounter } from '../../src/projections/time-series.js';
import { PG_URL, dropSchema, freshSchema, seededSchema, type SeededSchema } from '../helpers/stores.js';
import { planNodes, queriesSent, type PlanNode } from '../helpers/query-plans.js';
import { SessionsTableFolder } from '../../src/projections/sessions-table-folder.js';

/*
 * A store of 14,000 events copied into PostgreSQL: the first read folds them into the sessions
 * table in pages of 5,000, pipelines straddling the pages (a session's later events folded on
 * the history of its earlier ones), and then answers as the same store in files answers.
 */
describe('a PostgreSQL store of 14,000 events, read through its sessions table', () => {
  let seeded: SeededSchema;
  let dir: string;
  const open = () => seeded.open();
  beforeAll(async () => {
    seeded = await seededSchema(14_000);
    dir = seeded.dir;
  }, 120_000);
  afterAll(() => seeded.drop());

  /** What a read gives on both stores. */
  async function both<T>(read: (reads: SessionReads) => Promise<T>): Promise<{ files: T; table: T }> {
    const store = open();
    try {
      return { files: await readFileSessions(dir, read), table: await readPostgresSessions(store, read) };
    } finally {
      await store.close();
    }
  }

  it('folds every event, then answers stats, pages and sessions as the files do', async () => {
    const { files, table } = await both(async (reads) => {
      const pages: string[][] = [];
      let after: string | null = null;
      do {
        const page = await reads.page({ order: 'failures-first', limit: 700, after });
        pages.push(page.sessions.map((s) => s.id));
        after = page.next;
      } while (after !== null && pages.length < 100);
      const ids = pages.flat();
      const sessions: Session[] = [...(await reads.getMany(ids.filter((_, i) => i % 7 === 0))).values()];
      return { lastSeq: reads.lastSeq, size: await reads.size(), stats: JSON.stringify(await reads.stats()), sizes: pages.map((p) => p.length), ids: [...ids].sort(), sessions };
    });
    expect(table.lastSeq).toBe(files.lastSeq);
    expect(table.size).toBe(files.size);
    expect(table.stats).toBe(files.stats);
    expect(table.sizes).toEqual(files.sizes);
    expect(table.ids).toEqual(files.ids);
    expect(table.sessions).toEqual(files.sessions);
  }, 120_000);

  it('finds a pipeline, its root and a filtered page by SQL, as the files do', async () => {
    const { files, table } = await both(async (reads) => {
      const failed = (await reads.page({ status: 'Failed', phase: 'Test', order: 'newest', limit: 3 })).sessions.map((s) => s.id);
      const root = await reads.rootOf(failed[0]!);
      const pipeline = [...(await reads.pipeline(root!)).keys()];
      const issue = (await reads.page({ issue: 7, text: 'TEST', limit: 50 })).sessions.map((s) => s.id);
      return { failed, root, pipeline, issue };
    });
    expect(table).toEqual(files);
    expect(table.pipeline.length).toBeGreaterThan(1);
  }, 60_000);

  it('asks for a page of one status in the order of its index, so that the page stops at its limit', async () => {
    // The query the library sends for a page of Failed TestAgent sessions, newest first.
    const store = open();
    let sent;
    try {
      [sent] = (
        await queriesSent(/FROM \S+\.sessions WHERE .*agent_name = .*ORDER BY spawn_seq DESC LIMIT/s, async () => {
          await readPostgresSessions(store, (reads) => reads.page({ status: 'Failed', agent: 'TestAgent', order: 'newest', limit: 50 }));
        })
      ).slice(-1);
    } finally {
      await store.close();
    }
    expect(sent).toBeDefined();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      // Is there a plan that reads the rows of that status in order, with no sort and no walk past
      // other rows? With sorts and bitmaps ruled out, the planner shows it if there is one.
      await client.query('SET enable_sort = off; SET enable_bitmapscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sent!.text}`, sent!.values);
      const nodes = planNodes(rows[0]!['QUERY PLAN'][0]!.Plan);
      expect(nodes.map((n) => n['Node Type'])).not.toContain('Sort');
      const scans = nodes.filter((n) => n['Node Type'].endsWith('Scan'));
      expect(scans.map((n) => n['Index Name'])).toEqual(['sessions_status']);
      // Every Failed session of this store is a TestAgent: a scan that reads any other row walked to it.
      expect(scans.map((n) => n['Rows Removed by Filter'] ?? 0)).toEqual([0]);
    } finally {
      await client.end();
    }
  }, 60_000);

  it('charts the sessions over time from the table alone as the files chart them from the sessions', async () => {
    const { files, table } = await both(async (reads) => {
      // Counted up to the log's own last spawn (the log was written with times of its own).
      let latest = 0;
      for await (const session of reads.timeline()) latest = Math.max(latest, Date.parse(session.createdAt));
      const day = new TimeSeriesCounter('day', latest + 3_600_000, 14);
      const hour = new TimeSeriesCounter('hour', latest + 3_600_000, 48);
      let n = 0;
      let costed = 0;
      for await (const session of reads.timeline()) {
        day.add(session);
        hour.add(session);
        n += 1;
        if ((session.result?.totalCostUsd ?? 0) > 0) costed += 1;
      }
      return { n, costed, day: day.result().buckets.map(({ start: _start, ...counts }) => counts), hour: hour.result().buckets.map(({ start: _start, ...counts }) => counts) };
    });
    expect(table).toEqual(files);
    expect(files.costed).toBeGreaterThan(0);
    expect(files.day.some((b) => Object.keys(b.byAgent).length > 0 && b.spawned > 0)).toBe(true);
    expect(files.hour.some((b) => b.completed + b.failed + b.handedOff > 0)).toBe(true);
  }, 60_000);

  it('refuses a cursor that names another session at its place, on a page with sessions after it and on one without', async () => {
    const store = open();
    try {
      await readPostgresSessions(store, async (reads) => {
        const first = await reads.page({ order: 'spawn', limit: 5 });
        const cursor = decodeCursor(first.next!, 'spawn');
        const stranger = '3f1d8a52-0000-4000-8000-000000000000';
        await expect(reads.page({ order: 'spawn', limit: 5, after: encodeCursor({ ...cursor, id: stranger }) })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
        expect((await reads.page({ order: 'spawn', limit: 5, after: first.next })).sessions).toHaveLength(5);
        // A cursor at the newest session, in spawn order: nothing after it, and still checked.
        const atLast = { ...decodeCursor((await reads.page({ order: 'newest', limit: 1 })).next!, 'newest'), order: 'spawn' as const };
        expect((await reads.page({ order: 'spawn', limit: 5, after: encodeCursor(atLast) })).sessions).toEqual([]);
        await expect(reads.page({ order: 'spawn', limit: 5, after: encodeCursor({ ...atLast, id: stranger }) })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      });
    } finally {
      await store.close();
    }
  }, 60_000);

  it('finds the pipelines of many sessions at once as it finds each alone, on both stores', async () => {
    const { files, table } = await both(async (reads) => {
      // Sessions of every kind, roots and steps, one of them twice, and one unknown.
      const some = (await reads.page({ order: 'newest', limit: 60 })).sessions.map((s) => s.id);
      const ids = [...some, some[3]!, '3f1d8a52-0000-4000-8000-000000000000'];
      const together = await reads.pipelinesOf(ids);
      const alone = new Map<string, Map<string, Session>>();
      for (const id of ids) {
        const root = await reads.rootOf(id);
        if (root !== undefined) alone.set(id, await reads.pipeline(root));
      }
      const shape = (m: Map<string, Map<string, Session>>) => [...m].map(([id, pipeline]) => [id, [...pipeline.values()]] as const).sort(([a], [b]) => a.localeCompare(b));
      return { together: shape(together), alone: shape(alone), ids };
    });
    expect(table.together).toEqual(table.alone);
    expect(files.together).toEqual(files.alone);
    expect(table.together).toEqual(files.together);
    expect(new Set(table.together.map(([, steps]) => steps.length)).size).toBeGreaterThan(1);
  }, 60_000);
});

describe('a PostgreSQL store of an earlier schema version, read through its sessions table', () => {
  it('folds and reads version-1 events as this version reads them', async () => {
    const { dir, cleanup } = await tempDir();
    const schema = freshSchema();
    const open = () => new PostgresEventStore({ connectionString: PG_URL, schema });
    try {
      const manager = await SessionManager.open(dir, { store: open() });
      const a = await manager.spawnAgentSession('CodeGenAgent', 'Implement #42', contextFor('CodeGeneration'));
      await manager.handoff(a.id, 'ReviewAgent', contextFor('Review'), { result: { success: true, output: 'done', totalCostUsd: 0.25, numTurns: 2 } });
      const want = await manager.listSessions();
      await manager.close();
      // As an earlier version wrote them, and a table not folded yet.
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`UPDATE ${schema}.events SET event = replace(event::text, '"schemaVersion":4', '"schemaVersion":1')::json`);
      await client.query(`DELETE FROM ${schema}.sessions; UPDATE ${schema}.sessions_folded SET seq = 0`);
      const { rows } = await client.query<{ v: number }>(`SELECT DISTINCT (event->>'schemaVersion')::int AS v FROM ${schema}.events`);
      await client.end();
      expect(rows.map((r) => r.v)).toEqual([1]);
      const store = open();
      try {
        const got = await readPostgresSessions(store, async (reads) => [...(await reads.getMany(want.map((s) => s.id))).values()]);
        expect(got).toEqual(want);
      } finally {
        await store.close();
      }
    } finally {
      await dropSchema(schema);
      await cleanup();
    }
  });
});

describe('a PostgreSQL reader that keeps the sessions it folded (postgresSessionReader)', () => {
  const schema = freshSchema();
  afterAll(() => dropSchema(schema));

  it('answers again from what it kept while a session stands still, and from its events once it changed', async () => {
    const { dir, cleanup } = await tempDir();
    const store = new PostgresEventStore({ connectionString: PG_URL, schema });
    const manager = await SessionManager.open(dir, { store: new PostgresEventStore({ connectionString: PG_URL, schema }) });
    try {
      const a = await manager.spawnAgentSession('CodeGenAgent', 'first', contextFor('CodeGeneration', 3));
      const b = await manager.spawnAgentSession('ReviewAgent', 'second', contextFor('Review', 3));
      const reader = postgresSessionReader(store);
      const page = () => reader.read(async (reads) => (await reads.page({ order: 'spawn' })).sessions);
      // A caller's changes to what it was given (folded, then kept) never reach what the reader kept.
      for (let read = 0; read < 3; read += 1) {
        const sessions = await page();
        expect(sessions.map((s) => [s.status, s.childSessions])).toEqual([['Active', []], ['Active', []]]);
        sessions[0]!.status = 'Failed';
        sessions[0]!.childSessions.push('not a child');
      }
      // A new event: the row's revision moves on, and the session is folded again.
      await manager.completeSession(a.id, { success: true, output: 'done' });
      const after = await page();
      expect(after.map((s) => [s.id, s.status, s.revision])).toEqual([[a.id, 'Completed', 2], [b.id, 'Active', 1]]);
      expect(after).toEqual([...(await readPostgresSessions(store, async (reads) => (await reads.page({ order: 'spawn' })).sessions))]);
    } finally {
      await manager.close();
      await store.close();
      await cleanup();
    }
  });
});

describe('a fold of the sessions table while appends go on', () => {
  const schema = freshSchema();
  afterAll(() => dropSchema(schema));

  it('folds what was committed when it began, not what was appended meanwhile: it does not chase the writers', async () => {
    const { dir, cleanup } = await tempDir();
    const manager = await SessionManager.open(dir, { store: new PostgresEventStore({ connectionString: PG_URL, schema }) });
    // Named, so that its waiting is told from any other backend's.
    const folder = new PostgresEventStore({ connectionString: PG_URL, schema, applicationName: `folder-${schema}` });
    const holder = new pg.Client({ connectionString: PG_URL });
    await holder.connect();
    try {
      await manager.spawnAgentSession('CodeGenAgent', 'before', contextFor('CodeGeneration', 5));
      // Level (and migrated) first: what follows is one fold's waiting.
      await folder.catchUpSessionsTable(new SessionsTableFolder());
      const level = async () => Number((await holder.query<{ seq: string }>(`SELECT seq::text FROM ${schema}.sessions_folded`)).rows[0]!.seq);
      const top = async () => Number((await holder.query<{ m: string }>(`SELECT max(seq)::text AS m FROM ${schema}.events`)).rows[0]!.m);
      const before = await manager.spawnAgentSession('ReviewAgent', 'before too', contextFor('Review', 5));
      const [from, committed] = [await level(), await top()];
      expect(committed).toBeGreaterThan(from);
      // Another fold holds the table; this one asks (seeing what was committed) and waits its turn.
      await holder.query(`BEGIN; SELECT seq FROM ${schema}.sessions_folded FOR UPDATE`);
      const folding = folder.catchUpSessionsTable(new SessionsTableFolder());
      for (let waited = 0; ; waited += 1) {
        const { rows } = await holder.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [`folder-${schema}`]);
        if (rows[0]!.n > 0) break;
        if (waited > 1000) throw new Error('the fold never asked for the table');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // Appended while it waits.
      await manager.completeSession(before.id, { success: true, output: 'after' });
      const later = await manager.spawnAgentSession('TestAgent', 'after', contextFor('Test', 5));
      await holder.query('COMMIT');
      expect(await folding).toBe(committed - from);
      expect(await level()).toBe(committed);
      // The next fold takes the rest.
      expect(await folder.catchUpSessionsTable(new SessionsTableFolder())).toBe((await top()) - committed);
      const read = await readPostgresSessions(folder, async (reads) => (await reads.page({ order: 'spawn' })).sessions.map((s) => [s.id, s.status]));
      expect(read.slice(1)).toEqual([[before.id, 'Completed'], [later.id, 'Active']]);
    } finally {
      await holder.end();
      await manager.close();
      await folder.close();
      await cleanup();
    }
  });
});
