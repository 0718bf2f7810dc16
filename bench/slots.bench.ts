import { join } from 'node:path';
import pg from 'pg';
import { v4 as uuidv4 } from 'uuid';
import { ClaudeRunner, PostgresEventStore, SessionManager } from '../src/index.js';
import { FileSlotTable } from '../src/store/file/file-slots.js';
import { SlotTable, type SlotTableStore } from '../src/store/slot-store.js';
import { measurePair, type Row } from './measure.js';
import { scratch } from './work-dir.js';

const RESULT = '{"type":"result","is_error":false,"result":"ok","num_turns":1}\n';
/** Other agents holding slots meanwhile, and some waiting: a store that is busy. */
const RUNNING = 40;
/** Waiting DeployAgents (one more of them runs). */
const WAITING = 10;

/**
 * What a store's concurrency slot costs a step, with the default options, against the step's own
 * spawn time, in the same run, alternately: ours is one slot taken and handed back (a grant, then a
 * release that serves the queue) on a table that holds 41 other agents' slots and 10 waiters;
 * the baseline is one step of the same manager under the same limit: spawn, its agent (printf of
 * a result line) started and its end recorded, slot included. Both stores.
 */
export async function slotBenches(runs: number, pgUrl: string): Promise<Row[]> {
  const rows: Row[] = [];
  const { dir, done } = await scratch('slots');
  const schema = `miyabi_bench_slots_${uuidv4().replaceAll('-', '').slice(0, 8)}`;
  try {
    const kinds: Array<{ name: string; open: () => Promise<{ manager: SessionManager; table: SlotTableStore }> }> = [
      {
        name: 'files',
        open: async () => ({ manager: await SessionManager.open(join(dir, 'files'), { runner: runner() }), table: new FileSlotTable(join(dir, 'files')) }),
      },
      {
        name: 'PostgreSQL',
        open: async () => {
          const store = new PostgresEventStore({ connectionString: pgUrl, schema });
          return { manager: await SessionManager.open(join(dir, 'pg-cache'), { runner: runner(), store }), table: store.slots };
        },
      },
    ];
    for (const kind of kinds) {
      const { manager, table } = await kind.open();
      try {
        // One slot left for the step; the waiters are held back by their own agent's limit, so the step may pass them.
        await manager.setConcurrencyLimit({ limit: RUNNING + 2, perAgent: { DeployAgent: 1 } });
        const slots = new SlotTable(table);
        // The busy table: others hold slots and wait, as on a store many managers share.
        for (let i = 0; i < RUNNING; i += 1) await slots.enter({ holder: uuidv4(), agent: 'CodeGenAgent', pipeline: null, keeper: 'bench/1/-', leaseMs: 3_600_000 });
        for (let i = 0; i <= WAITING; i += 1) await slots.enter({ holder: uuidv4(), agent: 'DeployAgent', pipeline: null, keeper: 'bench/1/-', leaseMs: 3_600_000 });
        const { ours, baseline } = await measurePair(
          runs,
          3,
          async () => {
            const holder = uuidv4();
            const start = performance.now();
            const answer = await slots.enter({ holder, agent: 'ReviewAgent', pipeline: null, keeper: 'bench/2/-', leaseMs: 30_000 });
            if (!answer.granted || answer.token === null) throw new Error('the bench slot was not granted');
            await slots.release(holder, answer.token);
            return performance.now() - start;
          },
          async () => {
            const start = performance.now();
            const session = await manager.spawnAgentSession('ReviewAgent', 'bench', { issueNumber: 1, currentPhase: 'Review', worktreePath: dir });
            await manager.waitForAgent(session.id);
            return performance.now() - start;
          },
        );
        rows.push({
          name: `slot acquire + release per step, ${kind.name}, under a store limit (not the default: ${RUNNING + 1} held, ${WAITING} waiting)`,
          unit: 'ms',
          ours,
          baseline,
          baselineName: "the step's spawn under the same limit (spawn, agent started, end recorded)",
          ratio: baseline.median / ours.median,
          note: `${((100 * ours.median) / baseline.median).toFixed(1)}% of the step's spawn time`,
        });
      } finally {
        await manager.close();
      }
    }
    return rows;
  } finally {
    await dropSchema(pgUrl, schema);
    await done();
  }
}

function runner(): ClaudeRunner {
  return new ClaudeRunner({ command: 'printf', args: () => [RESULT], completeOnSuccess: true });
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}
