import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionManager, evolveSessions, emptySessionsState, lineageTree, retryIdOf, type SessionEvent } from '../../src/index.js';
import { auditLog } from '../../src/audit/audit-log.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { logEvents } from '../helpers/log-files.js';

describe('retrySession: a Failed session runs again as a new session, recorded in the lineage', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let manager: SessionManager;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    manager = await SessionManager.open(dir, { checkpointIdleMs: -1 });
  });
  afterEach(async () => {
    await manager.close();
    await cleanup();
  });

  /** A handed-off root and a child that failed as interrupted. */
  async function failedStep() {
    const root = await manager.spawnAgentSession('CodeGenAgent', 'Implement #42', contextFor());
    const child = await manager.handoff(root.id, 'ReviewAgent', contextFor('Review'), { result: { success: true, output: 'diff ready' } });
    const failed = await manager.failSession(child.id, 'the agent was killed by SIGKILL', undefined, { interrupted: true });
    return { root, failed };
  }

  it('the retry has the derived id, the same agent, purpose and context, and the failed attempt as parent and retryOf', async () => {
    const { root, failed } = await failedStep();
    expect(failed).toMatchObject({ status: 'Failed', interrupted: true });
    const retry = await manager.retrySession(failed.id);
    expect(retry).toMatchObject({
      id: retryIdOf(failed.id), status: 'Active', agentName: 'ReviewAgent', purpose: failed.purpose, context: failed.context,
      parentSession: failed.id, retryOf: failed.id, childSessions: [],
    });
    // The failed attempt's record is final: it does not change; its retry is found by id.
    expect(await manager.getSession(failed.id)).toEqual(failed);
    expect((await manager.getSessionLineage(retry.id)).map((s) => [s.agentName, s.status])).toEqual([['CodeGenAgent', 'HandedOff'], ['ReviewAgent', 'Failed'], ['ReviewAgent', 'Active']]);
    const all = new Map((await manager.listSessions()).map((s) => [s.id, s]));
    expect(lineageTree(all, root.id).children[0]!.children[0]!.session.id).toBe(retry.id);
    // A retry of the retry: one chain, each attempt under its own id.
    await manager.failSession(retry.id, 'killed again', undefined, { interrupted: true });
    const again = await manager.retrySession(retry.id);
    expect(again).toMatchObject({ id: retryIdOf(retry.id), parentSession: retry.id, retryOf: retry.id });
    expect((await auditLog(dir)).findings).toEqual([]);
  });

  it('refuses what cannot be retried, and writes nothing then', async () => {
    const { root, failed } = await failedStep();
    const active = await manager.spawnAgentSession('A', 'p', contextFor());
    await manager.retrySession(failed.id);
    const before = (await logEvents(dir)).length;
    await expect(manager.retrySession(failed.id)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(manager.retrySession(root.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    await expect(manager.retrySession(active.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    await expect(manager.retrySession('6f3d9a21-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(manager.retrySession('nope')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(manager.failSession(active.id, 'x', undefined, { interrupted: 'yes' as never })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect((await logEvents(dir)).length).toBe(before);
  });

  it('two managers retrying the same failed session at once make one retry', async () => {
    const other = await SessionManager.open(dir, { checkpointIdleMs: -1 });
    try {
      for (let round = 0; round < 10; round += 1) {
        const { failed } = await failedStep();
        await other.refresh();
        const outcomes = await Promise.allSettled([manager.retrySession(failed.id), other.retrySession(failed.id)]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        expect(['ALREADY_EXISTS', 'CONFLICT']).toContain((refused.reason as { code: string }).code);
      }
      const retries = (await logEvents(dir)).filter((e) => e['type'] === 'SessionSpawned' && (e['data'] as { retryOf?: string }).retryOf !== undefined);
      expect(retries).toHaveLength(10);
    } finally {
      await other.close();
    }
  });

  it('retryOf and interrupted survive sessions.json, a reopen and a replay', async () => {
    const { failed } = await failedStep();
    const retry = await manager.retrySession(failed.id);
    await manager.checkpoint();
    const live = await manager.listSessions();
    await manager.close();
    manager = await SessionManager.open(dir, { checkpointIdleMs: -1 });
    expect(manager.openReport.checkpoint).toBe('loaded');
    expect(await manager.listSessions()).toEqual(live);
    expect(await manager.getSession(retry.id)).toMatchObject({ retryOf: failed.id });
    expect(await manager.getSession(failed.id)).toMatchObject({ interrupted: true });
    expect((await manager.replay()).matchesLive).toBe(true);
  });

  it('the log refuses a retry that does not follow the rules (the projection and the audit alike)', async () => {
    const { root, failed } = await failedStep();
    const events = (await logEvents(dir)) as unknown as SessionEvent[];
    const forged = (sessionId: string, retryOf: string, parentSession: string | null): SessionEvent => ({
      ...events[0]!, id: '0d9e5c1a-0000-4000-8000-000000000001', seq: events.length + 1, sessionId,
      data: { agentName: 'ReviewAgent', purpose: 'again', context: failed.context, parentSession, retryOf },
    } as SessionEvent);
    const replayed = () => {
      const state = emptySessionsState();
      for (const event of events) evolveSessions(state, event);
      return state;
    };
    const cases: Array<[SessionEvent, RegExp]> = [
      [forged('0d9e5c1a-0000-4000-8000-0000000000aa', failed.id, failed.id), /does not have its retry id/],
      [forged(retryIdOf(root.id), root.id, root.id), /which is HandedOff, not Failed/],
      [forged(retryIdOf(failed.id), failed.id, root.id), /must name it as its parent/],
    ];
    for (const [event, why] of cases) expect(() => evolveSessions(replayed(), event)).toThrow(why);
  });
});
