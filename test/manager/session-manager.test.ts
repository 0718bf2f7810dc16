import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionManager, type SessionEvent } from '../../src/index.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { logBytes, logEvents } from '../helpers/log-files.js';

describe('SessionManager API', () => {
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

  it('spawnAgentSession records an Active root session with its context', async () => {
    const session = await manager.spawnAgentSession('CodeGenAgent', 'Implement #42', contextFor());
    expect(session).toMatchObject({
      agentName: 'CodeGenAgent', purpose: 'Implement #42', status: 'Active', parentSession: null, childSessions: [],
      context: { issueNumber: 42, currentPhase: 'CodeGeneration', worktreePath: '.worktrees/issue-42', previousResults: [] },
    });
    expect(await manager.getSession(session.id)).toEqual(session);
    expect(await manager.listActiveSessions()).toEqual([session]);
    expect(manager.actorOf(session.id)?.getSnapshot().value).toBe('active');
  });

  it('spawnAgentSession takes a caller-chosen id once, and refuses it a second time', async () => {
    const sessionId = '6f1c1e36-2b47-4d1e-9d6b-0a1b2c3d4e5f';
    expect((await manager.spawnAgentSession('A', 'p', contextFor(), { sessionId })).id).toBe(sessionId);
    await expect(manager.spawnAgentSession('A', 'p', contextFor(), { sessionId })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
  });

  it('handoff ends the parent as HandedOff and starts the child with the context and handed-over result', async () => {
    const parent = await manager.spawnAgentSession('CodeGenAgent', 'Implement #42', contextFor());
    const child = await manager.handoff(parent.id, 'ReviewAgent', contextFor('Review'), { result: { success: true, output: 'diff ready' } });
    expect(child).toMatchObject({
      agentName: 'ReviewAgent', purpose: `Handoff from session ${parent.id}`, status: 'Active', parentSession: parent.id,
      context: { currentPhase: 'Review', previousResults: [{ success: true, output: 'diff ready', agentName: 'CodeGenAgent', sessionId: parent.id }] },
    });
    expect(await manager.getSession(parent.id)).toMatchObject({ status: 'HandedOff', handoffTo: 'ReviewAgent', childSessions: [child.id] });
    expect(manager.actorOf(parent.id)).toBeUndefined();
    const log = await logEvents(dir);
    expect(log.slice(1).map((e) => [e['type'], e['txSize']])).toEqual([['SessionHandedOff', 2], ['SessionSpawned', undefined]]);
  });

  it('a handoff context without previousResults inherits the chain; an explicit list replaces it', async () => {
    const a = await manager.spawnAgentSession('A', 'p', contextFor());
    const b = await manager.handoff(a.id, 'B', contextFor('Review'), { result: { success: true, output: 'one' } });
    const c = await manager.handoff(b.id, 'C', contextFor('Test'), { result: { success: true, output: 'two' } });
    expect(c.context.previousResults.map((r) => r.output)).toEqual(['one', 'two']);
    const d = await manager.handoff(c.id, 'D', { ...contextFor('CICD'), previousResults: [] });
    expect(d.context.previousResults).toEqual([]);
  });

  it('completeSession and failSession end Active sessions with result or reason', async () => {
    const a = await manager.spawnAgentSession('TestAgent', 'run tests', contextFor('Test'));
    const b = await manager.spawnAgentSession('DeployAgent', 'deploy', contextFor('CICD'));
    expect(await manager.completeSession(a.id, { success: true, output: 'all green', numTurns: 3, totalCostUsd: 0.5 }))
      .toMatchObject({ status: 'Completed', result: { output: 'all green' } });
    expect(await manager.failSession(b.id, 'Not logged in · Please run /login')).toMatchObject({ status: 'Failed', error: 'Not logged in · Please run /login' });
    expect(await manager.listActiveSessions()).toEqual([]);
  });

  it('failSession with expectedRevision fails a session only as the caller saw it: moved on since, CONFLICT and nothing written', async () => {
    const a = await manager.spawnAgentSession('CodeGenAgent', 'p', contextFor());
    const seen = a.revision;
    // Only the session's own revision counts: another process's changes to other sessions do not.
    const other = await SessionManager.open(dir, { checkpointIdleMs: -1 });
    await other.completeSession((await other.spawnAgentSession('TestAgent', 't', contextFor('Test'))).id);
    await other.close();
    expect((await manager.failSession(a.id, 'boom', undefined, { expectedRevision: seen })).status).toBe('Failed');
    const b = await manager.spawnAgentSession('ReviewAgent', 'r', contextFor('Review'));
    // Its agent's start reaches the log after the caller read it: a failure decided on "never started" must not land.
    const recorder = (manager as unknown as { agentRecorder(): { started(id: string, s: unknown, r: null, l: string): Promise<void> } }).agentRecorder();
    await recorder.started(b.id, { pid: 4242, startTime: '1', command: ['claude', '-p'], cwd: '/w' }, null, manager.logFileOf(b.id));
    await expect(manager.failSession(b.id, 'its agent never started', undefined, { interrupted: true, expectedRevision: b.revision })).rejects.toMatchObject({ code: 'CONFLICT', sessionId: b.id });
    expect((await manager.getSession(b.id))?.status).toBe('Active');
    await expect(manager.failSession(b.id, 'x', undefined, { expectedRevision: -1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('getSessionLineage returns root to leaf', async () => {
    const a = await manager.spawnAgentSession('CodeGenAgent', 'p', contextFor());
    const b = await manager.handoff(a.id, 'ReviewAgent', contextFor('Review'));
    const c = await manager.handoff(b.id, 'TestAgent', contextFor('Test'));
    await manager.spawnAgentSession('Other', 'p', contextFor());
    expect((await manager.getSessionLineage(c.id)).map((s) => s.id)).toEqual([a.id, b.id, c.id]);
    expect((await manager.getSessionLineage(a.id)).map((s) => s.id)).toEqual([a.id]);
  });

  it('getStats counts by status, agent and phase, and sums cost, turns and durations', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    await manager.close();
    manager = await SessionManager.open(dir, { clock: () => new Date((now += 1000)) });
    const a = await manager.spawnAgentSession('CodeGenAgent', 'p', contextFor());
    const b = await manager.handoff(a.id, 'ReviewAgent', contextFor('Review'));
    await manager.completeSession(b.id, { success: true, output: 'ok', totalCostUsd: 0.25, numTurns: 4 });
    const c = await manager.spawnAgentSession('CodeGenAgent', 'p', contextFor());
    await manager.failSession(c.id, 'boom', { success: false, output: '', totalCostUsd: 0.5, numTurns: 1 });
    await manager.spawnAgentSession('TestAgent', 'p', contextFor('Test'));
    const stats = await manager.getStats();
    expect(stats).toMatchObject({ total: 4, active: 1, handedOff: 1, completed: 1, failed: 1, totalCostUsd: 0.75, totalTurns: 5 });
    expect(stats.byAgent['CodeGenAgent']).toEqual({ total: 2, active: 0, handedOff: 1, completed: 0, failed: 1 });
    expect(stats.byPhase.Review).toEqual({ total: 1, active: 0, handedOff: 0, completed: 1, failed: 0 });
    expect(stats.byPhase.Merge.total).toBe(0);
    // One clock tick per command: a, b and c each lived exactly one tick.
    expect(stats.durations).toEqual({ ended: 3, totalMs: 3000, meanMs: 1000, maxMs: 1000 });
  });

  it('subscribe delivers every appended event in seq order until unsubscribed', async () => {
    const seen: SessionEvent[] = [];
    const unsubscribe = manager.subscribe((e) => seen.push(e));
    const a = await manager.spawnAgentSession('A', 'p', contextFor());
    await manager.handoff(a.id, 'B', contextFor('Review'));
    await new Promise((r) => setImmediate(r));
    expect(seen.map((e) => [e.seq, e.type])).toEqual([[1, 'SessionSpawned'], [2, 'SessionHandedOff'], [3, 'SessionSpawned']]);
    unsubscribe();
    await manager.spawnAgentSession('C', 'p', contextFor());
    await new Promise((r) => setImmediate(r));
    expect(seen).toHaveLength(3);
  });

  it('subscribe with follow hears another process\'s appends without being asked', async () => {
    const other = await SessionManager.open(dir);
    const seen: string[] = [];
    const heard = new Promise<void>((resolve) => {
      manager.subscribe((e) => {
        seen.push(e.type);
        if (seen.length === 2) resolve();
      }, { follow: true });
    });
    const a = await other.spawnAgentSession('A', 'p', contextFor());
    await other.completeSession(a.id);
    await heard;
    expect(seen).toEqual(['SessionSpawned', 'SessionCompleted']);
    await other.close();
  });

  it('of 50 concurrent completions of one session exactly one wins; the rest are INVALID_TRANSITION', async () => {
    const s = await manager.spawnAgentSession('A', 'p', contextFor());
    const outcomes = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => manager.completeSession(s.id, { success: true, output: `#${i}` })));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.status === 'rejected')) expect((o as PromiseRejectedResult).reason.code).toBe('INVALID_TRANSITION');
    expect((await logEvents(dir)).map((e) => e['type'])).toEqual(['SessionSpawned', 'SessionCompleted']);
  });

  it('unknown ids are NOT_FOUND and malformed ids are INVALID_INPUT', async () => {
    const missing = '0b9c6c7e-9a59-4f7c-9a7c-3d6f1e0f4a11';
    expect(await manager.getSession(missing)).toBeUndefined();
    await expect(manager.completeSession(missing)).rejects.toMatchObject({ code: 'NOT_FOUND', sessionId: missing });
    await expect(manager.getSessionLineage(missing)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(manager.getSession('not-a-uuid')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(manager.handoff('../../etc/passwd', 'B', contextFor())).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('bad checkpoint options are refused with INVALID_INPUT naming the option, and nothing is created', async () => {
    const fresh = join(dir, 'never-created');
    const bad: Array<[string, Record<string, unknown>]> = [
      ['checkpointIdleMs', { checkpointIdleMs: -5 }],
      ['checkpointIdleMs', { checkpointIdleMs: '250' }],
      ['checkpointIdleMs', { checkpointIdleMs: Number.NaN }],
      ['checkpointEvery', { checkpointEvery: 0 }],
      ['checkpointEvery', { checkpointEvery: 2.5 }],
      ['checkpointEvery', { checkpointEvery: null }],
      ['checkpointCostRatio', { checkpointCostRatio: 0 }],
      ['checkpointCostRatio', { checkpointCostRatio: -1 }],
      ['checkpointCostRatio', { checkpointCostRatio: Number.POSITIVE_INFINITY }],
      ['checkpointCostRatio', { checkpointCostRatio: 5000 }],
    ];
    for (const [option, options] of bad) {
      await expect(SessionManager.open(fresh, options), JSON.stringify(options)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining(option) });
    }
    expect(existsSync(fresh)).toBe(false);
    const ok = await SessionManager.open(fresh, { checkpointIdleMs: -1, checkpointEvery: 1, checkpointCostRatio: 0.5 });
    await ok.close();
  });

  it('bad input is refused with INVALID_INPUT naming the field, and appends nothing', async () => {
    const parent = await manager.spawnAgentSession('A', 'p', contextFor());
    const before = await logBytes(dir);
    const bad: Array<() => Promise<unknown>> = [
      () => manager.spawnAgentSession('', 'p', contextFor()),
      () => manager.spawnAgentSession('../evil', 'p', contextFor()),
      () => manager.spawnAgentSession('A', '', contextFor()),
      () => manager.spawnAgentSession('A', 'x'.repeat(10 * 1024 * 1024), contextFor()),
      () => manager.spawnAgentSession('A', 'p', { ...contextFor(), currentPhase: 'Lunch' as never }),
      () => manager.spawnAgentSession('A', 'p', { ...contextFor(), issueNumber: -1 }),
      () => manager.spawnAgentSession('A', 'p', { ...contextFor(), worktreePath: 'a\0b' }),
      () => manager.spawnAgentSession('A', 'p', { ...contextFor(), extra: 1 } as never),
      () => manager.spawnAgentSession('A', 'p', null as never),
      () => manager.spawnAgentSession('A', 'p', contextFor(), { sessionId: 'nope' }),
      () => manager.handoff(parent.id, 'B', contextFor(), { result: { success: 'yes' } as never }),
      () => manager.completeSession(parent.id, { output: 'no success flag' } as never),
      () => manager.failSession(parent.id, ''),
      () => manager.failSession(parent.id, 42 as never),
    ];
    for (const call of bad) await expect(call()).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(manager.spawnAgentSession('A', 'p', { ...contextFor(), currentPhase: 'Lunch' as never })).rejects.toThrow(/currentPhase/);
    expect(await logBytes(dir)).toBe(before);
  });

  it('a closed manager refuses every call with CLOSED', async () => {
    const a = await manager.spawnAgentSession('A', 'p', contextFor());
    await manager.close();
    const calls: Array<[string, () => unknown]> = [
      ['spawnAgentSession', () => manager.spawnAgentSession('A', 'p', contextFor())],
      ['handoff', () => manager.handoff(a.id, 'B', contextFor('Review'))],
      ['completeSession', () => manager.completeSession(a.id)],
      ['failSession', () => manager.failSession(a.id, 'x')],
      ['getSession', () => manager.getSession(a.id)],
      ['getSessionLineage', () => manager.getSessionLineage(a.id)],
      ['listActiveSessions', () => manager.listActiveSessions()],
      ['listSessions', () => manager.listSessions()],
      ['getStats', () => manager.getStats()],
      ['subscribe', () => manager.subscribe(() => {})],
      ['refresh', () => manager.refresh()],
      ['replay', () => manager.replay()],
      ['checkpoint', () => manager.checkpoint()],
      ['waitForAgent', () => manager.waitForAgent(a.id)],
      ['reapOrphans', () => manager.reapOrphans()],
    ];
    for (const [name, call] of calls) {
      let refusal: unknown;
      try {
        await call();
      } catch (error) {
        refusal = error;
      }
      expect(refusal, name).toMatchObject({ code: 'CLOSED' });
    }
    await manager.close();
  });

  it('an inspect hook sees the session actors start and move, as Stately\'s inspector would', async () => {
    await manager.close();
    const seen: Array<{ type: string; value?: unknown }> = [];
    manager = await SessionManager.open(dir, {
      inspect: (e) => seen.push({ type: e.type, value: e.type === '@xstate.snapshot' ? (e.snapshot as { value?: unknown }).value : undefined }),
    });
    const a = await manager.spawnAgentSession('A', 'p', contextFor());
    await manager.handoff(a.id, 'B', contextFor('Review'));
    expect(seen.filter((e) => e.type === '@xstate.actor')).toHaveLength(2);
    expect(seen.filter((e) => e.type === '@xstate.snapshot').map((e) => e.value)).toContain('handedOff');
  });

  it('replay rebuilds sessions.json from the log alone, equal to the live state', async () => {
    const a = await manager.spawnAgentSession('A', 'p', contextFor());
    await manager.handoff(a.id, 'B', contextFor('Review'));
    expect(await manager.replay()).toEqual({ events: 3, sessions: 2, matchesLive: true });
  });
});
