import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionManager, emptySessionsState, evolveSessions, importOriginalStore, type Session, type SessionEvent } from '../../src/index.js';
import { renderRecord } from '../../src/checkpoint/sessions-file.js';
import { tempDir } from '../helpers/fixtures.js';
import { generatedOriginalStore, originalFileText, readAsOriginal, type OriginalRecord } from '../helpers/original-format.js';
import { STORE_KINDS } from '../helpers/stores.js';

/** Every event of a store, read from the start. */
async function allEvents(store: { readAll(): AsyncIterable<SessionEvent[]>; close(): Promise<void> }): Promise<SessionEvent[]> {
  const events: SessionEvent[] = [];
  try {
    for await (const batch of store.readAll()) events.push(...batch);
  } finally {
    await store.close();
  }
  return events;
}

/** A session as the original's record says it should be after an import. */
function expectLikeOriginal(session: Session | undefined, record: OriginalRecord): void {
  expect(session, record.id).toBeDefined();
  expect({
    id: session!.id,
    agent_name: session!.agentName,
    purpose: session!.purpose,
    context: { issue_number: session!.context.issueNumber, current_phase: session!.context.currentPhase, worktree_path: session!.context.worktreePath },
    created_at: session!.createdAt,
    status: session!.status,
    parent_session: session!.parentSession,
    child_sessions: session!.childSessions,
    handoff_to: session!.handoffTo ?? null,
    error_message: session!.error ?? null,
  }).toEqual(record);
  expect(session!.imported).toBe(true);
  expect(session!.endedAt).toBeUndefined();
}

describe('importing the original session manager\'s sessions.json', () => {
  it('a file as the original writes it (nulls, no previous_results, nine fractional digits) imports, and the failure text survives', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const records = generatedOriginalStore(12);
      const text = originalFileText(records);
      expect(text).not.toContain('previous_results');
      expect(records.some((r) => r.context.issue_number === null && r.context.worktree_path === null)).toBe(true);
      await writeFile(join(dir, 'sessions.json'), text);
      const report = await importOriginalStore({ dir });
      expect(report).toMatchObject({ sessions: 12, kept: join(dir, 'sessions.original.json'), resumed: false });
      expect(await readFile(join(dir, 'sessions.original.json'), 'utf8')).toBe(text);
      const manager = await SessionManager.open(dir);
      try {
        for (const record of records) expectLikeOriginal(await manager.getSession(record.id), record);
        const failed = records.find((r) => r.status === 'Failed')!;
        expect((await manager.getSession(failed.id))!.error).toBe(failed.error_message);
      } finally {
        await manager.close();
      }
      // The file now in the original's place is still one the original reads, with the same sessions.
      const reread = readAsOriginal(await readFile(join(dir, 'sessions.json'), 'utf8'));
      expect(new Map(reread.sessions.map((s) => [s.id, s]))).toEqual(new Map(records.map((r) => [r.id, r])));
    } finally {
      await cleanup();
    }
  });

  it('a store this library wrote is read by a parser that follows the original\'s structs: every session, status, link and failure text', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const manager = await SessionManager.open(dir);
      const root = await manager.spawnAgentSession('CodeGenAgent', 'Implement #7', { issueNumber: 7, currentPhase: 'CodeGeneration', worktreePath: '/w/7' });
      const review = await manager.handoff(root.id, 'ReviewAgent', { issueNumber: 7, currentPhase: 'Review', worktreePath: '/w/7' }, { result: { success: true, output: 'done' } });
      await manager.failSession(review.id, 'review found 3 bugs: "x" \\ ✗');
      const retry = await manager.retrySession(review.id);
      await manager.completeSession(retry.id, { success: true, output: 'LGTM' });
      const lone = await manager.spawnAgentSession('TestAgent', 'no issue, no worktree', { currentPhase: 'Test' });
      await manager.close();

      const original = readAsOriginal(await readFile(join(dir, 'sessions.json'), 'utf8'));
      expect(original.version).toBe(1);
      const byId = new Map(original.sessions.map((s) => [s.id, s]));
      expect(byId.size).toBe(4);
      expect(byId.get(root.id)).toMatchObject({ status: 'HandedOff', parent_session: null, child_sessions: [review.id], handoff_to: 'ReviewAgent', error_message: null, context: { issue_number: 7, worktree_path: '/w/7' } });
      expect(byId.get(review.id)).toMatchObject({ status: 'Failed', parent_session: root.id, handoff_to: null, error_message: 'review found 3 bugs: "x" \\ ✗' });
      expect(byId.get(retry.id)).toMatchObject({ status: 'Completed', parent_session: review.id, error_message: null });
      expect(byId.get(lone.id)).toMatchObject({ status: 'Active', agent_name: 'TestAgent', context: { issue_number: null, current_phase: 'Test', worktree_path: null } });
      for (const session of original.sessions) expect(Date.parse(session.created_at)).not.toBeNaN();
    } finally {
      await cleanup();
    }
  });

  for (const kind of STORE_KINDS) {
    it(`a generated original store of 10,000 sessions in handoff chains imports, and a replay equals the imported state (${kind.name})`, async () => {
      const { dir, cleanup } = await tempDir();
      const place = kind.place(join(dir, 'store'));
      try {
        const records = generatedOriginalStore(10_000);
        const from = join(dir, 'original.json');
        await writeFile(from, originalFileText(records));
        const report = await importOriginalStore({ dir: join(dir, 'store'), from, store: place.open() });
        expect(report.sessions).toBe(10_000);
        expect(report.byStatus.HandedOff).toBe(records.filter((r) => r.status === 'HandedOff').length);

        const replayed = emptySessionsState();
        const events = await allEvents(place.open());
        for (const event of events) evolveSessions(replayed, event);
        expect(events.every((e) => e.imported === true)).toBe(true);
        // Parents before children: every child's spawn follows its parent's handoff at once (one transaction).
        events.forEach((e, i) => {
          if (e.type === 'SessionHandedOff') expect(events[i + 1]).toMatchObject({ type: 'SessionSpawned', sessionId: e.data.childSession });
        });
        for (const record of records) expectLikeOriginal(replayed.sessions.get(record.id), record);

        const manager = await SessionManager.open(join(dir, 'store'), { store: place.open() });
        try {
          const opened = await manager.listSessions();
          expect(opened.length).toBe(10_000);
          for (const session of opened) expect(renderRecord(session)).toBe(renderRecord(replayed.sessions.get(session.id)!));
          expect((await manager.getStats()).failed).toBe(records.filter((r) => r.status === 'Failed').length);
        } finally {
          await manager.close();
        }
      } finally {
        await place.drop();
        await cleanup();
      }
    });
  }
});
