import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PostgresEventStore, SessionManager } from '../../src/index.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';

/** `callers` concurrent callers, each spawning a session and completing it, `rounds` times. */
async function work(manager: SessionManager, callers: number, rounds: number): Promise<void> {
  await Promise.all(Array.from({ length: callers }, async (_, caller) => {
    for (let round = 0; round < rounds; round += 1) {
      const session = await manager.spawnAgentSession('CodeGenAgent', `caller ${caller} round ${round}`, contextFor('CodeGeneration', caller + 1));
      await manager.completeSession(session.id, { success: true, output: 'done' });
    }
  }));
}

describe('PostgreSQL: a store reads only what others wrote', () => {
  let schema: string;
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    schema = freshSchema();
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await dropSchema(schema);
    await cleanup();
  });

  it('a lone writer with 100 concurrent callers reads none of its own events back', async () => {
    const store = new PostgresEventStore({ connectionString: PG_URL, schema });
    const manager = await SessionManager.open(dir, { store });
    try {
      await work(manager, 100, 3);
      expect(store.counters.eventsCommitted).toBe(600);
      // Group commit: far fewer transactions than appends.
      expect(store.counters.commits).toBeLessThan(300);
      expect(store.counters.eventsRead).toBe(0);
    } finally {
      await manager.close();
    }
  });

  it('two writers at once each read the other one’s events, and (almost) none of their own', async () => {
    const stores = [0, 1].map(() => new PostgresEventStore({ connectionString: PG_URL, schema }));
    const managers = await Promise.all(stores.map((store, i) => SessionManager.open(join(dir, `host-${i}`), { store })));
    try {
      await Promise.all(managers.map((manager) => work(manager, 50, 3)));
      for (const manager of managers) await manager.refresh();
      for (const [i, store] of stores.entries()) {
        const others = stores[1 - i]!.counters.eventsCommitted;
        expect(store.counters.eventsCommitted).toBe(300);
        expect(store.counters.eventsRead).toBeGreaterThanOrEqual(others);
        // Its own events come back only when one of its commits lands while it reads.
        expect(store.counters.eventsRead - others).toBeLessThanOrEqual(30);
      }
      const [a, b] = await Promise.all(managers.map((manager) => manager.listSessions()));
      expect(a).toEqual(b);
      expect(a).toHaveLength(300);
    } finally {
      for (const manager of managers) await manager.close();
    }
  });

  it('the migration drops the second index on (session_id, version) that earlier versions made', async () => {
    const store = new PostgresEventStore({ connectionString: PG_URL, schema });
    await store.migrate();
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const indexes = async () => (await admin.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY 1', [schema, 'events'])).rows.map((r) => r.indexname);
      await admin.query(`CREATE INDEX events_session ON ${schema}.events (session_id, version)`);
      expect(await indexes()).toContain('events_session');
      await store.migrate();
      // Left: the primary key (seq), the unique id and the unique (session_id, version).
      expect(await indexes()).toEqual(['events_id_key', 'events_pkey', 'events_session_version']);
    } finally {
      await admin.end();
      await store.close();
    }
  });
});
