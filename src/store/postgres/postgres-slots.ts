import type pg from 'pg';
import type { ConcurrencyLimit } from '../../domain/concurrency-limit.js';
import { EMPTY_SLOT_TABLE, type SlotEntry, type SlotTableState } from '../../domain/slot-table.js';
import type { SlotChange, SlotTableStore } from '../slot-store.js';
import { withRetry } from './with-retry.js';
import { inTransaction } from './transaction.js';

interface LimitRow {
  concurrency: ConcurrencyLimit | null;
  next_token: string;
  next_order: string;
  now: number;
}

interface SlotRow {
  holder: string;
  agent: string;
  pipeline: string | null;
  keeper: string;
  queue_order: string;
  token: string | null;
  lease_ms: number;
  lease_until: number;
  since: number;
}

/**
 * A PostgreSQL store's concurrency slots (tables `slot_limit` and `slots`): each change locks
 * the one `slot_limit` row, reads the slots, decides with the pure rules and writes what
 * changed, in one transaction, with the server's clock, so managers on every host take turns
 * and agree on when a lease runs out. Every change may run again after a dropped connection:
 * each is idempotent for its holder (a claim repeated only takes a newer token).
 */
export class PostgresSlotTable implements SlotTableStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly ready: () => Promise<void>,
  ) {}

  async transact<T>(change: (table: SlotTableState, now: number) => SlotChange<T>): Promise<T> {
    await this.ready();
    return this.inTransaction('changing the concurrency slots', 'BEGIN', (client) => this.changeIn(client, change));
  }

  async peek(): Promise<{ table: SlotTableState; now: number }> {
    try {
      return await this.inTransaction('reading the concurrency slots', 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', (client) => this.readIn(client, ''));
    } catch (error) {
      // A store no manager of this version has opened yet has no slots, so no limit.
      if ((error as { cause?: { code?: string } }).cause?.code === '42P01') return { table: EMPTY_SLOT_TABLE, now: Date.now() };
      throw error;
    }
  }

  /**
   * Runs `work` in one transaction on a connection of the pool, begun with `begin`; all of it
   * again after a dropped connection (every change here may run twice: see the class).
   */
  private inTransaction<T>(what: string, begin: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return withRetry(what, () => inTransaction(() => this.pool.connect(), work, begin));
  }


  /** The table and the server's clock, read in the transaction of `client` (`lock`: `FOR UPDATE` to change it). */
  private async readIn(client: pg.PoolClient, lock: 'FOR UPDATE' | ''): Promise<{ table: SlotTableState; now: number }> {
    const s = this.schema;
    const head = (await client.query<LimitRow>(`SELECT concurrency, next_token::text, next_order::text, (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now FROM ${s}.slot_limit WHERE id ${lock}`)).rows[0];
    if (head === undefined) return { table: EMPTY_SLOT_TABLE, now: Date.now() };
    const rows = (
      await client.query<SlotRow>(
        `SELECT holder::text, agent, pipeline::text, keeper, queue_order::text, token::text, lease_ms,
                (extract(epoch FROM lease_until) * 1000)::float8 AS lease_until, (extract(epoch FROM since) * 1000)::float8 AS since
           FROM ${s}.slots`,
      )
    ).rows;
    return { table: { limit: head.concurrency, nextToken: Number(head.next_token), nextOrder: Number(head.next_order), entries: rows.map(entryOfRow) }, now: head.now };
  }

  private async changeIn<T>(client: pg.PoolClient, change: (table: SlotTableState, now: number) => SlotChange<T>): Promise<T> {
    const s = this.schema;
    const { table: before, now } = await this.readIn(client, 'FOR UPDATE');
    const { table, result } = change(before, now);
    if (table === null) return result;
    const kept = new Map(before.entries.map((e) => [e.holder, e]));
    const gone = before.entries.filter((e) => !table.entries.some((n) => n.holder === e.holder)).map((e) => e.holder);
    if (gone.length > 0) await client.query(`DELETE FROM ${s}.slots WHERE holder = ANY($1::uuid[])`, [gone]);
    for (const entry of table.entries) {
      if (JSON.stringify(kept.get(entry.holder)) === JSON.stringify(entry)) continue;
      await client.query(
        `INSERT INTO ${s}.slots (holder, agent, pipeline, keeper, queue_order, token, lease_ms, lease_until, since)
         VALUES ($1, $2, $3, $9, $4, $5, $6, to_timestamp($7::float8 / 1000), to_timestamp($8::float8 / 1000))
         ON CONFLICT (holder) DO UPDATE SET agent = EXCLUDED.agent, pipeline = EXCLUDED.pipeline, keeper = EXCLUDED.keeper, queue_order = EXCLUDED.queue_order,
           token = EXCLUDED.token, lease_ms = EXCLUDED.lease_ms, lease_until = EXCLUDED.lease_until, since = EXCLUDED.since`,
        [entry.holder, entry.agent, entry.pipeline, entry.order, entry.token, entry.leaseMs, entry.leaseUntil, entry.since, entry.keeper],
      );
    }
    await client.query(`UPDATE ${s}.slot_limit SET concurrency = $1::jsonb, next_token = $2, next_order = $3 WHERE id`, [table.limit === null ? null : JSON.stringify(table.limit), table.nextToken, table.nextOrder]);
    return result;
  }
}

function entryOfRow(row: SlotRow): SlotEntry {
  return {
    holder: row.holder,
    agent: row.agent,
    pipeline: row.pipeline,
    keeper: row.keeper,
    order: Number(row.queue_order),
    token: row.token === null ? null : Number(row.token),
    leaseMs: row.lease_ms,
    leaseUntil: row.lease_until,
    since: row.since,
  };
}
