import pg from 'pg';
import { v4 as uuidv4 } from 'uuid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PostgresEventStore, SessionManager, type PendingEvent, type Session } from '../../src/index.js';
import { EVENT_SCHEMA_VERSION } from '../../src/events/event-envelope.js';
import type { SessionEvent } from '../../src/events/session-event.js';
import { SessionsTableFolder } from '../../src/projections/sessions-table-folder.js';
import { statsOf } from '../../src/projections/stats.js';
import { PostgresSessions } from '../../src/query/postgres-sessions.js';
import { readPostgresSessions } from '../../src/query/session-reads.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';

/*
 * The stats of a PostgreSQL store come from groups the folds keep (`session_stats`): each fold
 * moves the sessions it changes from their old group to their new one. Sessions spawned by one
 * fold end in later ones, with costs and turns, as they do in a store that runs for long. The
 * agents first appear out of alphabetical order (stats name them in the order of their first
 * session). Active sessions with a cost (an agent run that ended, the session not yet) are in
 * the store of test/query/postgres-sessions.test.ts.
 */
let schema: string;
let dir: string;
let cleanup: () => Promise<void>;
let admin: pg.Client;
const open = () => new PostgresEventStore({ connectionString: PG_URL, schema });
beforeEach(async () => {
  schema = freshSchema();
  ({ dir, cleanup } = await tempDir());
  admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
});
afterEach(async () => {
  await admin.end();
  await dropSchema(schema);
  await cleanup();
});

/**
 * An agent run of session `id`, started and finished with a cost, the session left Active: as
 * another host's manager records it (its row then changes, cost and turns, while it is Active).
 */
async function agentRan(id: string, costUsd: number): Promise<void> {
  const store = open();
  const revisions = new Map<string, number>();
  await store.connect({ apply: (events) => events.forEach((e) => revisions.set(e.sessionId, (revisions.get(e.sessionId) ?? 0) + 1)), revisionOf: (s) => revisions.get(s) ?? 0 }, null);
  const host = { host: 'stats-test', pid: 4242, startTime: '1' };
  const event = (type: string, data: unknown) => ({ id: uuidv4(), type, sessionId: id, timestamp: new Date().toISOString(), schemaVersion: EVENT_SCHEMA_VERSION, data }) as PendingEvent;
  const started = event('SessionAgentStarted', { process: host, supervisor: host, command: ['claude', '-p', 'x'], cwd: '/w', logFile: `/logs/${id}.log`, resumedFrom: null });
  await store.append({ events: [started], expectedRevisions: new Map([[id, revisions.get(id)!]]) });
  const finished = event('SessionAgentFinished', { result: { success: true, output: 'ran', numTurns: 3, totalCostUsd: costUsd } });
  await store.append({ events: [finished], expectedRevisions: new Map([[id, revisions.get(id)!]]) });
  await store.close();
}

/** Rounds of spawns, agent runs (unless not `agentRuns`), handoffs, completions and failures, each round's sessions ended by later rounds; `after` runs after each. */
async function rounds(manager: SessionManager, count: number, after: () => Promise<void>, agentRuns = true): Promise<void> {
  let active: Session[] = [];
  for (let round = 0; round < count; round += 1) {
    const ending = active;
    active = [];
    for (let i = 0; i < 5; i += 1) active.push(await manager.spawnAgentSession(i % 2 === 0 ? 'ReviewAgent' : 'CodeGenAgent', `round ${round}`, contextFor('CodeGeneration', round + 1)));
    for (const [i, session] of ending.entries()) {
      if (i % 3 === 0) active.push(await manager.handoff(session.id, 'TestAgent', contextFor('Test', round + 1), { result: { success: true, output: 'on', totalCostUsd: 0.125, numTurns: 2 } }));
      else if (i % 3 === 1) await manager.completeSession(session.id, { success: true, output: 'done', totalCostUsd: 0.3, numTurns: 4 });
      else await manager.failSession(session.id, 'it broke', { success: false, output: 'no', totalCostUsd: 0.05, numTurns: 1 });
    }
    // Two of this round's sessions run an agent now, one of them ended by a later round (another
    // store object records them: it migrates the schema as it opens, unless told not to run).
    if (agentRuns) {
      await agentRan(active[0]!.id, 0.02);
      await agentRan(active[1]!.id, 0.03);
      await manager.refresh();
    }
    await after();
  }
}

/** Stats of every session the manager holds, as a replay gives them. */
async function replayed(manager: SessionManager): Promise<string> {
  return JSON.stringify(statsOf(new Map((await manager.listSessions()).map((s) => [s.id, s]))));
}

/** Whether the kept groups are level with the sessions table. */
async function level(): Promise<boolean> {
  const { rows } = await admin.query<{ level: boolean }>(`SELECT stats_seq IS NOT DISTINCT FROM seq AS level FROM ${schema}.sessions_folded`);
  return rows[0]!.level;
}

/** Runs `work` with a manager writing the schema and a store object reading it, and closes both. */
async function withWriterAndReader(work: (manager: SessionManager, reader: PostgresEventStore) => Promise<void>): Promise<void> {
  const manager = await SessionManager.open(dir, { store: open(), checkpointIdleMs: -1 });
  const reader = open();
  try {
    await work(manager, reader);
  } finally {
    await reader.close();
    await manager.close();
  }
}

describe('PostgreSQL stats, kept by the folds', () => {
  it('each fold moves the sessions it changes between groups: the kept groups stay level and equal a replay', async () => {
    await withWriterAndReader(async (manager, reader) => {
      await rounds(manager, 5, async () => {
        const stats = await readPostgresSessions(reader, (reads) => reads.stats());
        expect(JSON.stringify(stats)).toBe(await replayed(manager));
        expect(await level()).toBe(true);
      });
      const { rows } = await admin.query<{ groups: number }>(`SELECT count(*)::int AS groups FROM ${schema}.session_stats`);
      expect(rows[0]!.groups).toBeGreaterThan(4);
    });
  });

  it('a store an earlier version folded reads the sessions table until a migration builds the groups again', async () => {
    await withWriterAndReader(async (manager, reader) => {
      await rounds(manager, 2, async () => {
        await readPostgresSessions(reader, (reads) => reads.stats());
      });
      // As an earlier version leaves it: its folds move the table on and not the groups (here made wrong too).
      await admin.query(`UPDATE ${schema}.sessions_folded SET stats_seq = NULL`);
      await admin.query(`UPDATE ${schema}.session_stats SET n = n + 100, cost_nanos = cost_nanos + 7`);
      await rounds(manager, 2, async () => {
        // This reader migrated at its first read: its folds leave the groups as they are.
        const stats = await readPostgresSessions(reader, (reads) => reads.stats());
        expect(JSON.stringify(stats)).toBe(await replayed(manager));
        expect(await level()).toBe(false);
      }, false);
      // A new store object migrates first: the groups are built again, and kept from there on.
      const migrated = open();
      try {
        const stats = await readPostgresSessions(migrated, (reads) => reads.stats());
        expect(JSON.stringify(stats)).toBe(await replayed(manager));
        expect(await level()).toBe(true);
      } finally {
        await migrated.close();
      }
    });
  });

  it('a store made by an earlier version, read by a role that may not migrate it: stats sum the sessions table', async () => {
    await withWriterAndReader(async (manager, reader) => {
      await rounds(manager, 3, async () => undefined);
      await readPostgresSessions(reader, (reads) => reads.stats());
      await admin.query(`DROP TABLE ${schema}.session_stats; ALTER TABLE ${schema}.sessions_folded DROP COLUMN stats_seq`);
      // No catch-up, no migration: the read alone, in its snapshot.
      const stats = await reader.inSnapshot(async (query) => (await PostgresSessions.open(query, null)).stats());
      expect(JSON.stringify(stats)).toBe(await replayed(manager));
    });
  });

  it("an earlier version's folds (store_sessions, the rows as JSON) keep the same table and groups as this version's (store_session_columns)", async () => {
    // The twin schema is folded as an earlier version folds: the same pages, the rows sent as JSON.
    const twin = freshSchema();
    const twinStore = new PostgresEventStore({ connectionString: PG_URL, schema: twin });
    const folder = new SessionsTableFolder();
    try {
      await readPostgresSessions(twinStore, (reads) => reads.stats());
      await withWriterAndReader(async (manager, reader) => {
        await rounds(manager, 4, async () => {
          await readPostgresSessions(reader, (reads) => reads.stats());
          await foldAsEarlierVersion(twin, folder);
        });
      });
      const table = async (of: string) =>
        (await admin.query(`SELECT (SELECT json_agg(t ORDER BY t.id) FROM ${of}.sessions t) AS sessions,
          (SELECT json_agg(g ORDER BY g.agent_name, g.phase, g.status) FROM ${of}.session_stats g) AS groups,
          (SELECT json_agg(f) FROM ${of}.sessions_folded f) AS folded`)).rows[0];
      const ours = await table(schema);
      expect(ours.sessions.length).toBeGreaterThan(20);
      expect(await table(twin)).toEqual(ours);
    } finally {
      await twinStore.close();
      await dropSchema(twin);
    }
  });
});

/**
 * Folds into `twin`'s sessions table what `schema` holds past `twin`'s level, as an earlier
 * version does: the rows `folder` computes, stored by `store_sessions` as one JSON array.
 */
async function foldAsEarlierVersion(twin: string, folder: SessionsTableFolder): Promise<void> {
  await admin.query('BEGIN');
  try {
    const { rows: marks } = await admin.query<{ seq: string }>(`SELECT seq::text FROM ${twin}.sessions_folded FOR UPDATE`);
    const level = Number(marks[0]!.seq);
    const { rows } = await admin.query<{ event: SessionEvent }>(`SELECT event FROM ${schema}.events WHERE seq > $1 ORDER BY seq`, [level]);
    const events = rows.map((r) => r.event);
    const named = events.flatMap((e) => (e.type === 'SessionSpawned' && e.data.parentSession !== null ? [e.sessionId, e.data.parentSession] : [e.sessionId]));
    const wanted = folder.historyWanted([...new Set(named)], level);
    const { rows: history } = await admin.query<{ event: SessionEvent }>(
      `SELECT event FROM ${schema}.events WHERE session_id = ANY($1::uuid[]) AND seq <= $2 ORDER BY session_id, version`,
      [wanted, level],
    );
    const sessionRows = folder.rows(history.map((r) => r.event), events);
    await admin.query(`SELECT ${twin}.store_sessions($1, $2, $3::json)`, [level, events.at(-1)!.seq, JSON.stringify(sessionRows)]);
    await admin.query('COMMIT');
    folder.settled(events.at(-1)!.seq);
  } catch (error) {
    await admin.query('ROLLBACK');
    folder.settled(null);
    throw error;
  }
}
