import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionManager } from '../../src/index.js';
import { readPostgresSessions } from '../../src/query/session-reads.js';
import { tempDir } from '../helpers/fixtures.js';
import { planNodes, queriesSent, type PlanNode } from '../helpers/query-plans.js';
import { PG_URL, seededSchema, type SeededSchema } from '../helpers/stores.js';

/*
 * The queries for some sessions' events up to a seq (a fold's history, a read of a table behind
 * its log, one session's events) must be answered from the (session_id, version) index. Under
 * appends, the planner's statistics lag behind the table, and it took the seq index instead:
 * it walked every event up to the bound. So no plan may use the seq index for them, even with
 * the session index gone and sequential scans made as costly as the planner allows.
 */
describe('PostgreSQL: the events of some sessions up to a seq', () => {
  let seeded: SeededSchema;
  beforeAll(async () => {
    seeded = await seededSchema(3_000);
  }, 120_000);
  afterAll(() => seeded.drop());

  it('are never read by walking the seq index', async () => {
    const store = seeded.open();
    let sent;
    try {
      sent = await queriesSent(/\.events WHERE session_id/, async () => {
        // A first read folds the copied events; a manager then ends sessions spawned before.
        const active = await readPostgresSessions(store, async (reads) => (await reads.page({ status: 'Active', limit: 20 })).sessions.map((s) => s.id));
        const { dir: cache, cleanup: done } = await tempDir();
        const manager = await SessionManager.open(cache, { store: seeded.open() });
        try {
          for (const id of active.slice(0, 10)) await manager.completeSession(id, { success: true, output: 'done' });
        } finally {
          await manager.close();
          await done();
        }
        // A read folds those ends on the history of their sessions, and folds sessions for a page.
        await readPostgresSessions(store, (reads) => reads.getMany(active));
        await store.readSessionEvents(active[0]!, store.cursor());
      });
    } finally {
      await store.close();
    }
    // The fold's history, the sessions of the read, one session's events.
    expect(sent.length).toBeGreaterThanOrEqual(3);
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      for (const { text, values } of sent) {
        await client.query('BEGIN');
        try {
          await client.query(`ALTER TABLE ${seeded.schema}.events DROP CONSTRAINT events_session_version`);
          await client.query('SET LOCAL enable_seqscan = off');
          const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${text}`, values);
          const indexes = planNodes(rows[0]!['QUERY PLAN'][0]!.Plan).map((n) => n['Index Name']);
          expect({ text, indexes }).toEqual({ text, indexes: expect.not.arrayContaining(['events_pkey']) as unknown });
        } finally {
          await client.query('ROLLBACK');
        }
      }
    } finally {
      await client.end();
    }
  }, 120_000);
});
