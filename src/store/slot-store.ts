import type { ConcurrencyLimit } from '../domain/concurrency-limit.js';
import { claimSlot, enterSlotQueue, entryOf, limitSlots, queuePosition, releaseSlot, renewSlot, waitingInOrder, type SlotEntry, type SlotRequest, type SlotTableState } from '../domain/slot-table.js';

/** What one critical section over the slot table returns: the table to store (null: unchanged) and an answer. */
export interface SlotChange<T> {
  table: SlotTableState | null;
  result: T;
}

/**
 * Where a store keeps its concurrency slots, shared by every manager process and host on it:
 * files in `slots.json` under a lock file of their own, PostgreSQL in rows under a row lock.
 * One primitive: read the table, decide with the pure rules (domain/slot-table.ts), write what
 * changed, all in one critical section, with the store's own clock (PostgreSQL: the server's).
 */
export interface SlotTableStore {
  /** Runs `change` on the table in one critical section and stores the table it returns. */
  transact<T>(change: (table: SlotTableState, now: number) => SlotChange<T>): Promise<T>;
  /** Reads the table as it stands, without a lock and without creating anything (the read commands). */
  peek(): Promise<{ table: SlotTableState; now: number }>;
}

/**
 * What asking for a slot found: granted (with its fencing token; null when the store has no
 * limit, and nothing is kept), or waiting at a place in the queue.
 */
export type SlotAnswer = { granted: true; token: number | null } | { granted: false; position: number; waiting: number };

/** The slots as they stand: the limit, the agents holding one, and the queue, oldest first. */
export interface SlotView {
  limit: ConcurrencyLimit | null;
  running: SlotEntry[];
  queue: SlotEntry[];
  /** The store's clock as it was read (ms): leases compare with it. */
  now: number;
}

/**
 * The operations on a store's slot table, each one critical section of {@link SlotTableStore}:
 * take a place in the queue (and a slot when it is your turn), renew, hand back, take over an
 * adopted agent's slot, set the limit, look.
 */
export class SlotTable {
  constructor(private readonly store: SlotTableStore) {}

  /** The limit in force, or null: read without a lock. */
  async limit(): Promise<ConcurrencyLimit | null> {
    return (await this.store.peek()).table.limit;
  }

  /** Sets the store's limit (null removes it); waiters it lets through are granted at once. */
  async setLimit(limit: ConcurrencyLimit | null): Promise<void> {
    await this.store.transact((table, now) => ({ table: limitSlots(table, limit, now), result: undefined }));
  }

  /** Asks for a slot: enters the queue the first time, renews the place after; granted when its turn comes. */
  async enter(request: SlotRequest): Promise<SlotAnswer> {
    return this.store.transact((table, now) => {
      if (table.limit === null) return { table: null, result: { granted: true, token: null } };
      const next = enterSlotQueue(table, request, now);
      const entry = entryOf(next, request.holder, now)!;
      const answer: SlotAnswer = entry.token !== null ? { granted: true, token: entry.token } : { granted: false, position: queuePosition(next, request.holder)!, waiting: waitingInOrder(next.entries).length };
      return { table: sameTable(table, next) ? null : next, result: answer };
    });
  }

  /** Renews a held slot; false when its lease ran out or its token was superseded (the holder must stop). */
  async renew(holder: string, token: number): Promise<boolean> {
    return this.store.transact((table, now) => {
      const next = renewSlot(table, holder, token, now);
      return { table: next, result: next !== null };
    });
  }

  /**
   * Takes over the slot of an agent adopted from the dead manager `from` (its keeper key) with a
   * new token (null: the store has no limit); null when its slot ran out and none is free;
   * `'kept'` when another live manager took it over first.
   */
  async claim(request: SlotRequest, from: string): Promise<{ token: number | null } | null | 'kept'> {
    return this.store.transact<{ token: number | null } | null | 'kept'>((table, now) => {
      if (table.limit === null) return { table: null, result: { token: null } };
      const next = claimSlot(table, request, now, from);
      if (next === 'kept') return { table: null, result: 'kept' };
      return { table: next, result: next === null ? null : { token: entryOf(next, request.holder, now)!.token } };
    });
  }

  /** Gives a slot back (its `token`), or leaves the queue (`'waiting'`); the queue is served at once. */
  async release(holder: string, token: number | 'waiting'): Promise<void> {
    await this.store.transact((table, now) => ({ table: releaseSlot(table, holder, token, now), result: undefined }));
  }

  /** The limit, who runs and who waits, with expired entries left out: read without a lock. */
  async view(): Promise<SlotView> {
    const { table, now } = await this.store.peek();
    const live = table.entries.filter((e) => e.leaseUntil > now);
    return { limit: table.limit, running: live.filter((e) => e.token !== null), queue: waitingInOrder(live), now };
  }
}

/** A pipeline's entries in the queue of `view`, each with its place (1: next) among all who wait. */
export function queuedOfPipeline(view: SlotView, rootId: string): Array<{ entry: SlotEntry; place: number }> {
  return view.queue.flatMap((entry, i) => (entry.pipeline === rootId ? [{ entry, place: i + 1 }] : []));
}

/** Whether a change left the table as it was (a waiter looking again before its turn writes nothing). */
function sameTable(before: SlotTableState, after: SlotTableState): boolean {
  return JSON.stringify(before) === JSON.stringify(after);
}
