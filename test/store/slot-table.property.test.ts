import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_SLOT_TABLE, claimSlot, enterSlotQueue, limitSlots, queuePosition, releaseSlot, renewSlot, settleSlots, type SlotTableState } from '../../src/domain/slot-table.js';

/*
 * The pure rules of the store's concurrency slots, against generated histories of many holders
 * asking, renewing, giving back, taking over, and time passing: whatever happens, no more
 * agents hold a slot than the limits allow, a waiter is never passed by a younger one that the
 * same limit held back, tokens only grow, and a late holder is fenced off.
 */

const HOLDERS = ['a', 'b', 'c', 'd', 'e', 'f'];
const AGENTS = ['CodeGenAgent', 'DeployAgent'];
const LEASE = 1000;

type Op =
  | { kind: 'enter'; holder: number; agent: number }
  | { kind: 'renew'; holder: number; stale: boolean }
  | { kind: 'release'; holder: number }
  | { kind: 'claim'; holder: number; agent: number }
  | { kind: 'time'; ms: number }
  | { kind: 'limit'; limit: number; deploy: number | null };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('enter' as const), holder: fc.nat(5), agent: fc.nat(1) }),
  fc.record({ kind: fc.constant('renew' as const), holder: fc.nat(5), stale: fc.boolean() }),
  fc.record({ kind: fc.constant('release' as const), holder: fc.nat(5) }),
  fc.record({ kind: fc.constant('claim' as const), holder: fc.nat(5), agent: fc.nat(1) }),
  fc.record({ kind: fc.constant('time' as const), ms: fc.integer({ min: 1, max: 1500 }) }),
  fc.record({ kind: fc.constant('limit' as const), limit: fc.integer({ min: 1, max: 4 }), deploy: fc.option(fc.integer({ min: 1, max: 2 })) }),
);

/** The slots held at `now`, in all and by agent. */
function heldCounts(table: SlotTableState, now: number): { all: number; byAgent: Map<string, number> } {
  const held = table.entries.filter((e) => e.leaseUntil > now && e.token !== null);
  const byAgent = new Map<string, number>();
  for (const e of held) byAgent.set(e.agent, (byAgent.get(e.agent) ?? 0) + 1);
  return { all: held.length, byAgent };
}

/**
 * Every rule that must hold of a table at `now`, given the slots held before the last change:
 * a count may rise only up to its limit (takeovers included); a limit lowered under agents
 * already running stops none of them, so a count above it may only fall.
 */
function checkInvariants(table: SlotTableState, now: number, before: ReturnType<typeof heldCounts>, tokensSeen: Set<number>): void {
  const held = table.entries.filter((e) => e.leaseUntil > now && e.token !== null);
  const after = heldCounts(table, now);
  const limit = table.limit;
  if (limit?.limit !== undefined && after.all > before.all) expect(after.all).toBeLessThanOrEqual(limit.limit);
  for (const [agent, most] of Object.entries(limit?.perAgent ?? {})) {
    const count = after.byAgent.get(agent) ?? 0;
    if (count > (before.byAgent.get(agent) ?? 0)) expect(count).toBeLessThanOrEqual(most);
  }
  expect(new Set(table.entries.map((e) => e.holder)).size).toBe(table.entries.length);
  for (const e of held) {
    expect(e.token!).toBeLessThan(table.nextToken);
    tokensSeen.add(e.token!);
  }
}

describe('the slot rules', () => {
  it('never let more agents hold a slot than the limits allow, whatever happens', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 3 }), (ops, start) => {
        let table = limitSlots(EMPTY_SLOT_TABLE, { limit: start, perAgent: { DeployAgent: 1 } }, 0);
        let now = 0;
        const tokens = new Map<string, number>();
        const seen = new Set<number>();
        let lastNextToken = table.nextToken;
        for (const o of ops) {
          if (o.kind === 'time') now += o.ms;
          const before = heldCounts(table, now);
          if (o.kind === 'time') {
            // Time passing frees slots; it never grants one by itself (the next change serves the queue).
          }
          if (o.kind === 'time') void 0;
          else if (o.kind === 'limit') table = limitSlots(table, { limit: o.limit, ...(o.deploy === null ? {} : { perAgent: { DeployAgent: o.deploy } }) }, now);
          else if (o.kind === 'enter') table = enterSlotQueue(table, { holder: HOLDERS[o.holder]!, agent: AGENTS[o.agent]!, pipeline: null, keeper: 'k', leaseMs: LEASE }, now);
          else if (o.kind === 'release') table = releaseSlot(table, HOLDERS[o.holder]!, tokens.get(HOLDERS[o.holder]!) ?? 'waiting', now);
          else if (o.kind === 'claim') {
            const claimed = claimSlot(table, { holder: HOLDERS[o.holder]!, agent: AGENTS[o.agent]!, pipeline: null, keeper: 'adopter', leaseMs: LEASE }, now, 'k');
            table = claimed === null || claimed === 'kept' ? table : claimed;
          }
          else {
            const holder = HOLDERS[o.holder]!;
            const token = tokens.get(holder);
            if (token !== undefined) {
              const renewed = renewSlot(table, holder, o.stale ? token - 1 : token, now);
              // A stale token is refused, always.
              if (o.stale) expect(renewed).toBeNull();
              table = renewed ?? table;
            }
          }
          for (const e of table.entries) if (e.token !== null) tokens.set(e.holder, e.token);
          expect(table.nextToken).toBeGreaterThanOrEqual(lastNextToken);
          lastNextToken = table.nextToken;
          checkInvariants(table, now, before, seen);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('serve the queue first come, first served: nobody passes an older waiter the store limit held back', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ holder: fc.nat(5), agent: fc.nat(1), releaseFirst: fc.boolean() }), { minLength: 1, maxLength: 30 }), (asks) => {
        let table = limitSlots(EMPTY_SLOT_TABLE, { limit: 2 }, 0);
        const now = 10;
        for (const ask of asks) {
          const holder = HOLDERS[ask.holder]!;
          if (ask.releaseFirst) {
            const held = table.entries.find((e) => e.token !== null);
            if (held !== undefined) table = releaseSlot(table, held.holder, held.token!, now);
          }
          table = enterSlotQueue(table, { holder, agent: AGENTS[ask.agent]!, pipeline: null, keeper: 'k', leaseMs: LEASE }, now);
          // Granted tokens follow queue order: a grant never goes to a younger waiter while an older one waits.
          const waiting = table.entries.filter((e) => e.token === null);
          const granted = table.entries.filter((e) => e.token !== null);
          for (const w of waiting) for (const g of granted) if (g.order > w.order) expect.fail(`${g.holder} (order ${g.order}) holds a slot while ${w.holder} (order ${w.order}) waits`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('let a waiter held back by its own agent limit be passed by other agents, not by its own', () => {
    let table = limitSlots(EMPTY_SLOT_TABLE, { limit: 3, perAgent: { DeployAgent: 1 } }, 0);
    const ask = (holder: string, agent: string) => (table = enterSlotQueue(table, { holder, agent, pipeline: null, keeper: 'k', leaseMs: LEASE }, 0));
    ask('d1', 'DeployAgent');
    ask('d2', 'DeployAgent');
    ask('c1', 'CodeGenAgent');
    ask('d3', 'DeployAgent');
    expect(table.entries.filter((e) => e.token !== null).map((e) => e.holder).sort()).toEqual(['c1', 'd1']);
    expect(queuePosition(table, 'd2')).toBe(1);
    expect(queuePosition(table, 'd3')).toBe(2);
    table = releaseSlot(table, 'd1', table.entries.find((e) => e.holder === 'd1')!.token!, 0);
    expect(table.entries.find((e) => e.holder === 'd2')!.token).not.toBeNull();
    expect(table.entries.find((e) => e.holder === 'd3')!.token).toBeNull();
  });

  it('free the slot of a holder nobody renews once its lease runs out, and fence the holder off', () => {
    let table = limitSlots(EMPTY_SLOT_TABLE, { limit: 1 }, 0);
    table = enterSlotQueue(table, { holder: 'a', agent: 'CodeGenAgent', pipeline: null, keeper: 'k', leaseMs: LEASE }, 0);
    table = enterSlotQueue(table, { holder: 'b', agent: 'CodeGenAgent', pipeline: null, keeper: 'k', leaseMs: LEASE }, 0);
    const tokenA = table.entries.find((e) => e.holder === 'a')!.token!;
    // b keeps its place by looking again; a renews no more.
    table = enterSlotQueue(table, { holder: 'b', agent: 'CodeGenAgent', pipeline: null, keeper: 'k', leaseMs: LEASE }, 700);
    expect(table.entries.find((e) => e.holder === 'b')!.token).toBeNull();
    table = settleSlots(table, 1001);
    expect(table.entries.find((e) => e.holder === 'b')!.token).toBeGreaterThan(tokenA);
    expect(renewSlot(table, 'a', tokenA, 1001)).toBeNull();
  });

  it('give an adopter the slot its agent holds under a new token, and fence the old holder off', () => {
    let table = limitSlots(EMPTY_SLOT_TABLE, { limit: 1 }, 0);
    table = enterSlotQueue(table, { holder: 'a', agent: 'CodeGenAgent', pipeline: null, keeper: 'k', leaseMs: LEASE }, 0);
    const old = table.entries[0]!.token!;
    table = claimSlot(table, { holder: 'a', agent: 'CodeGenAgent', pipeline: null, keeper: 'adopter', leaseMs: LEASE }, 500, 'k') as SlotTableState;
    // A second adopter finds the slot renewed by a live keeper, not by the dead one: it leaves it alone.
    expect(claimSlot(table, { holder: 'a', agent: 'CodeGenAgent', pipeline: null, keeper: 'late', leaseMs: LEASE }, 510, 'k')).toBe('kept');
    const fresh = table.entries[0]!.token!;
    expect(fresh).toBeGreaterThan(old);
    expect(renewSlot(table, 'a', old, 600)).toBeNull();
    expect(renewSlot(table, 'a', fresh, 600)).not.toBeNull();
    // Its lease ran out and another took the one slot: the adopted agent gets none.
    table = enterSlotQueue(table, { holder: 'b', agent: 'CodeGenAgent', pipeline: null, keeper: 'k', leaseMs: LEASE }, 1200);
    table = settleSlots(table, 1600);
    expect(table.entries.find((e) => e.holder === 'b')!.token).toBeGreaterThan(fresh);
    expect(claimSlot(table, { holder: 'a', agent: 'CodeGenAgent', pipeline: null, keeper: 'adopter', leaseMs: LEASE }, 1600, 'k')).toBeNull();
  });
});
