import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PostgresEventStore, SessionManager, isSessionError, EVENT_SCHEMA_VERSION } from '../../src/index.js';
import { pidAlive } from '../../src/process/process-identity.js';
import { pollFor, startChild, waitFor } from '../helpers/children.js';
import { fakeAgentRunner } from '../helpers/fake-runner.js';
import { tempDir } from '../helpers/fixtures.js';
import { dropSchema, freshSchema, PG_URL } from '../helpers/stores.js';
import { logEvents } from '../helpers/log-files.js';

/** A runner whose agent sleeps until stopped. */
const sleepingAgents = () => fakeAgentRunner('sleep');

const refusedAs = (code: string) => (error: unknown) => isSessionError(error) && error.code === code;

describe('requestStop: a stop request any process appends, carried out by the manager running the agent', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const opened: SessionManager[] = [];
  const open = async (options: Parameters<typeof SessionManager.open>[1] = {}) => {
    const manager = await SessionManager.open(join(dir, 'store'), options);
    opened.push(manager);
    return manager;
  };
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    for (const manager of opened.splice(0)) await manager.close();
    await cleanup();
  });

  it('an agent run by another manager process is stopped by that process: its session fails with who asked and why', async () => {
    const host = startChild('run-agent', [join(dir, 'store'), dir]);
    try {
      await waitFor(() => host.lines.some((l) => l.startsWith('started ')), 20_000, 'the other manager to start its agent');
      const [, id, pid] = host.lines.find((l) => l.startsWith('started '))!.split(' ') as [string, string, string];
      const here = await open();
      const pending = await here.requestStop(id, { by: 'alice', reason: 'runaway loop' });
      expect(pending.status).toBe('Active');
      expect(pending.agent?.stopRequest).toMatchObject({ by: 'alice', reason: 'runaway loop' });
      // The other process follows the store while its agent runs: it stops the agent and records the end.
      const ended = await pollFor(async () => {
        const session = await here.getSession(id);
        return session?.status === 'Failed' ? session : undefined;
      }, 20_000, 'the other manager to stop its agent');
      expect(ended.error).toMatch(/stopped at the request of alice: runaway loop$/);
      expect(ended.endedBy).toBe('alice');
      expect(ended.interrupted).toBeUndefined();
      expect(ended.agent?.stopRequest?.by).toBe('alice');
      await waitFor(() => !pidAlive(Number(pid)), 10_000, 'the agent process to be gone');
      // The log says who, on the request and on the end.
      const lines = await logEvents<{ type: string; by?: string; schemaVersion: number }>(join(dir, 'store'));
      expect(lines.filter((e) => e.by === 'alice').map((e) => e.type)).toEqual(['SessionStopRequested', 'SessionFailed']);
      expect(lines.at(-1)!.schemaVersion).toBe(EVENT_SCHEMA_VERSION);
    } finally {
      host.child.kill('SIGKILL');
      await host.exited;
    }
  }, 60_000);

  it('on PostgreSQL, a request made on one host is carried out by the manager of another (LISTEN/NOTIFY)', async () => {
    const schema = freshSchema();
    const host = startChild('run-agent', [join(dir, 'host-a'), dir, PG_URL, schema]);
    try {
      await waitFor(() => host.lines.some((l) => l.startsWith('started ')), 20_000, 'host A to start its agent');
      const [, id, pid] = host.lines.find((l) => l.startsWith('started '))!.split(' ') as [string, string, string];
      const hostB = await SessionManager.open(join(dir, 'host-b'), { store: new PostgresEventStore({ connectionString: PG_URL, schema }) });
      opened.push(hostB);
      await hostB.requestStop(id, { by: 'grace', reason: 'over budget' });
      const ended = await pollFor(async () => {
        const session = await hostB.getSession(id);
        return session?.status === 'Failed' ? session : undefined;
      }, 20_000, 'host A to stop its agent');
      expect(ended).toMatchObject({ endedBy: 'grace', error: expect.stringMatching(/stopped at the request of grace: over budget$/) });
      await waitFor(() => !pidAlive(Number(pid)), 10_000, 'the agent process to be gone');
    } finally {
      host.child.kill('SIGKILL');
      await host.exited;
      for (const manager of opened.splice(0)) await manager.close();
      await dropSchema(schema);
    }
  }, 60_000);

  it('a request made through another manager of this process reaches the manager that runs the agent', async () => {
    const manager = await open({ runner: sleepingAgents() });
    const session = await manager.spawnAgentSession('LongAgent', 'run until stopped', { issueNumber: 3, currentPhase: 'Test', worktreePath: dir });
    await pollFor(async () => (await manager.getSession(session.id))?.agent, 10_000, 'the agent to start');
    const watcher = await open();
    await watcher.requestStop(session.id, { by: 'bob' });
    const ended = await manager.waitForAgent(session.id);
    expect(ended).toMatchObject({ status: 'Failed', error: expect.stringMatching(/stopped at the request of bob: stop requested$/), endedBy: 'bob' });
  }, 30_000);

  it('refuses what the machine refuses, and writes nothing then: no running agent, a second request, no name', async () => {
    const manager = await open();
    const session = await manager.spawnAgentSession('LoneAgent', 'no agent runs', { issueNumber: 4, currentPhase: 'Test', worktreePath: dir });
    await expect(manager.requestStop(session.id, { by: 'carol' })).rejects.toSatisfy(refusedAs('INVALID_TRANSITION'));
    await expect(manager.requestStop(session.id, { by: '' })).rejects.toSatisfy(refusedAs('INVALID_INPUT'));
    await expect(manager.requestStop(session.id, { by: 'carol', reason: 'a\0b' })).rejects.toSatisfy(refusedAs('INVALID_INPUT'));
    expect((await manager.getSession(session.id))?.revision).toBe(1);

    const runner = await open({ runner: sleepingAgents() });
    const running = await runner.spawnAgentSession('LongAgent', 'run until stopped', { issueNumber: 4, currentPhase: 'Test', worktreePath: dir });
    await pollFor(async () => (await manager.getSession(running.id))?.agent, 10_000, 'the agent to start');
    // Two people at once: one request is recorded, the other refused.
    const both = await Promise.allSettled([manager.requestStop(running.id, { by: 'dave' }), manager.requestStop(running.id, { by: 'erin' })]);
    expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(both.filter((r) => r.status === 'rejected').map((r) => refusedAs('INVALID_TRANSITION')((r as PromiseRejectedResult).reason))).toEqual([true]);
    const ended = await runner.waitForAgent(running.id);
    expect(ended.status).toBe('Failed');
    expect(['dave', 'erin']).toContain(ended.endedBy);
  }, 30_000);

  it('a request left pending by a manager that died is carried out by the manager that adopts its agent', async () => {
    const host = startChild('run-agent', [join(dir, 'store'), dir]);
    await waitFor(() => host.lines.some((l) => l.startsWith('started ')), 20_000, 'the other manager to start its agent');
    const [, id, pid] = host.lines.find((l) => l.startsWith('started '))!.split(' ') as [string, string, string];
    host.child.kill('SIGKILL');
    await host.exited;
    expect(pidAlive(Number(pid))).toBe(true);
    const watcher = await open();
    await watcher.requestStop(id, { by: 'frank', reason: 'nobody watches it' });
    // Opening with a runner adopts the orphan, sees the pending request, and carries it out.
    const adopter = await open({ runner: sleepingAgents() });
    expect(adopter.openReport.adopted).toEqual([id]);
    const ended = await adopter.waitForAgent(id);
    expect(ended).toMatchObject({ status: 'Failed', error: expect.stringMatching(/stopped at the request of frank: nobody watches it$/), endedBy: 'frank' });
    await waitFor(() => !pidAlive(Number(pid)), 10_000, 'the agent process to be gone');
  }, 60_000);
});
