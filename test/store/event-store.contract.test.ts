import { v4 as uuidv4 } from 'uuid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptySessionsState, evolveSessions, type EventSink, type EventStore, type PendingEvent, type SessionEvent } from '../../src/index.js';
import { FileEventStore } from '../../src/store/file/file-event-store.js';
import { tempDir } from '../helpers/fixtures.js';
import { STORE_KINDS } from '../helpers/stores.js';

async function countEvents(store: EventStore): Promise<number> {
  let n = 0;
  for await (const batch of store.readAll()) n += batch.length;
  return n;
}

function spawnEvent(sessionId = uuidv4()): PendingEvent {
  return {
    id: uuidv4(), type: 'SessionSpawned', sessionId, timestamp: '2026-01-01T00:00:00.000Z', schemaVersion: 4,
    data: { agentName: 'A', purpose: 'p', context: { issueNumber: 1, currentPhase: 'Test', worktreePath: '/w', previousResults: [] }, parentSession: null },
  };
}

function recordingSink(): EventSink & { seen: SessionEvent[]; batches: number[] } {
  const state = emptySessionsState();
  const seen: SessionEvent[] = [];
  const batches: number[] = [];
  return {
    seen,
    batches,
    apply: (events) => {
      for (const e of events) evolveSessions(state, e);
      seen.push(...events);
      batches.push(events.length);
    },
    revisionOf: (id) => state.sessions.get(id)?.revision ?? 0,
  };
}

describe.each(STORE_KINDS)('every EventStore: $name', (kind) => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let place: ReturnType<(typeof kind)['place']>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    place = kind.place(dir);
  });
  afterEach(async () => {
    await place.drop();
    await cleanup();
  });

  it('refuses an append whose expected revision is stale with CONFLICT, writing none of it', async () => {
    const store = place.open();
    await store.connect(recordingSink(), null);
    const event = spawnEvent();
    await store.append({ events: [event], expectedRevisions: new Map([[event.sessionId, 0]]) });
    const again = { ...spawnEvent(event.sessionId), id: uuidv4() };
    await expect(store.append({ events: [again, spawnEvent()], expectedRevisions: new Map([[event.sessionId, 0]]) }))
      .rejects.toMatchObject({ code: 'CONFLICT', sessionId: event.sessionId });
    expect(await countEvents(store)).toBe(1);
    await store.close();
  });

  it('catches up with another writer before appending, so seq stays gap-free across stores', async () => {
    const a = place.open();
    const b = place.open();
    const sinkA = recordingSink();
    const sinkB = recordingSink();
    await a.connect(sinkA, null);
    await b.connect(sinkB, null);
    const first = spawnEvent();
    await b.append({ events: [first], expectedRevisions: new Map([[first.sessionId, 0]]) });
    const second = spawnEvent();
    const [stored] = await a.append({ events: [second], expectedRevisions: new Map([[second.sessionId, 0]]) });
    expect(stored!.seq).toBe(2);
    expect(sinkA.seen.map((e) => e.sessionId)).toEqual([first.sessionId, second.sessionId]);
    // A store that listens (PostgreSQL) may have been told already; either way refresh delivers it once.
    expect(await b.refresh()).toBeLessThanOrEqual(1);
    expect(sinkB.seen.map((e) => e.seq)).toEqual([1, 2]);
    await a.close();
    await b.close();
  });

  it('group-commits 200 concurrent appends into consecutive seqs, each resolving with its own events', async () => {
    const store = place.open();
    const sink = recordingSink();
    await store.connect(sink, null);
    const events = Array.from({ length: 200 }, () => spawnEvent());
    const results = await Promise.all(events.map((e) => store.append({ events: [e], expectedRevisions: new Map([[e.sessionId, 0]]) })));
    expect(results.map((r) => r[0]!.id)).toEqual(events.map((e) => e.id));
    expect(results.map((r) => r[0]!.seq).sort((x, y) => x - y)).toEqual(events.map((_, i) => i + 1));
    expect(sink.seen).toHaveLength(200);
    // Grouped: the 200 reached the store (and its sink) in far fewer commits than appends.
    expect(sink.batches.length).toBeLessThanOrEqual(50);
    expect(Math.max(...sink.batches)).toBeGreaterThan(1);
    await store.close();
  });

  it('a closed store refuses appends with CLOSED', async () => {
    const store = place.open();
    await store.connect(recordingSink(), null);
    await store.close();
    await expect(store.append({ events: [spawnEvent()], expectedRevisions: new Map() })).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('FileEventStore only', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it("with durability 'none' appends still reach the file and read back", async () => {
    const store = new FileEventStore(dir, { durability: 'none' });
    await store.connect(recordingSink(), null);
    const e = spawnEvent();
    await store.append({ events: [e], expectedRevisions: new Map() });
    await store.close();
    const batches: SessionEvent[][] = [];
    for await (const batch of new FileEventStore(dir).readAll()) batches.push(batch);
    expect(batches.flat().map((x) => x.id)).toEqual([e.id]);
  });

});
