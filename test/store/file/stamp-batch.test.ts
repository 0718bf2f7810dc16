import { v4 as uuidv4 } from 'uuid';
import { describe, expect, it } from 'vitest';
import type { PendingEvent } from '../../../src/index.js';
import { EVENT_SCHEMA_VERSION } from '../../../src/events/event-envelope.js';
import { stampBatch } from '../../../src/store/file/stamp-batch.js';

const AT = '2026-11-30T10:00:00.000Z';

/** A spawn of a new session, as a decision makes it (no seq yet). */
function spawn(sessionId = uuidv4(), extra: Record<string, unknown> = {}): PendingEvent {
  return {
    id: uuidv4(),
    type: 'SessionSpawned',
    sessionId,
    timestamp: AT,
    schemaVersion: EVENT_SCHEMA_VERSION,
    ...extra,
    data: { agentName: 'CodeGenAgent', purpose: 'p', context: { issueNumber: 1, currentPhase: 'CodeGeneration', worktreePath: '/w', previousResults: [] }, parentSession: null },
  } as PendingEvent;
}

function completed(sessionId: string): PendingEvent {
  return { id: uuidv4(), type: 'SessionCompleted', sessionId, timestamp: AT, schemaVersion: EVENT_SCHEMA_VERSION, data: {} } as PendingEvent;
}

/** An append waiting in a group commit, that remembers why it was refused. */
function waiting(events: PendingEvent[], expected: Array<[string, number]>) {
  const item = { request: { events, expectedRevisions: new Map(expected) }, refused: null as unknown, reject: (error: unknown) => void (item.refused = error) };
  return item;
}

describe('stamping a group commit', () => {
  it('gives the accepted appends consecutive seqs after the last, and one frame (txSize on the first event) for the whole write', () => {
    const a = uuidv4();
    const b = uuidv4();
    const batch = [waiting([spawn(a)], [[a, 0]]), waiting([spawn(b), completed(b)], [[b, 0]])];
    const { accepted, events } = stampBatch(batch, 41, () => 0, 'here');
    expect(events.map((e) => [e.seq, e.txSize])).toEqual([[42, 3], [43, undefined], [44, undefined]]);
    expect(accepted.map((item) => item.stored.map((e) => e.seq))).toEqual([[42], [43, 44]]);
    // What each append was told it stored is what the write holds.
    expect(accepted.flatMap((item) => item.stored)).toEqual(events);
  });

  it('frames a lone append of several events as its own transaction, and a lone event not at all', () => {
    const a = uuidv4();
    expect(stampBatch([waiting([spawn(a), completed(a)], [[a, 0]])], 0, () => 0, 'here').events.map((e) => e.txSize)).toEqual([2, undefined]);
    expect(stampBatch([waiting([spawn(a)], [[a, 0]])], 0, () => 0, 'here').events[0]!.txSize).toBeUndefined();
  });

  it('refuses an append whose session moved, counting the appends accepted before it in the same write, and writes nothing of it', () => {
    const a = uuidv4();
    const first = waiting([spawn(a)], [[a, 0]]);
    const second = waiting([spawn(a)], [[a, 0]]);
    const after = waiting([completed(a)], [[a, 1]]);
    const { accepted, events } = stampBatch([first, second, after], 7, () => 0, 'the log');
    expect(accepted.map((item) => item.pending)).toEqual([first, after]);
    expect(events.map((e) => e.seq)).toEqual([8, 9]);
    expect(second.refused).toMatchObject({ code: 'CONFLICT', message: `session ${a} changed in the log (revision 1, expected 0)`, sessionId: a });
    expect(first.refused).toBeNull();
    // The store's own revision counts too.
    const stale = waiting([completed(a)], [[a, 2]]);
    stampBatch([stale], 0, (id) => (id === a ? 3 : 0), 'here');
    expect(stale.refused).toMatchObject({ code: 'CONFLICT', message: `session ${a} changed in here (revision 3, expected 2)` });
  });

  it('refuses an event the schema refuses (INVALID_INPUT, naming the field), and the rest of the write goes on', () => {
    const good = waiting([spawn()], []);
    const bad = waiting([{ ...spawn(), sessionId: 'not-a-uuid' } as PendingEvent], []);
    const { accepted, events } = stampBatch([bad, good], 0, () => 0, 'here');
    expect(bad.refused).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/^refusing to write an invalid event: sessionId: /) });
    expect(accepted.map((item) => item.pending)).toEqual([good]);
    expect(events.map((e) => [e.seq, e.txSize])).toEqual([[1, undefined]]);
    // Every complaint, each with its field's path.
    const twice = waiting([{ ...spawn(), data: { agentName: '../x', purpose: 7, context: {}, parentSession: null } } as unknown as PendingEvent], []);
    stampBatch([twice], 0, () => 0, 'here');
    expect((twice.refused as Error).message).toMatch(/^refusing to write an invalid event: data\.agentName: [^;]+; data\.purpose: /);
  });

  it('reframes the first event of a write whose earlier append was refused, and keeps every field in one order', () => {
    const a = uuidv4();
    const b = uuidv4();
    const refused = waiting([spawn(a), completed(a)], [[a, 5]]);
    const one = waiting([spawn(a, { by: 'alice' }), completed(a)], [[a, 0]]);
    const two = waiting([spawn(b, { imported: true })], [[b, 0]]);
    const { accepted, events } = stampBatch([refused, one, two], 0, () => 0, 'here');
    expect(events.map((e) => [e.seq, e.txSize])).toEqual([[1, 3], [2, undefined], [3, undefined]]);
    expect(accepted[0]!.stored[0]).toBe(events[0]);
    expect(Object.keys(events[0]!)).toEqual(['seq', 'id', 'type', 'sessionId', 'timestamp', 'schemaVersion', 'txSize', 'by', 'data']);
    expect(Object.keys(events[2]!)).toEqual(['seq', 'id', 'type', 'sessionId', 'timestamp', 'schemaVersion', 'imported', 'data']);
    // A write of one append whose frame was its own needs no reframing: the same objects.
    const lone = waiting([spawn(b), completed(b)], [[b, 0]]);
    const stamped = stampBatch([lone], 0, () => 0, 'here');
    expect(stamped.accepted[0]!.stored[0]).toBe(stamped.events[0]);
    expect(stamped.events[0]!.txSize).toBe(2);
  });
});
