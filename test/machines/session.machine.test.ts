import { getAdjacencyMap, getSimplePaths } from '@xstate/graph';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActor, transition } from 'xstate';
import { sessionMachine, type SessionMachineEvent } from '../../machines/session.machine.js';
import { SessionManager, type Session } from '../../src/index.js';
import type { SupervisorRecorder } from '../../src/manager/agent-supervisor.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';

const AT = '2026-01-01T00:00:00.000Z';
const CHILD = '11111111-1111-4111-8111-111111111111';
const EVENTS: SessionMachineEvent[] = [
  { type: 'HAND_OFF', toAgent: 'ReviewAgent', childSession: CHILD, at: AT },
  { type: 'COMPLETE', result: { success: true, output: 'ok' }, at: AT },
  { type: 'FAIL', error: 'boom', at: AT },
  { type: 'AGENT_STARTED', pid: 4242, at: AT },
  { type: 'AGENT_FINISHED', result: { success: true, output: 'done' }, at: AT },
  { type: 'REQUEST_STOP', reason: 'runaway', at: AT },
];
const INPUT = { id: '00000000-0000-4000-8000-000000000000', agentName: 'CodeGenAgent', childSessions: [] };
const traversal = { events: EVENTS, input: INPUT };

describe('session machine', () => {
  it('reaches exactly active, handedOff, completed and failed', () => {
    const states = new Set(getSimplePaths(sessionMachine, traversal).map((p) => p.state.value));
    expect([...states].sort()).toEqual(['active', 'completed', 'failed', 'handedOff']);
  });

  it('moves from active on every ending event, runs one agent at a time, and refuses every event in each final state', () => {
    const adjacency = getAdjacencyMap(sessionMachine, traversal);
    const edges = new Set<string>();
    for (const { state } of Object.values(adjacency)) {
      const running = state.context.agent !== undefined && !state.context.agent.finished;
      for (const event of EVENTS) {
        const allowed = state.can(event);
        if (state.value !== 'active') {
          expect(state.status).toBe('done');
          expect(allowed).toBe(false);
          continue;
        }
        if (event.type === 'AGENT_STARTED') expect(allowed).toBe(!running);
        else if (event.type === 'AGENT_FINISHED') expect(allowed).toBe(running);
        else if (event.type === 'REQUEST_STOP') expect(allowed).toBe(running && state.context.agent?.stopRequested !== true);
        else expect(allowed).toBe(true);
        if (allowed) edges.add(`active -${event.type}-> ${String(transition(sessionMachine, state, event)[0].value)}`);
      }
    }
    expect([...edges].sort()).toEqual([
      'active -AGENT_FINISHED-> active',
      'active -AGENT_STARTED-> active',
      'active -COMPLETE-> completed',
      'active -FAIL-> failed',
      'active -HAND_OFF-> handedOff',
      'active -REQUEST_STOP-> active',
    ]);
  });

  it('records what each transition says about the session', () => {
    const run = (event: SessionMachineEvent) => {
      const actor = createActor(sessionMachine, { input: INPUT }).start();
      actor.send(event);
      return actor.getSnapshot().context;
    };
    expect(run(EVENTS[0]!)).toMatchObject({ handoffTo: 'ReviewAgent', childSessions: [CHILD], endedAt: AT });
    expect(run(EVENTS[1]!)).toMatchObject({ result: { success: true, output: 'ok' }, endedAt: AT });
    expect(run(EVENTS[2]!)).toMatchObject({ error: 'boom', endedAt: AT });
  });
});

describe('the manager follows every machine path', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  const paths = getSimplePaths(sessionMachine, traversal);
  const status = { active: 'Active', handedOff: 'HandedOff', completed: 'Completed', failed: 'Failed' } as const;

  for (const path of paths) for (const actors of ['eager', 'on-demand'] as const) {
    const name = path.steps.map((s) => s.event.type).join(' → ') || '(spawn only)';
    it(`path ${name} ends ${String(path.state.value)} in the manager, live (${actors} actor), after reopen, and refuses all further moves`, async () => {
      let manager = await SessionManager.open(dir, { actors });
      let session: Session = await manager.spawnAgentSession('CodeGenAgent', 'Implement #42', contextFor());
      // Asked for right after the spawn, the actor must then follow every event of the path.
      const actor = manager.actorOf(session.id)!;
      // Agent starts and ends reach the log the way a runner's supervisor records them.
      const recorder = (manager as unknown as { agentRecorder(): SupervisorRecorder }).agentRecorder();
      for (const step of path.steps.slice(1)) {
        const event = step.event as SessionMachineEvent;
        if (event.type === 'AGENT_STARTED') await recorder.started(session.id, { pid: event.pid, startTime: '1', command: ['claude', '-p'], cwd: '/w' }, null, manager.logFileOf(session.id));
        else if (event.type === 'AGENT_FINISHED') await recorder.finished(session.id, { ok: true, result: event.result });
        else if (event.type === 'REQUEST_STOP') await manager.requestStop(session.id, { by: 'tester', reason: event.reason });
        else if (event.type === 'HAND_OFF') await manager.handoff(session.id, 'ReviewAgent', contextFor('Review'));
        else if (event.type === 'COMPLETE') await manager.completeSession(session.id, { success: true, output: 'ok' });
        else await manager.failSession(session.id, 'boom');
      }
      const expected = status[path.state.value as keyof typeof status];
      expect((await manager.getSession(session.id))?.status).toBe(expected);
      // The agent record follows the path: started or not, and finished unless it still runs.
      const lastAgentEvent = path.steps.map((s) => s.event.type).filter((t) => t.startsWith('AGENT_')).at(-1);
      // A stop request is pending on the agent it was made for, and gone with a new agent.
      const stopAfterStart = path.steps.map((s) => s.event.type).filter((t) => t === 'AGENT_STARTED' || t === 'REQUEST_STOP').at(-1) === 'REQUEST_STOP';
      expect((await manager.getSession(session.id))?.agent?.stopRequest?.by).toBe(stopAfterStart ? 'tester' : undefined);
      const agent = (await manager.getSession(session.id))?.agent;
      expect(agent === undefined).toBe(lastAgentEvent === undefined);
      if (agent !== undefined) expect(agent.finishedAt === undefined).toBe(lastAgentEvent === 'AGENT_STARTED' && expected === 'Active');
      expect(manager.actorOf(session.id)?.getSnapshot().value ?? 'ended').toBe(expected === 'Active' ? 'active' : 'ended');
      expect(actor.getSnapshot().value).toBe(path.state.value);
      await manager.close();
      manager = await SessionManager.open(dir);
      session = (await manager.getSession(session.id))!;
      expect(session.status).toBe(expected);
      if (expected !== 'Active') {
        await expect(manager.completeSession(session.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
        await expect(manager.failSession(session.id, 'x')).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
        await expect(manager.handoff(session.id, 'TestAgent', contextFor('Test'))).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
      }
      await manager.close();
    });
  }
});
