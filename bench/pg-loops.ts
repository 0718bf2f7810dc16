import pg from 'pg';
import { v4 as uuidv4 } from 'uuid';
import { PostgresEventStore, SessionManager } from '../src/index.js';
import { perSecond } from './measure.js';
import { runWorkers } from './workload.js';

/** A row shaped like one of ours: the same columns, an event of the mix's typical size. */
function bareRow(): unknown[] {
  const id = uuidv4();
  const sessionId = uuidv4();
  const event = JSON.stringify({
    seq: 0, id, type: 'SessionSpawned', sessionId, timestamp: new Date().toISOString(), schemaVersion: 1,
    data: { agentName: 'CodeGenAgent', purpose: 'Resolve issue #1000001', context: { issueNumber: 1000001, currentPhase: 'CodeGeneration', worktreePath: '/w/issue-1000001', previousResults: [] }, parentSession: null },
    crc: 'ffffffff',
  });
  return [id, sessionId, 1, 'SessionSpawned', event];
}

/**
 * The table the bare loops write: the shape of ours (seq, id, session, version, type, event,
 * recorded_at, the same unique constraints), its `seq` from a sequence, since bare
 * loops coordinate nothing.
 */
export async function createBareTable(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema};
    CREATE TABLE ${schema}.events (seq bigserial PRIMARY KEY, id uuid NOT NULL UNIQUE, session_id uuid NOT NULL,
      version integer NOT NULL, type text NOT NULL, event json NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT events_session_version UNIQUE (session_id, version));`);
  await client.end();
}

/**
 * Bare `pg`: `rows` rows in statements of `perStatement` rows each, one after the other on one
 * connection, each statement its own (autocommit) transaction: one round trip and one commit
 * per statement, prepared once, the least a durable insert of that many rows can cost.
 * Resolves with rows/s.
 */
export async function bareInsertLoop(url: string, schema: string, rows: number, perStatement: number): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const start = performance.now();
  for (let done = 0; done < rows; done += perStatement) {
    const batch = Array.from({ length: Math.min(perStatement, rows - done) }, bareRow);
    // Named statements: parsed and planned once per connection, the fastest way to repeat one.
    if (batch.length === 1) {
      await client.query({ name: 'bare_insert_one', text: `INSERT INTO ${schema}.events (id, session_id, version, type, event) VALUES ($1, $2, $3, $4, $5)`, values: batch[0] });
    } else {
      const columns = [0, 1, 2, 3, 4].map((c) => batch.map((r) => r[c]));
      await client.query({
        name: 'bare_insert_many',
        text: `INSERT INTO ${schema}.events (id, session_id, version, type, event) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::json[])`,
        values: columns,
      });
    }
  }
  const ms = performance.now() - start;
  await client.end();
  return perSecond(rows, ms);
}

/** A manager on a PostgreSQL store (its local cache in `dir`), ready to run the pipeline mix. */
export async function openPgManager(dir: string, url: string, schema: string, store = new PostgresEventStore({ connectionString: url, schema })): Promise<SessionManager> {
  return SessionManager.open(dir, { store });
}

/**
 * Ours: `callers` concurrent callers doing `steps` appends of the pipeline mix, the manager
 * alone on its store; resolves with events/s.
 */
export async function oursPgLoop(manager: SessionManager, callers: number, steps: number, older: string[], issueBase: number): Promise<number> {
  let events = 0;
  const stop = manager.subscribe(() => (events += 1));
  const start = performance.now();
  await runWorkers(manager, callers, steps, older, issueBase);
  const ms = performance.now() - start;
  stop();
  return perSecond(events, ms);
}
