import { randomUUID } from 'node:crypto';
import { appendFileSync, truncateSync } from 'node:fs';
import { cp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileEventStore, SessionManager, type EventSink, type PendingEvent, type SessionEvent } from '../../../src/index.js';
import { planDiskFaults } from '../../../src/store/file/disk-faults.js';
import { contextFor, tempDir } from '../../helpers/fixtures.js';

/*
 * An open reads the bulk of the log without the lock. A writer whose write fails (a full disk)
 * cuts its bytes off again, under the lock; an open that read some of them meanwhile must not
 * keep them. (A write is one frame, so a write cut short is never whole: what the open gave its
 * sink stands; test/faults/disk-fault-seam.test.ts.) Here the other writer acts exactly between
 * the open's unlocked read and its lock: inside the sink's first apply, which that read calls.
 */

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

/** A store of three sessions at `base`, and the bytes each of two other writers would append next (a spawn each). */
async function storeAndTwoNextWrites(): Promise<{ base: string; log: string; baseBytes: number; written: Buffer; undoneBy: Buffer }> {
  const base = join(dir, 'base');
  const manager = await SessionManager.open(base);
  for (let i = 0; i < 3; i += 1) await manager.spawnAgentSession('CodeGenAgent', `base ${i}`, contextFor());
  await manager.close();
  const log = join(base, 'events.ndjson');
  const baseBytes = (await readFile(log)).length;
  const next = async (name: string) => {
    const copy = join(dir, name);
    await cp(base, copy, { recursive: true });
    const writer = await SessionManager.open(copy);
    await writer.spawnAgentSession('ReviewAgent', name, contextFor());
    await writer.close();
    return (await readFile(join(copy, 'events.ndjson'))).subarray(baseBytes);
  };
  const undone = await next('undone');
  const written = await next('written');
  // Read from the start, so that the unlocked read gives the sink events (and the test its moment).
  await rm(join(base, 'sessions.json'));
  return { base, log, baseBytes, written, undoneBy: undone };
}

/** A spawn of a new session, as a writer would append it: `like`, with a new id and purpose. */
function sampleSpawn(like: SessionEvent): PendingEvent {
  const { seq: _seq, txSize: _txSize, ...event } = like as SessionEvent & { txSize?: number };
  return { ...event, id: randomUUID(), sessionId: randomUUID(), data: { ...(like.data as object), purpose: 'after' } } as PendingEvent;
}

/** A sink that collects events and, at its first apply, runs `meanwhile` (another process's work). */
function sinkThat(meanwhile: () => void): { sink: EventSink; events: SessionEvent[] } {
  const events: SessionEvent[] = [];
  let first = true;
  const revisions = new Map<string, number>();
  const sink: EventSink = {
    apply(batch) {
      events.push(...batch);
      for (const e of batch) revisions.set(e.sessionId, (revisions.get(e.sessionId) ?? 0) + 1);
      if (first) {
        first = false;
        meanwhile();
      }
    },
    revisionOf: (id) => revisions.get(id) ?? 0,
  };
  return { sink, events };
}

describe('a store that read bytes of a write another writer then undid', () => {
  it('bytes of a torn write it read without the lock are read again under it: the next write is read whole', async () => {
    const { base, log, baseBytes, written, undoneBy } = await storeAndTwoNextWrites();
    // The other writer's write tore part way: a prefix of its line is on disk.
    appendFileSync(log, undoneBy.subarray(0, Math.floor(undoneBy.length / 2)));
    const { sink, events } = sinkThat(() => {
      // It cuts its torn bytes off, and a writer appends a whole transaction where they were.
      truncateSync(log, baseBytes);
      appendFileSync(log, written);
    });
    const store = new FileEventStore(base);
    const report = await store.connect(sink, null);
    expect(report.tornTail).toBeNull();
    expect(events.map((e) => e.type)).toEqual(['SessionSpawned', 'SessionSpawned', 'SessionSpawned', 'SessionSpawned']);
    expect(events.at(-1)!.data).toMatchObject({ purpose: 'written' });
    await store.close();
  });

  it('bytes of a torn write cut off with nothing after them: the open ends where the log does', async () => {
    const { base, log, baseBytes, undoneBy } = await storeAndTwoNextWrites();
    appendFileSync(log, undoneBy.subarray(0, 40));
    const { sink, events } = sinkThat(() => truncateSync(log, baseBytes));
    const store = new FileEventStore(base);
    const report = await store.connect(sink, null);
    expect(report.tornTail).toBeNull();
    expect(events).toHaveLength(3);
    await store.close();
  });

  it('a writer whose cut of a torn write failed reads again from the last whole write at its next hold of the lock', async () => {
    const { base, log, baseBytes, written, undoneBy } = await storeAndTwoNextWrites();
    const { sink, events } = sinkThat(() => undefined);
    const store = new FileEventStore(base);
    await store.connect(sink, null);
    // A writer's torn write is on disk; this one reads it as it commits, and its cut fails (EIO).
    appendFileSync(log, undoneBy.subarray(0, Math.floor(undoneBy.length / 2)));
    const repair = planDiskFaults([{ site: 'log.truncate', code: 'EIO' }]);
    const spawn = sampleSpawn(events[0]!);
    await expect(store.append({ events: [spawn], expectedRevisions: new Map([[spawn.sessionId, 0]]) })).rejects.toMatchObject({ code: 'STORAGE' });
    repair();
    // Another writer cuts the torn bytes and writes a whole write there.
    truncateSync(log, baseBytes);
    appendFileSync(log, written);
    const [stored] = await store.append({ events: [spawn], expectedRevisions: new Map([[spawn.sessionId, 0]]) });
    expect(stored!.seq).toBe(5);
    expect(events.map((e) => e.data)).toMatchObject([{}, {}, {}, { purpose: 'written' }, { purpose: 'after' }]);
    await store.close();
  });
});
