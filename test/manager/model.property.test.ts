import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SessionManager, emptySessionsState, evolveSessions, renderSessionsFile, type SessionStatus } from '../../src/index.js';
import { FileEventStore } from '../../src/store/file/file-event-store.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { byId, logEvents, sessionsFileContent } from '../helpers/log-files.js';

type Command = ({ kind: 'spawn'; agent: string } | { kind: 'handoff' | 'complete' | 'fail' | 'retry'; target: number; agent: string }) & {
  /** Run by a second manager on the same store (its checkpoints interleave with the first's). */
  byPeer: boolean;
  /** Close and reopen the first manager afterwards (from the sessions.json written in place). */
  reopen: boolean;
};

const agent = fc.constantFrom('CodeGenAgent', 'ReviewAgent', 'TestAgent', 'DeployAgent');
const rarely = fc.integer({ min: 0, max: 7 }).map((n) => n === 0);
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('spawn' as const), agent, byPeer: rarely, reopen: rarely }),
  fc.record({ kind: fc.constantFrom('handoff' as const, 'complete' as const, 'fail' as const, 'retry' as const), target: fc.nat({ max: 30 }), agent, byPeer: rarely, reopen: rarely }),
);

const UNKNOWN = '3f1d8a52-0000-4000-8000-000000000000';
// A checkpoint every 3 events: sessions.json is rewritten in place many times a run.
const OPTIONS = { checkpointIdleMs: -1, checkpointEvery: 3 };

describe('model-based: random command sequences', () => {
  it('live state == replayed log == reopened store == sessions.json written in place by two managers, the model predicts every outcome, and seq is gap-free', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (commands) => {
        const { dir, cleanup } = await tempDir();
        try {
          let manager = await SessionManager.open(dir, OPTIONS);
          const peer = await SessionManager.open(dir, OPTIONS);
          const model = new Map<string, SessionStatus>();
          const retried = new Set<string>();
          const ids: string[] = [];
          for (const c of commands) {
            const by = c.byPeer ? peer : manager;
            if (c.kind === 'spawn') {
              const s = await by.spawnAgentSession(c.agent, 'work', contextFor());
              ids.push(s.id);
              model.set(s.id, 'Active');
            } else {
              const id = ids[c.target] ?? UNKNOWN;
              const expected = model.get(id);
              const attempt =
                c.kind === 'handoff' ? by.handoff(id, c.agent, contextFor('Review'))
                : c.kind === 'complete' ? by.completeSession(id, { success: true, output: 'done', totalCostUsd: 0.25, numTurns: 2 })
                : c.kind === 'retry' ? by.retrySession(id)
                : by.failSession(id, 'failed on purpose', undefined, { interrupted: c.agent === 'TestAgent' });
              if (expected === undefined) await expect(attempt).rejects.toMatchObject({ code: 'NOT_FOUND' });
              else if (c.kind === 'retry') {
                // Only a Failed session can run again, and only once: its retry's id is derived from its own.
                if (expected !== 'Failed') await expect(attempt).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
                else if (retried.has(id)) await expect(attempt).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
                else {
                  const retry = await attempt;
                  retried.add(id);
                  ids.push(retry.id);
                  model.set(retry.id, 'Active');
                }
              } else if (expected !== 'Active') await expect(attempt).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
              else {
                const result = await attempt;
                model.set(id, { handoff: 'HandedOff', complete: 'Completed', fail: 'Failed', retry: 'Active' }[c.kind] as SessionStatus);
                if (c.kind === 'handoff') {
                  ids.push(result.id);
                  model.set(result.id, 'Active');
                }
              }
            }
            if (c.reopen) {
              await manager.close();
              manager = await SessionManager.open(dir, OPTIONS);
              expect(manager.openReport.checkpoint).toBe('loaded');
            }
          }
          await peer.close();
          const live = await manager.listSessions();
          expect(new Map(live.map((s) => [s.id, s.status]))).toEqual(model);
          const store = new FileEventStore(dir);
          const replayed = emptySessionsState();
          for await (const batch of store.readAll()) for (const e of batch) evolveSessions(replayed, e);
          expect([...replayed.sessions.values()]).toEqual(live);
          const cursor = { seq: 0, position: {} };
          const liveState = emptySessionsState();
          for (const s of live) liveState.sessions.set(s.id, s);
          expect(renderSessionsFile(replayed, cursor)).toBe(renderSessionsFile({ ...liveState, lastEventId: replayed.lastEventId }, cursor));
          const liveStats = await manager.getStats();
          await manager.close();
          // The file written in place, holes and all, holds exactly the live sessions at the last seq.
          expect(await sessionsFileContent(dir)).toEqual({ seq: replayed.lastSeq, sessions: byId(live) });
          // Reopened from sessions.json, ended sessions are read from it on demand: every query,
          // in any order, must answer as the live manager did.
          const reopened = await SessionManager.open(dir);
          expect(reopened.openReport).toMatchObject({ checkpoint: 'loaded', replayedEvents: 0 });
          expect(await reopened.listActiveSessions()).toEqual(live.filter((s) => s.status === 'Active'));
          expect(await reopened.getStats()).toEqual(liveStats);
          for (const s of [...live].reverse()) expect(await reopened.getSession(s.id)).toEqual(s);
          expect(await reopened.listSessions()).toEqual(live);
          await reopened.close();
          // A checkpoint in place while ended sessions are still unread, then a replay that
          // rewrites the file whole: both files say the same.
          const writer = await SessionManager.open(dir, { checkpointIdleMs: -1 });
          const late = await writer.spawnAgentSession('Late', 'after reopen', contextFor());
          await writer.checkpoint();
          const inPlace = await sessionsFileContent(dir);
          expect((await writer.replay()).matchesLive).toBe(true);
          expect(await sessionsFileContent(dir)).toEqual(inPlace);
          expect((await writer.getStats()).total).toBe(live.length + 1);
          expect((await writer.getSession(late.id))?.status).toBe('Active');
          await writer.close();
          const seqs = (await logEvents(dir)).map((e) => e['seq']);
          expect(seqs).toEqual(seqs.map((_, i) => i + 1));
        } finally {
          await cleanup();
        }
      }),
      { numRuns: 40 },
    );
  });
});
