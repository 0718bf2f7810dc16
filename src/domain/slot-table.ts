import type { ConcurrencyLimit } from './concurrency-limit.js';

/*
 * Who may run an agent now: the pure rules of a store's concurrency slots. A store keeps the
 * table (files: slots.json under its own lock; PostgreSQL: rows under a row lock) and runs these
 * functions on it inside one critical section, so every manager process and host decides the
 * same way. Time is a number of ms given by the store (PostgreSQL: the server's clock).
 */

/** One entry: an agent that holds a slot (`token` set) or waits in the queue for one (`token` null). */
export interface SlotEntry {
  /** The session the slot is for: the coming session's id while it waits, its agent's once it runs. */
  holder: string;
  agent: string;
  /** The pipeline's root, when the agent is a pipeline's step. */
  pipeline: string | null;
  /** The manager process that renews it (`host/pid/start time`): the one that follows the agent. */
  keeper: string;
  /** Its place in the queue: first come, first served. */
  order: number;
  /** The fencing token of its grant: every grant (and every takeover) gets a greater one. Null while it waits. */
  token: number | null;
  /** How long each renewal lasts. */
  leaseMs: number;
  /** When it expires unless renewed (ms). An expired entry is gone: its slot, or its place, is free. */
  leaseUntil: number;
  /** When it entered the queue (ms). */
  since: number;
}

/** A store's slot table. */
export interface SlotTableState {
  /** Null: no limit; every agent runs at once and nothing is kept. */
  limit: ConcurrencyLimit | null;
  nextToken: number;
  nextOrder: number;
  entries: SlotEntry[];
}

/** The table of a store that never had a limit. */
export const EMPTY_SLOT_TABLE: SlotTableState = { limit: null, nextToken: 1, nextOrder: 1, entries: [] };

/** A ticket asking for a slot. */
export interface SlotRequest {
  holder: string;
  agent: string;
  pipeline: string | null;
  /** The manager process asking (see {@link SlotEntry.keeper}). */
  keeper: string;
  leaseMs: number;
}

/** The key of a manager process in {@link SlotEntry.keeper}. */
export function keeperKey(process: { host: string; pid: number; startTime: string | null }): string {
  return `${process.host}/${process.pid}/${process.startTime ?? '-'}`;
}

/** The entries waiting for a slot, in queue order (first come, first served). */
export function waitingInOrder(entries: readonly SlotEntry[]): SlotEntry[] {
  return entries.filter((e) => e.token === null).sort((a, b) => a.order - b.order);
}

/**
 * What keeps one more `agent` from holding a slot, with `running` slots held in all and
 * `ofAgent` of them by that agent: the store's limit, the agent's own, or nothing (null).
 */
function heldBack(limit: ConcurrencyLimit | null, running: number, agent: string, ofAgent: number): 'store' | 'agent' | null {
  if (limit?.limit !== undefined && running >= limit.limit) return 'store';
  const most = limit?.perAgent?.[agent];
  return most !== undefined && ofAgent >= most ? 'agent' : null;
}

/**
 * The table once expired entries are dropped and the queue is served: oldest first, each waiter
 * granted while the store's limit and its agent's limit allow. A waiter held back by its own
 * agent's limit does not hold back the younger waiters of other agents; one held back by the
 * store's limit does (nobody younger may pass it).
 */
export function settleSlots(table: SlotTableState, now: number): SlotTableState {
  const live = table.entries.filter((entry) => entry.leaseUntil > now);
  let nextToken = table.nextToken;
  const held = live.filter((entry) => entry.token !== null);
  const byAgent = new Map<string, number>();
  for (const entry of held) byAgent.set(entry.agent, (byAgent.get(entry.agent) ?? 0) + 1);
  let running = held.length;
  const entries = live.map((entry) => ({ ...entry }));
  for (const entry of waitingInOrder(entries)) {
    const blocked = heldBack(table.limit, running, entry.agent, byAgent.get(entry.agent) ?? 0);
    if (blocked === 'store') break;
    if (blocked === 'agent') continue;
    entry.token = nextToken++;
    entry.leaseUntil = now + entry.leaseMs;
    running += 1;
    byAgent.set(entry.agent, (byAgent.get(entry.agent) ?? 0) + 1);
  }
  return { ...table, nextToken, entries };
}

/**
 * Puts a ticket in the queue, or renews the one it has there (a waiter looks again), then
 * serves the queue. A waiter's lease is renewed only once a third of it has passed, so a
 * waiter looking often does not write the table each time.
 */
export function enterSlotQueue(table: SlotTableState, request: SlotRequest, now: number): SlotTableState {
  const found = table.entries.find((entry) => entry.holder === request.holder && entry.leaseUntil > now);
  if (found === undefined) {
    const entry: SlotEntry = { ...request, order: table.nextOrder, token: null, leaseUntil: now + request.leaseMs, since: now };
    return settleSlots({ ...table, nextOrder: table.nextOrder + 1, entries: [...table.entries.filter((e) => e.holder !== request.holder), entry] }, now);
  }
  if (found.token === null && found.leaseUntil - now < (found.leaseMs * 2) / 3) {
    return settleSlots(withEntry(table, { ...found, leaseUntil: now + found.leaseMs }), now);
  }
  return settleSlots(table, now);
}

/** Renews a held slot: only with the token of its grant and before it expired (a late holder is fenced off). */
export function renewSlot(table: SlotTableState, holder: string, token: number, now: number): SlotTableState | null {
  const entry = table.entries.find((e) => e.holder === holder);
  if (entry === undefined || entry.token !== token || entry.leaseUntil <= now) return null;
  return withEntry(table, { ...entry, leaseUntil: now + entry.leaseMs });
}

/**
 * Takes over the slot of a running agent whose manager (`from`, its keeper key) died: the slot
 * it holds, with a new token so the old keeper, should it come back, is fenced off; or, its
 * lease having run out, a free slot at once (the agent runs already: it does not queue). Null
 * when no slot is free; `'kept'` when another live manager took it over first and renews it
 * (that one follows the agent: the caller leaves it alone).
 */
export function claimSlot(table: SlotTableState, request: SlotRequest, now: number, from: string): SlotTableState | null | 'kept' {
  const settled = settleSlots(table, now);
  const entry = settled.entries.find((e) => e.holder === request.holder);
  if (entry?.token != null && entry.keeper !== from && entry.keeper !== request.keeper) return 'kept';
  const order = entry?.order ?? settled.nextOrder;
  // A holder is one agent's session: what its entry says of it stands.
  const agent = entry?.agent ?? request.agent;
  const claimed: SlotEntry = { ...request, agent, pipeline: entry?.pipeline ?? request.pipeline, order, token: settled.nextToken, leaseUntil: now + request.leaseMs, since: entry?.since ?? now };
  const others = settled.entries.filter((e) => e.holder !== request.holder);
  if (entry?.token === null || entry === undefined) {
    const held = others.filter((e) => e.token !== null);
    if (heldBack(settled.limit, held.length, agent, held.filter((e) => e.agent === agent).length) !== null) return null;
  }
  return { ...settled, nextToken: settled.nextToken + 1, nextOrder: entry === undefined ? settled.nextOrder + 1 : settled.nextOrder, entries: [...others, claimed] };
}

/**
 * Gives a slot back (its `token`), or gives up a place in the queue and whatever it was granted
 * meanwhile (`'waiting'`: the holder never started); a stale token gives nothing back. Then
 * serves the queue.
 */
export function releaseSlot(table: SlotTableState, holder: string, token: number | 'waiting', now: number): SlotTableState {
  const entries = table.entries.filter((e) => !(e.holder === holder && (token === 'waiting' || e.token === token)));
  return settleSlots({ ...table, entries }, now);
}

/** Sets (or, with null, removes) the limit, then serves the queue under it. */
export function limitSlots(table: SlotTableState, limit: ConcurrencyLimit | null, now: number): SlotTableState {
  return settleSlots({ ...table, limit }, now);
}

/** The entry of a holder, if it has one that has not expired. */
export function entryOf(table: SlotTableState, holder: string, now: number): SlotEntry | undefined {
  return table.entries.find((e) => e.holder === holder && e.leaseUntil > now);
}

/** Where a waiting holder stands in the queue (1 = next), or null if it does not wait. */
export function queuePosition(table: SlotTableState, holder: string): number | null {
  const index = waitingInOrder(table.entries).findIndex((e) => e.holder === holder);
  return index === -1 ? null : index + 1;
}

function withEntry(table: SlotTableState, entry: SlotEntry): SlotTableState {
  return { ...table, entries: table.entries.map((e) => (e.holder === entry.holder ? entry : e)) };
}
