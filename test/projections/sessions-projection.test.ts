import { describe, expect, it } from 'vitest';
import { emptySessionsState, evolveSessions, foldEachSession, foldSession, spawnRefusal, spawnedSessionsOf, type SessionsState } from '../../src/projections/sessions-projection.js';
import { pipelineIdOf } from '../../src/domain/pipeline-id.js';
import { retryIdOf } from '../../src/domain/retry-id.js';
import { EVENT_SCHEMA_VERSION } from '../../src/events/event-envelope.js';
import type { SessionEvent } from '../../src/events/session-event.js';
import { numberedId } from '../helpers/fixtures.js';

/*
 * The sessions projection, one event at a time: each event's exact effect on its session (every
 * field, and only the fields it sets), and each refusal with the rule it names. The manager's and
 * the store's tests fold real logs through it; these pin its rules down one by one.
 */

const T = (n: number) => `2026-11-30T06:00:${String(n).padStart(2, '0')}.000Z`;
const ID = (n: number) => numberedId(n);
const CONTEXT = { issueNumber: 7, currentPhase: 'CodeGeneration' as const, worktreePath: '/w', previousResults: [] };
const PROCESS = { host: 'h', pid: 4242, startTime: 'boot' };
const AGENT_DATA = { process: PROCESS, supervisor: { host: 'h', pid: 1, startTime: null }, command: ['claude', '-p'], cwd: '/w', logFile: '/w/agent.log', resumedFrom: null };
const TRANSCRIPT = { bytes: 12, sha256: 'a'.repeat(64) };

let seq = 0;
/** An event of the log: the envelope filled in, `seq` counting up. */
function event(type: string, sessionId: string, data: object, extra: object = {}): SessionEvent {
  seq += 1;
  return { seq, id: ID(1000 + seq), type, sessionId, timestamp: T(seq % 60), schemaVersion: EVENT_SCHEMA_VERSION, data, ...extra } as SessionEvent;
}
const spawn = (n: number, data: object = {}, extra: object = {}) => event('SessionSpawned', ID(n), { agentName: 'CodeGenAgent', purpose: 'p', context: CONTEXT, parentSession: null, ...data }, extra);

/** A state the events were folded into, in order. */
function folded(...events: SessionEvent[]): SessionsState {
  const state = emptySessionsState();
  for (const e of events) evolveSessions(state, e);
  return state;
}

/** The CORRUPT_LOG refusal of `e`, with its rule. */
const refusal = (e: SessionEvent, why: string) => expect.objectContaining({ code: 'CORRUPT_LOG', message: `event seq ${e.seq} (${e.type}) for session ${e.sessionId} is not allowed: ${why}`, sessionId: e.sessionId });

describe('evolveSessions: a spawn', () => {
  it('makes an Active session at revision 1 with exactly the fields it carries', () => {
    const e = spawn(1);
    const state = folded(e);
    expect(state.sessions.get(ID(1))).toStrictEqual({ id: ID(1), agentName: 'CodeGenAgent', purpose: 'p', context: CONTEXT, createdAt: e.timestamp, status: 'Active', parentSession: null, childSessions: [], revision: 1 });
    expect([state.lastSeq, state.lastEventId]).toEqual([e.seq, e.id]);
  });

  it('keeps a pipeline, who started it, an imported mark and the original creation time', () => {
    const pipeline = { steps: [{ agentName: 'CodeGenAgent', phase: 'CodeGeneration' }] };
    const e = spawn(1, { pipeline, createdAt: '2025-01-01T00:00:00.000Z' }, { imported: true, by: 'alice' });
    expect(folded(e).sessions.get(ID(1))).toStrictEqual({
      id: ID(1), agentName: 'CodeGenAgent', purpose: 'p', context: CONTEXT, createdAt: '2025-01-01T00:00:00.000Z', status: 'Active', parentSession: null, childSessions: [], revision: 1,
      pipeline, imported: true, startedBy: 'alice',
    });
  });

  it('a retry names its Failed session as parent and retryOf, under its retry id', () => {
    const failed = spawn(1);
    const fail = event('SessionFailed', ID(1), { error: 'boom' });
    const retry = event('SessionSpawned', retryIdOf(ID(1)), { agentName: 'CodeGenAgent', purpose: 'p', context: CONTEXT, parentSession: ID(1), retryOf: ID(1) });
    const state = folded(failed, fail, retry);
    expect(state.sessions.get(retryIdOf(ID(1)))).toMatchObject({ retryOf: ID(1), parentSession: ID(1), status: 'Active' });
    // The failed session's record is final: the retry is not its child.
    expect(state.sessions.get(ID(1))!.childSessions).toEqual([]);
  });

  it.each([
    ['a second spawn of one id', () => spawn(1), `session ${ID(1)} is spawned a second time`],
    ['a child its parent never handed off to', () => spawn(2, { parentSession: ID(1) }), `session ${ID(2)} names ${ID(1)} as its parent, which did not hand off to it`],
    ['a retry that names another parent', () => event('SessionSpawned', retryIdOf(ID(1)), { agentName: 'A', purpose: 'p', context: CONTEXT, parentSession: null, retryOf: ID(1) }), `retry ${retryIdOf(ID(1))} of ${ID(1)} must name it as its parent, not null`],
    ['a retry of an Active session', () => event('SessionSpawned', retryIdOf(ID(1)), { agentName: 'A', purpose: 'p', context: CONTEXT, parentSession: ID(1), retryOf: ID(1) }), `session ${retryIdOf(ID(1))} retries ${ID(1)}, which is Active, not Failed`],
    ['a retry of an unknown session', () => event('SessionSpawned', retryIdOf(ID(9)), { agentName: 'A', purpose: 'p', context: CONTEXT, parentSession: ID(9), retryOf: ID(9) }), `session ${retryIdOf(ID(9))} retries ${ID(9)}, which is unknown, not Failed`],
  ])('refuses %s', (_what, make, why) => {
    const state = folded(spawn(1));
    const e = make();
    expect(() => evolveSessions(state, e)).toThrow(refusal(e, why));
  });

  it('refuses a retry without the retry id of the session it retries', () => {
    const state = folded(spawn(1), event('SessionFailed', ID(1), { error: 'boom' }));
    const e = event('SessionSpawned', ID(5), { agentName: 'A', purpose: 'p', context: CONTEXT, parentSession: ID(1), retryOf: ID(1) });
    expect(() => evolveSessions(state, e)).toThrow(refusal(e, `session ${ID(5)} retries ${ID(1)} but does not have its retry id ${retryIdOf(ID(1))}`));
  });

  it('spawnRefusal reads the lineage through the map: a child its parent handed off to fits', () => {
    const state = folded(spawn(1), event('SessionHandedOff', ID(1), { toAgent: 'ReviewAgent', childSession: ID(2) }));
    const sessions = spawnedSessionsOf(state.sessions);
    expect(sessions.handedOffTo(ID(1), ID(2))).toBe(true);
    expect(sessions.handedOffTo(ID(1), ID(3))).toBe(false);
    expect(sessions.handedOffTo(ID(8), ID(2))).toBe(false);
    expect(spawnRefusal(sessions, spawn(2, { parentSession: ID(1) }) as never)).toBeNull();
  });
});

describe('evolveSessions: agents and stop requests', () => {
  it('an agent starts, is asked to stop, and finishes: each sets its fields and moves the revision by one', () => {
    const state = folded(spawn(1));
    const start = event('SessionAgentStarted', ID(1), AGENT_DATA);
    evolveSessions(state, start);
    expect(state.sessions.get(ID(1))).toMatchObject({ revision: 2 });
    expect(state.sessions.get(ID(1))!.agent).toStrictEqual({ ...AGENT_DATA, startedAt: start.timestamp });
    const again = event('SessionAgentStarted', ID(1), AGENT_DATA);
    expect(() => evolveSessions(state, again)).toThrow(refusal(again, 'its agent (pid 4242) is still running'));
    const stop = event('SessionStopRequested', ID(1), { reason: 'too slow' }, { by: 'ops' });
    evolveSessions(state, stop);
    expect(state.sessions.get(ID(1))!.agent!.stopRequest).toStrictEqual({ by: 'ops', at: stop.timestamp, reason: 'too slow' });
    expect(state.sessions.get(ID(1))!.revision).toBe(3);
    const stopAgain = event('SessionStopRequested', ID(1), { reason: 'again' }, { by: 'ops' });
    expect(() => evolveSessions(state, stopAgain)).toThrow(refusal(stopAgain, 'a stop was requested already'));
    const finish = event('SessionAgentFinished', ID(1), { result: { success: true, output: 'done' } });
    evolveSessions(state, finish);
    const session = state.sessions.get(ID(1))!;
    expect(session).toMatchObject({ status: 'Active', revision: 4, result: { success: true, output: 'done' } });
    expect(session.agent).toStrictEqual({ ...AGENT_DATA, startedAt: start.timestamp, stopRequest: { by: 'ops', at: stop.timestamp, reason: 'too slow' }, finishedAt: finish.timestamp });
    const finishAgain = event('SessionAgentFinished', ID(1), { result: { success: true, output: 'x' } });
    expect(() => evolveSessions(state, finishAgain)).toThrow(refusal(finishAgain, 'it has no running agent'));
    const stopLate = event('SessionStopRequested', ID(1), { reason: 'r' }, { by: 'ops' });
    expect(() => evolveSessions(state, stopLate)).toThrow(refusal(stopLate, 'it has no running agent'));
  });

  it("a finish keeps the conversation's transcript on the agent", () => {
    const state = folded(spawn(1), event('SessionAgentStarted', ID(1), AGENT_DATA), event('SessionAgentFinished', ID(1), { result: { success: true, output: 'ok' }, transcript: TRANSCRIPT }));
    expect(state.sessions.get(ID(1))!.agent!.transcript).toStrictEqual(TRANSCRIPT);
  });
});

describe('evolveSessions: the end of a session', () => {
  it('a handoff: HandedOff to its agent, the child listed, its running agent stopped at that time, who ended it, when', () => {
    const start = event('SessionAgentStarted', ID(1), AGENT_DATA);
    const handoff = event('SessionHandedOff', ID(1), { toAgent: 'ReviewAgent', childSession: ID(2), result: { success: true, output: 'code' } }, { by: 'bob' });
    const session = folded(spawn(1), start, handoff).sessions.get(ID(1))!;
    expect(session).toStrictEqual({
      id: ID(1), agentName: 'CodeGenAgent', purpose: 'p', context: CONTEXT, createdAt: session.createdAt, status: 'HandedOff', parentSession: null, childSessions: [ID(2)], revision: 3,
      agent: { ...AGENT_DATA, startedAt: start.timestamp, finishedAt: handoff.timestamp }, endedAt: handoff.timestamp, endedBy: 'bob', handoffTo: 'ReviewAgent', result: { success: true, output: 'code' },
    });
  });

  it('a completion: only what it carries; its transcript goes on the agent when there is one', () => {
    const complete = event('SessionCompleted', ID(1), {});
    const bare = folded(spawn(1), complete).sessions.get(ID(1))!;
    expect(bare).toStrictEqual({ id: ID(1), agentName: 'CodeGenAgent', purpose: 'p', context: CONTEXT, createdAt: bare.createdAt, status: 'Completed', parentSession: null, childSessions: [], revision: 2, endedAt: complete.timestamp });
    const withAgent = folded(spawn(1), event('SessionAgentStarted', ID(1), AGENT_DATA), event('SessionCompleted', ID(1), { result: { success: true, output: 'ok' }, transcript: TRANSCRIPT })).sessions.get(ID(1))!;
    expect(withAgent.agent!.transcript).toStrictEqual(TRANSCRIPT);
    expect(withAgent.result).toStrictEqual({ success: true, output: 'ok' });
    // An agent, no transcript: the agent gets no transcript key at all.
    const start = event('SessionAgentStarted', ID(1), AGENT_DATA);
    const failed = event('SessionFailed', ID(1), { error: 'x' });
    expect(folded(spawn(1), start, failed).sessions.get(ID(1))!.agent).toStrictEqual({ ...AGENT_DATA, startedAt: start.timestamp, finishedAt: failed.timestamp });
    // No agent: the transcript has nowhere to go, and nothing else takes it.
    const noAgent = folded(spawn(1), event('SessionCompleted', ID(1), { transcript: TRANSCRIPT })).sessions.get(ID(1))!;
    expect(noAgent.agent).toBeUndefined();
  });

  it('an imported end has no end time (the original kept none)', () => {
    const session = folded(spawn(1), event('SessionCompleted', ID(1), {}, { imported: true })).sessions.get(ID(1))!;
    expect('endedAt' in session).toBe(false);
    expect(session.revision).toBe(2);
  });

  it('a failure: its error, and interrupted, capped, retryAfter and result only when given', () => {
    const fail = event('SessionFailed', ID(1), { error: 'boom' });
    const bare = folded(spawn(1), fail).sessions.get(ID(1))!;
    expect(bare).toStrictEqual({ id: ID(1), agentName: 'CodeGenAgent', purpose: 'p', context: CONTEXT, createdAt: bare.createdAt, status: 'Failed', parentSession: null, childSessions: [], revision: 2, endedAt: fail.timestamp, error: 'boom' });
    const full = folded(spawn(1), event('SessionFailed', ID(1), { error: 'capped', interrupted: true, capped: 'turns', retryAfter: T(59), result: { success: false, output: 'partial' } })).sessions.get(ID(1))!;
    expect(full).toMatchObject({ error: 'capped', interrupted: true, capped: 'turns', retryAfter: T(59), result: { success: false, output: 'partial' } });
  });

  it('refuses any event on a session that is not Active, and on one never spawned', () => {
    const completed = event('SessionCompleted', ID(1), {});
    const state = folded(spawn(1), completed);
    for (const type of ['SessionCompleted', 'SessionFailed', 'SessionHandedOff', 'SessionAgentStarted']) {
      const e = event(type, ID(1), type === 'SessionFailed' ? { error: 'x' } : type === 'SessionHandedOff' ? { toAgent: 'R', childSession: ID(3) } : type === 'SessionAgentStarted' ? AGENT_DATA : {});
      expect(() => evolveSessions(state, e)).toThrow(refusal(e, 'the session is Completed, not Active'));
    }
    const stray = event('SessionCompleted', ID(9), {});
    expect(() => evolveSessions(state, stray)).toThrow(refusal(stray, 'no such session'));
    // A refused event leaves the state where it was.
    expect(state.lastSeq).toBe(completed.seq);
  });
});

describe('evolveSessions: a pipeline stream event', () => {
  const pipeline = { steps: [{ agentName: 'CodeGenAgent', phase: 'CodeGeneration' }, { agentName: 'ReviewAgent', phase: 'Review', approval: true }] };
  const waiting = (stream: string, root: string) => event('PipelineWaiting', stream, { rootId: root, reason: 'gate', step: 1, sessionId: root, detail: 'waits' });

  it("fits its pipeline's root: it moves the log position and changes no session", () => {
    const state = folded(spawn(1, { pipeline }));
    const before = structuredClone(state.sessions.get(ID(1)));
    const e = waiting(pipelineIdOf(ID(1)), ID(1));
    evolveSessions(state, e);
    expect([state.lastSeq, state.lastEventId]).toEqual([e.seq, e.id]);
    expect(state.sessions.get(ID(1))).toStrictEqual(before);
    expect(state.sessions.size).toBe(1);
  });

  it('is refused for a root never spawned, a session that is no pipeline root, and the wrong stream', () => {
    const last = spawn(3, { parentSession: ID(1), pipeline });
    const state = folded(spawn(1, { pipeline }), spawn(2), event('SessionHandedOff', ID(1), { toAgent: 'ReviewAgent', childSession: ID(3) }), last);
    const unknown = waiting(pipelineIdOf(ID(9)), ID(9));
    expect(() => evolveSessions(state, unknown)).toThrow(refusal(unknown, `its pipeline's root ${ID(9)} was never spawned`));
    const noPipeline = waiting(pipelineIdOf(ID(2)), ID(2));
    expect(() => evolveSessions(state, noPipeline)).toThrow(refusal(noPipeline, `session ${ID(2)} is not the root of a pipeline`));
    // A pipeline spec on a session with a parent: not a root.
    const child = waiting(pipelineIdOf(ID(3)), ID(3));
    expect(() => evolveSessions(state, child)).toThrow(refusal(child, `session ${ID(3)} is not the root of a pipeline`));
    const wrongStream = waiting(pipelineIdOf(ID(2)), ID(1));
    expect(() => evolveSessions(state, wrongStream)).toThrow(refusal(wrongStream, `stream ${pipelineIdOf(ID(2))} is not the stream of pipeline ${ID(1)} (${pipelineIdOf(ID(1))})`));
    expect(state.lastSeq).toBe(last.seq);
  });
});

describe('foldSession and foldEachSession', () => {
  it('fold one session from its own events, by the same rules', () => {
    const events = [spawn(1), event('SessionAgentStarted', ID(1), AGENT_DATA), event('SessionFailed', ID(1), { error: 'boom' })];
    expect(foldSession(events)).toStrictEqual(folded(...events).sessions.get(ID(1)));
    expect(() => foldSession([])).toThrow(expect.objectContaining({ code: 'CORRUPT_LOG', message: 'a session without events' }));
    const first = event('SessionCompleted', ID(1), {});
    expect(() => foldSession([first])).toThrow(refusal(first, 'no such session'));
    const twice = spawn(1);
    expect(() => foldSession([spawn(1), twice])).toThrow(refusal(twice, `session ${ID(1)} is spawned a second time`));
    const stream = event('PipelineWaiting', ID(1), { rootId: ID(1), reason: 'gate', step: 1, sessionId: ID(1), detail: 'd' });
    expect(() => foldSession([spawn(1), stream])).toThrow(refusal(stream, "a pipeline stream event among a session's"));
    expect(() => foldSession([spawn(1), event('SessionCompleted', ID(1), {}), event('SessionCompleted', ID(1), {})])).toThrow(expect.objectContaining({ message: expect.stringMatching(/the session is Completed, not Active$/) }));
  });

  it('foldEachSession: each session alone, in the order their first events come', () => {
    const events = [spawn(2), spawn(1), event('SessionCompleted', ID(2), {}), event('SessionFailed', ID(1), { error: 'x' })];
    const sessions = foldEachSession(events);
    expect([...sessions.keys()]).toEqual([ID(2), ID(1)]);
    expect([...sessions.values()].map((s) => s.status)).toEqual(['Completed', 'Failed']);
  });
});
