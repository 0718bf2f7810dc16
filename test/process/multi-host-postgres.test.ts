import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PostgresEventStore, SessionManager, type Session } from '../../src/index.js';
import { startChild, waitFor, waitForLine } from '../helpers/children.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';

/** What a fault test gets: a store with a session in it, and an admin connection to the same database. */
interface FaultSetup {
  schema: string;
  admin: pg.Client;
  manager: SessionManager;
  parent: Session;
  /** The store's own application_name: only its backend is terminated, never another program's. */
  applicationName: string;
}

/** Runs `body` on a fresh schema's store holding one Active session; drops everything after. */
async function withFaultStore(body: (setup: FaultSetup) => Promise<void>): Promise<void> {
  const schema = freshSchema();
  const { dir, cleanup } = await tempDir();
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    const applicationName = `miyabi-test-${schema}`;
    const manager = await SessionManager.open(dir, { store: new PostgresEventStore({ connectionString: PG_URL, schema, applicationName }) });
    const parent = await manager.spawnAgentSession('CodeGenAgent', 'p', contextFor());
    await body({ schema, admin, manager, parent, applicationName });
    await manager.close();
  } finally {
    await admin.end();
    await dropSchema(schema);
    await cleanup();
  }
}

describe('many hosts on one PostgreSQL', () => {
  it('4 processes, each its own host with its own manager and pool, race on the same sessions: one winner per transition, nothing lost, lineage a forest', async () => {
    const schema = freshSchema();
    const { dir, cleanup } = await tempDir();
    try {
      const setup = await SessionManager.open(join(dir, 'setup'), { store: new PostgresEventStore({ connectionString: PG_URL, schema }) });
      for (let i = 0; i < 20; i += 1) await setup.spawnAgentSession('CodeGenAgent', `root ${i}`, contextFor('IssueAnalysis', i + 1));
      await setup.close();
      const hosts = [1, 2, 3, 4].map((i) => join(dir, `host-${i}`));
      const racers = hosts.map((host, i) => startChild('racer', [host, String((i + 1) * 7919), '60', PG_URL, schema]));
      await waitForLine(racers, 'ready', 30_000, 'every host to open the store');
      await Promise.all(hosts.map((host) => writeFile(join(host, 'go'), '')));
      const results = await Promise.all(racers.map(async ({ lines, exited }) => {
        const { code, stderr } = await exited;
        expect(code, stderr).toBe(0);
        return JSON.parse(lines.at(-1)!) as { wins: Array<{ op: string; id: string }>; refused: Record<string, number> };
      }));
      const wins = results.flatMap((r) => r.wins);
      const winners = new Map<string, string>();
      for (const win of wins) {
        expect(winners.has(win.id), `session ${win.id} ended twice`).toBe(false);
        winners.set(win.id, win.op);
      }
      const checker = await SessionManager.open(join(dir, 'checker'), { store: new PostgresEventStore({ connectionString: PG_URL, schema }) });
      const sessions = new Map((await checker.listSessions()).map((s) => [s.id, s] as [string, Session]));
      for (const s of sessions.values()) {
        const op = winners.get(s.id);
        expect(s.status).toBe(op === undefined ? 'Active' : { handoff: 'HandedOff', complete: 'Completed', fail: 'Failed' }[op]);
        if (s.parentSession !== null) expect(sessions.get(s.parentSession)?.childSessions).toEqual([s.id]);
      }
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      const { rows } = await client.query<{ n: string; max: string; ids: string }>(`SELECT count(*)::text AS n, max(seq)::text AS max, count(DISTINCT id)::text AS ids FROM ${schema}.events`);
      await client.end();
      const handoffs = wins.filter((w) => w.op === 'handoff').length;
      expect(Number(rows[0]!.n)).toBe(20 + wins.length + handoffs);
      expect(rows[0]!.max).toBe(rows[0]!.n);
      expect(rows[0]!.ids).toBe(rows[0]!.n);
      expect(results.reduce((n, r) => n + Object.values(r.refused).reduce((a, b) => a + b, 0), 0)).toBeGreaterThan(10);
      await checker.close();
    } finally {
      await dropSchema(schema);
      await cleanup();
    }
  });

  it('a connection killed mid-append leaves no partial handoff; the call rejects and a retry succeeds', async () => {
    await withFaultStore(async ({ schema, admin, manager, parent, applicationName }) => {
      // Hold the append lock from outside, so the manager's transaction waits inside, then kill it there.
      await admin.query('BEGIN');
      await admin.query('SELECT pg_advisory_xact_lock(hashtext($1))', [schema]);
      const attempt = manager.handoff(parent.id, 'ReviewAgent', contextFor('Review')).then(() => null, (error: unknown) => error);
      let victims = 0;
      // Another connection looks: inside the lock holder's transaction pg_stat_activity is a frozen snapshot.
      const watcher = new pg.Client({ connectionString: PG_URL });
      await watcher.connect();
      const poll = async (): Promise<void> => {
        const { rows } = await watcher.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE wait_event = 'advisory' AND application_name = $1`, [applicationName]);
        for (const { pid } of rows) await watcher.query('SELECT pg_terminate_backend($1)', [pid]);
        victims += rows.length;
      };
      await waitFor(() => victims > 0, 10_000, 'the append to wait on the lock', poll);
      await watcher.end();
      expect(await attempt).toMatchObject({ code: 'STORAGE' });
      await admin.query('COMMIT');
      const { rows } = await admin.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema}.events`);
      expect(rows[0]!.n).toBe('1');
      expect((await manager.getSession(parent.id))?.status).toBe('Active');
      const child = await manager.handoff(parent.id, 'ReviewAgent', contextFor('Review'));
      expect((await manager.getSession(parent.id))?.status).toBe('HandedOff');
      expect(child.parentSession).toBe(parent.id);
    });
  });

  it('a connection lost at COMMIT (outcome unknown): the call rejects, the store holds the whole handoff or none of it, and a retry applies it once', async () => {
    await withFaultStore(async ({ schema, admin, manager, parent, applicationName }) => {
      // A deferred constraint trigger runs at COMMIT: it holds the handoff's transaction there.
      await admin.query(`CREATE FUNCTION ${schema}.hold_commit() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$ LANGUAGE plpgsql`);
      await admin.query(`CREATE CONSTRAINT TRIGGER hold_commit AFTER INSERT ON ${schema}.events DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${schema}.hold_commit()`);
      const attempt = manager.handoff(parent.id, 'ReviewAgent', contextFor('Review')).then(() => null, (error: unknown) => error);
      let terminated = 0;
      await waitFor(() => terminated > 0, 10_000, 'the handoff to be held at COMMIT', async () => {
        const { rows } = await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event = 'PgSleep'`, [applicationName]);
        for (const { pid } of rows) await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        terminated += rows.length;
      });
      expect(terminated).toBe(1);
      expect(await attempt).toMatchObject({ code: 'STORAGE' });
      await admin.query(`DROP TRIGGER hold_commit ON ${schema}.events`);
      // Whole or nothing: the parent's end and the child's spawn are both there, or neither.
      const count = async () => (await admin.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema}.events`)).rows[0]!.n;
      expect(['1', '3']).toContain(await count());
      const applied = (await count()) === '3';
      // The retry is decided on the store as it is: applied already, it is refused (no second child); else it applies once.
      const retry = await manager.handoff(parent.id, 'ReviewAgent', contextFor('Review')).then(() => null, (error: unknown) => error);
      if (applied) expect(retry).toMatchObject({ code: 'INVALID_TRANSITION' });
      else expect(retry).toBeNull();
      expect(await count()).toBe('3');
      const after = await manager.getSession(parent.id);
      expect(after?.status).toBe('HandedOff');
      expect(after?.childSessions).toHaveLength(1);
    });
  });
});
