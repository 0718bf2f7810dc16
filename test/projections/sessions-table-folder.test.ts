import fc from 'fast-check';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresEventStore, SessionManager, isSessionError, type Session } from '../../src/index.js';
import { copyEvents } from '../../src/copy/copy-events.js';
import { SessionsTableFolder } from '../../src/projections/sessions-table-folder.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';

/** One step of a day's work on the store: what happens to which session, by its place among those Active. */
type Step = { kind: 'spawn' | 'complete' | 'fail' | 'handoff' | 'retry'; pick: number };

/** Rounds of steps; after each, a fold: by the folder that goes on (`true`) or by another (`false`). */
const rounds = fc.array(fc.record({ steps: fc.array(fc.record({ kind: fc.constantFrom<Step['kind']>('spawn', 'complete', 'fail', 'handoff', 'retry'), pick: fc.nat() }), { minLength: 1, maxLength: 12 }), byKeeper: fc.boolean() }), {
  minLength: 2,
  maxLength: 6,
});

const AGENTS = ['CodeGenAgent', 'ReviewAgent', 'TestAgent', 'DeployAgent'] as const;

/*
 * A folder keeps the Active sessions it folded and reads the history only of the others: the
 * table it keeps must be the table a fold of every event from nothing gives, whether it went on
 * page after page or another process folded in between (what it keeps is then stale).
 */
describe('the sessions table folded by a folder that keeps what it folded', () => {
  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(schema);
  });

  it('is the table a fold from nothing gives, and the folder reads less history while it goes on', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await fc.assert(
        fc.asyncProperty(rounds, async (plan) => {
          const schema = freshSchema();
          const copy = freshSchema();
          schemas.push(schema, copy);
          const store = new PostgresEventStore({ connectionString: PG_URL, schema });
          const keeper = new SessionsTableFolder();
          const asked = { ids: 0, wanted: 0 };
          const counting: SessionsTableFolder = Object.assign(Object.create(keeper) as SessionsTableFolder, {
            historyWanted: (ids: readonly string[], level: number) => {
              const wanted = keeper.historyWanted(ids, level);
              asked.ids += ids.length;
              asked.wanted += wanted.length;
              return wanted;
            },
          });
          const manager = await SessionManager.open(`${dir}/${schema}`, { store: new PostgresEventStore({ connectionString: PG_URL, schema }) });
          try {
            let issue = 1;
            for (const round of plan) {
              for (const step of round.steps) await apply(manager, step, () => (issue += 1));
              if (round.byKeeper) await store.catchUpSessionsTable(counting);
              else await store.catchUpSessionsTable(new SessionsTableFolder());
            }
            await store.catchUpSessionsTable(counting);
          } finally {
            await manager.close();
          }
          await store.close();
          // The same events, in another schema, folded from nothing.
          await copyEvents(new PostgresEventStore({ connectionString: PG_URL, schema }), new PostgresEventStore({ connectionString: PG_URL, schema: copy }));
          const fresh = new PostgresEventStore({ connectionString: PG_URL, schema: copy });
          try {
            await fresh.catchUpSessionsTable(new SessionsTableFolder());
          } finally {
            await fresh.close();
          }
          expect(await rowsOf(schema)).toEqual(await rowsOf(copy));
          // Sessions it kept were not asked for again.
          if (plan.filter((r) => r.byKeeper).length > 1 && asked.ids > 0) expect(asked.wanted).toBeLessThanOrEqual(asked.ids);
        }),
        { numRuns: 8 },
      );
    } finally {
      await cleanup();
    }
  }, 300_000);

  it('reads no history of the Active sessions it folded the page before', async () => {
    const { dir, cleanup } = await tempDir();
    const schema = freshSchema();
    schemas.push(schema);
    const store = new PostgresEventStore({ connectionString: PG_URL, schema });
    const manager = await SessionManager.open(dir, { store: new PostgresEventStore({ connectionString: PG_URL, schema }) });
    try {
      const folder = new SessionsTableFolder();
      const spawned: Session[] = [];
      for (let i = 0; i < 5; i += 1) spawned.push(await manager.spawnAgentSession('CodeGenAgent', `s${i}`, contextFor('CodeGeneration', i + 1)));
      await store.catchUpSessionsTable(folder);
      expect(folder.keptCount).toBe(5);
      const wanted: string[][] = [];
      const spy = Object.assign(Object.create(folder) as SessionsTableFolder, { historyWanted: (ids: readonly string[], level: number) => { const w = folder.historyWanted(ids, level); wanted.push([...w]); return w; } });
      await manager.completeSession(spawned[0]!.id, { success: true, output: 'done' });
      await manager.handoff(spawned[1]!.id, 'ReviewAgent', contextFor('Review', 2));
      await store.catchUpSessionsTable(spy);
      expect(wanted).toEqual([[]]);
      // Ended ones are not kept; the child is.
      expect(folder.keptCount).toBe(4);
      // Another process folds in between: what it kept is stale, and it asks for every history.
      await manager.completeSession(spawned[2]!.id, { success: true, output: 'done' });
      await store.catchUpSessionsTable(new SessionsTableFolder());
      await manager.completeSession(spawned[3]!.id, { success: true, output: 'done' });
      wanted.length = 0;
      await store.catchUpSessionsTable(spy);
      expect(wanted).toEqual([[spawned[3]!.id]]);
    } finally {
      await manager.close();
      await store.close();
      await cleanup();
    }
  }, 60_000);
});

async function apply(manager: SessionManager, step: Step, nextIssue: () => number): Promise<void> {
  const active = await manager.listActiveSessions();
  const failed = (await manager.querySessions({ status: 'Failed', limit: 50 })).sessions;
  const target = active.length === 0 ? undefined : active[step.pick % active.length]!;
  if (step.kind === 'spawn' || target === undefined) {
    if (step.kind === 'retry' && failed.length > 0) {
      await retry(manager, failed[step.pick % failed.length]!.id);
      return;
    }
    const issue = nextIssue();
    await manager.spawnAgentSession(AGENTS[issue % 4]!, `Resolve issue #${issue}`, contextFor('CodeGeneration', issue));
    return;
  }
  if (step.kind === 'complete') await manager.completeSession(target.id, { success: true, output: `done ${step.pick}`, totalCostUsd: 0.01, numTurns: 2 });
  else if (step.kind === 'fail') await manager.failSession(target.id, `failed ${step.pick}`);
  else if (step.kind === 'handoff') await manager.handoff(target.id, 'ReviewAgent', contextFor('Review', target.context.issueNumber ?? 1));
  else if (failed.length > 0) await retry(manager, failed[step.pick % failed.length]!.id);
}

/** Retries a Failed session; one retried already is refused, and nothing changes. */
async function retry(manager: SessionManager, id: string): Promise<void> {
  await manager.retrySession(id).catch((error: unknown) => {
    if (!isSessionError(error, 'ALREADY_EXISTS')) throw error;
  });
}

/** Every row of a schema's sessions table, and where the table stands. */
async function rowsOf(schema: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const rows = (await client.query(`SELECT * FROM ${schema}.sessions ORDER BY id`)).rows;
    const level = (await client.query(`SELECT seq FROM ${schema}.sessions_folded`)).rows;
    return { rows, level };
  } finally {
    await client.end();
  }
}
