import { lstatSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionManager, emptySessionsState, evolveSessions, type EventSink, type PendingEvent, type Session, type SessionEvent } from '../../src/index.js';
import { FileEventStore } from '../../src/store/file/file-event-store.js';
import { encodeEventLine } from '../../src/store/file/line-codec.js';
import { auditLog } from '../../src/audit/audit-log.js';
import { planDiskFaults, type DiskFault, type DiskSite } from '../../src/store/file/disk-faults.js';
import { tempDir } from '../helpers/fixtures.js';
import { logBytes } from '../helpers/log-files.js';

/*
 * Disk faults at each file operation the store depends on, injected through the store's seam
 * (no root, no tmpfs): the call rejects with STORAGE naming the error, a refused event is never
 * seen (not now, not after a reopen), no acknowledged one is lost, nothing half-written stays,
 * and once the disk is repaired the same manager works on. All with the default options.
 */
const CODES = ['ENOSPC', 'EACCES', 'EIO'] as const;
const context = { issueNumber: 5, currentPhase: 'Test' as const, worktreePath: '/w' };

function spawnEvent(): PendingEvent {
  return {
    id: uuidv4(), type: 'SessionSpawned', sessionId: uuidv4(), timestamp: '2026-01-01T00:00:00.000Z', schemaVersion: 4,
    data: { agentName: 'A', purpose: 'p', context: { ...context, previousResults: [] }, parentSession: null },
  };
}

/** Resolves once the lock (a symlink naming its holder) is gone; fails after 10 s. */
async function lockReleased(path: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; lstatSync(path, { throwIfNoEntry: false }) !== undefined; ) {
    if (Date.now() > deadline) throw new Error(`${path} still held after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

function sinkOf(): EventSink & { seen: SessionEvent[] } {
  const state = emptySessionsState();
  const seen: SessionEvent[] = [];
  return {
    seen,
    apply: (events) => {
      for (const e of events) evolveSessions(state, e);
      seen.push(...events);
    },
    revisionOf: (id) => state.sessions.get(id)?.revision ?? 0,
  };
}

describe('disk faults through the seam', () => {
  let dir: string;
  let store: string;
  let cleanup: () => Promise<void>;
  let repair: () => void = () => {};
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    store = join(dir, 'store');
  });
  afterEach(async () => {
    repair();
    await cleanup();
  });
  const inject = (faults: DiskFault[]) => (repair = planDiskFaults(faults));

  /** A manager with some history: a handoff, an ended session, Active ones, and a checkpoint. */
  async function seeded(): Promise<{ manager: SessionManager; acked: Map<string, Session['status']> }> {
    const manager = await SessionManager.open(store);
    const acked = new Map<string, Session['status']>();
    const a = await manager.spawnAgentSession('CodeGenAgent', 'seed a', context);
    const child = await manager.handoff(a.id, 'ReviewAgent', { ...context, currentPhase: 'Review' });
    const b = await manager.spawnAgentSession('CodeGenAgent', 'seed b', context);
    await manager.failSession(b.id, 'seeded failure');
    acked.set(a.id, 'HandedOff').set(child.id, 'Active').set(b.id, 'Failed');
    await manager.checkpoint();
    return { manager, acked };
  }

  /** After the repair: every acknowledged session as it was acknowledged, nothing refused, a clean log. */
  async function expectIntact(acked: Map<string, Session['status']>, refused: string[]): Promise<void> {
    expect((await readdir(store)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect((await auditLog(store)).findings).toEqual([]);
    const reopened = await SessionManager.open(store);
    const sessions = new Map((await reopened.listSessions()).map((s) => [s.id, s.status]));
    expect(sessions).toEqual(acked);
    for (const id of refused) expect(sessions.has(id)).toBe(false);
    await reopened.close();
  }

  async function refusedSpawn(manager: SessionManager, code: string): Promise<string> {
    const id = uuidv4();
    await expect(manager.spawnAgentSession('A', 'refused', context, { sessionId: id })).rejects.toMatchObject({
      code: 'STORAGE', message: expect.stringContaining(code),
    });
    expect(await manager.getSession(id)).toBeUndefined();
    return id;
  }

  for (const code of CODES) {
    for (const [site, afterBytes] of [['log.write', 0], ['log.write', 57], ['lock.create', 0]] as const) {
      it(`${code} at ${site}${afterBytes > 0 ? ` after ${afterBytes} bytes (a torn write)` : ''}: the append is refused and changes nothing`, async () => {
        const { manager, acked } = await seeded();
        // The last append's lease may still hold the lock: then the next append would not create
        // it, and the fault would never be reached. Its lease runs out by itself (2 ms by default).
        if (site === 'lock.create') await lockReleased(join(store, 'events.lock'));
        const before = await logBytes(store);
        inject([{ site, code, afterBytes }]);
        const refused = await refusedSpawn(manager, code);
        expect(await logBytes(store)).toBe(before);
        await expect(manager.handoff([...acked.keys()][1]!, 'TestAgent', { ...context })).rejects.toMatchObject({ code: 'STORAGE' });
        repair();
        const after = await manager.spawnAgentSession('A', 'the disk is back', context);
        acked.set(after.id, 'Active');
        await manager.close();
        await expectIntact(acked, [refused]);
      });
    }
  }

  it('a write torn exactly after the first of two group-committed appends, and a repair that fails too: neither is ever seen', async () => {
    const log = new FileEventStore(store);
    await log.connect(sinkOf(), null);
    const appendSpawn = (event = spawnEvent()) => log.append({ events: [event], expectedRevisions: new Map() });
    const [probe] = await appendSpawn();
    const before = await logBytes(store);
    // The next write (one append alone, seq 2) goes through; the one after it (two appends
    // queued meanwhile, one group commit, seqs 3 and 4) is cut exactly after its first line,
    // and cutting it back fails too. That line's length is known ahead: its event is.
    const [alone, first, second] = [spawnEvent(), spawnEvent(), spawnEvent()];
    const { id, type, sessionId, timestamp, schemaVersion, data } = first;
    const firstLine = encodeEventLine({ seq: 3, id, type, sessionId, timestamp, schemaVersion, txSize: 2, data } as SessionEvent);
    inject([{ site: 'log.write', code: 'EIO', afterCalls: 1, afterBytes: Buffer.byteLength(firstLine) }, { site: 'log.truncate', code: 'EIO' }]);
    const results = await Promise.allSettled([appendSpawn(alone), appendSpawn(first), appendSpawn(second)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    // The first refused append's line is whole on disk: only the write's frame tells it was torn.
    expect((await logBytes(store)).slice(Buffer.byteLength(before)).split('\n').slice(1)).toEqual([firstLine.slice(0, -1), '']);
    repair();
    const [after] = await appendSpawn();
    await log.close();
    const expected = [probe!.sessionId, (results[0] as PromiseFulfilledResult<SessionEvent[]>).value[0]!.sessionId, after!.sessionId];
    const reread = new FileEventStore(store);
    const sink = sinkOf();
    await reread.connect(sink, null);
    expect(sink.seen.map((e) => e.sessionId)).toEqual(expected);
    await reread.close();
    expect((await auditLog(store)).findings).toEqual([]);
  });

  // Where each way of checkpointing can fail, and whether sessions.json is then still the old one.
  const checkpointSites: Record<'in place' | 'whole', Array<[DiskSite, 'untouched' | 'changed']>> = {
    'in place': [['index.write', 'untouched'], ['checkpoint.write', 'untouched'], ['checkpoint.patch', 'changed'], ['checkpoint.truncate', 'changed'], ['checkpoint.sync', 'changed']],
    whole: [['index.write', 'untouched'], ['checkpoint.write', 'untouched'], ['checkpoint.sync', 'untouched'], ['checkpoint.rename', 'untouched'], ['directory.sync', 'changed']],
  };
  for (const code of CODES) {
    for (const [way, sites] of Object.entries(checkpointSites)) {
      for (const [site, file] of sites) {
        it(`${code} at ${site} of a checkpoint written ${way}: the checkpoint is refused, the store stays right`, async () => {
          const { manager, acked } = await seeded();
          for (let i = 0; i < 5; i += 1) acked.set((await manager.spawnAgentSession('A', `more ${i}`, context)).id, 'Active');
          const sessionsBefore = await readFile(join(store, 'sessions.json'));
          // A write is torn 10 bytes in: for the in-place tail, ENOSPC in the middle of extending the file.
          inject([{ site, code, afterBytes: /write|patch/.test(site) ? 10 : 0 }]);
          const refused = (manager as unknown as { checkpointer: { write(full?: boolean): Promise<void> } }).checkpointer.write(way === 'whole');
          await expect(refused).rejects.toMatchObject({ code: 'STORAGE', message: expect.stringContaining(code) });
          // Refused before anything the old checkpoint covers was touched, or checked on open.
          if (file === 'untouched') expect(await readFile(join(store, 'sessions.json'))).toEqual(sessionsBefore);
          repair();
          acked.set((await manager.spawnAgentSession('A', 'the disk is back', context)).id, 'Active');
          await manager.checkpoint();
          await manager.close();
          const reopened = await SessionManager.open(store);
          expect(reopened.openReport.checkpoint).toBe('loaded');
          await reopened.close();
          await expectIntact(acked, []);
        });
      }
    }
  }

  for (const code of CODES) {
    it(`${code} when the log is opened: open rejects with STORAGE`, async () => {
      inject([{ site: 'log.open', code }]);
      await expect(SessionManager.open(store)).rejects.toMatchObject({ code: 'STORAGE', message: expect.stringContaining(code) });
      repair();
      const manager = await SessionManager.open(store);
      expect(await manager.listSessions()).toEqual([]);
      await manager.close();
    });
  }
});
