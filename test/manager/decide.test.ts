import { describe, expect, it } from 'vitest';
import {
  decideAgentFinished,
  decideAgentStarted,
  decideComplete,
  decideFail,
  decideHandoff,
  decideRetry,
  decideSpawn,
  decideStopRequest,
  parseSessionId,
  type DecisionClock,
} from '../../src/manager/decide.js';
import { emptySessionsState, evolveSessions, type SessionsState } from '../../src/projections/sessions-projection.js';
import { retryIdOf } from '../../src/domain/retry-id.js';
import { EVENT_SCHEMA_VERSION } from '../../src/events/event-envelope.js';
import type { AppendRequest } from '../../src/store/event-store.js';
import type { SessionEvent } from '../../src/events/session-event.js';
import { contextFor, numberedId } from '../helpers/fixtures.js';

/*
 * The decisions alone, on a state built by folding their own events: each returns exactly the
 * events and expected revisions the store is asked to append, or refuses with a typed error and a
 * message that says why. (The manager's tests cover them through the store; these pin them down
 * one field at a time, which the mutation run asks for.)
 */

const NOW = '2026-11-30T06:00:00.000Z';

/** A clock whose ids count up: 00000000-0000-4000-8000-000000000001, …02, … */
function countingClock(): DecisionClock {
  let n = 0;
  return { now: NOW, newId: () => numberedId((n += 1), '00000000') };
}

/** Folds a decision's events into the state, as the store would after appending them. */
function apply(state: SessionsState, request: AppendRequest): SessionEvent[] {
  const events = request.events.map((e, i) => ({ ...e, seq: state.lastSeq + 1 + i, ...(request.events.length > 1 ? { txSize: request.events.length } : {}) }) as SessionEvent);
  for (const event of events) evolveSessions(state, event);
  return events;
}

const PROCESS = { host: 'h', pid: 4242, startTime: null };
const AGENT = { process: PROCESS, supervisor: { host: 'h', pid: 1, startTime: null }, command: ['claude', '-p'], cwd: '/w', logFile: '/w/log', resumedFrom: null, startedAt: NOW };

function setup() {
  const state = emptySessionsState();
  const clock = countingClock();
  const spawn = (input: Partial<Parameters<typeof decideSpawn>[1]> = {}) => {
    const request = decideSpawn(state.sessions, { agentName: 'CodeGenAgent', purpose: 'build it', context: contextFor(), ...input }, clock);
    apply(state, request);
    return state.sessions.get(request.events[0]!.sessionId)!;
  };
  return { state, clock, spawn };
}

describe('decideSpawn', () => {
  it('one SessionSpawned for a fresh id, expecting revision 0', () => {
    const { state, clock } = setup();
    const request = decideSpawn(state.sessions, { agentName: 'CodeGenAgent', purpose: 'build it', context: contextFor() }, clock);
    const id = '00000000-0000-4000-8000-000000000001';
    expect(request.events).toStrictEqual([
      {
        id: '00000000-0000-4000-8000-000000000002',
        sessionId: id,
        timestamp: NOW,
        schemaVersion: EVENT_SCHEMA_VERSION,
        type: 'SessionSpawned',
        data: { agentName: 'CodeGenAgent', purpose: 'build it', context: { ...contextFor(), previousResults: [] }, parentSession: null },
      },
    ]);
    expect(request.expectedRevisions).toEqual(new Map([[id, 0]]));
    expect('by' in request.events[0]!).toBe(false);
  });

  it('takes a given id and a `by`; refuses an id already taken', () => {
    const { state, clock, spawn } = setup();
    const given = '3f1d8a52-0000-4000-8000-000000000000';
    const first = spawn({ sessionId: given, by: 'alice' });
    expect(first.id).toBe(given);
    const request = decideSpawn(state.sessions, { agentName: 'A', purpose: 'p', context: contextFor(), by: 'bob' }, clock);
    expect(request.events[0]).toMatchObject({ by: 'bob' });
    expect(() => decideSpawn(state.sessions, { agentName: 'A', purpose: 'p', context: contextFor(), sessionId: given }, clock)).toThrow(
      expect.objectContaining({ code: 'ALREADY_EXISTS', message: `session ${given} exists already`, sessionId: given }),
    );
  });

  it('a pipeline spec with its retries and governance goes on the event; without retries, none is written', () => {
    const { state, clock } = setup();
    const steps = [{ agentName: 'CodeGenAgent', phase: 'CodeGeneration' }, { agentName: 'ReviewAgent', phase: 'Review' }];
    const governed = decideSpawn(state.sessions, { agentName: 'CodeGenAgent', purpose: 'p', context: contextFor(), pipelineSteps: steps, pipelineRetries: 2, pipelineGovernance: { budgetUsd: 5 } }, clock);
    const data = governed.events[0]!.data as { pipeline?: Record<string, unknown> };
    expect(data.pipeline).toMatchObject({ maxRetries: 2, budgetUsd: 5 });
    expect(Object.keys(data.pipeline!).sort()).toEqual(['budgetUsd', 'maxRetries', 'steps']);
    const plain = decideSpawn(state.sessions, { agentName: 'CodeGenAgent', purpose: 'p', context: contextFor(), pipelineSteps: steps }, clock);
    expect(Object.keys((plain.events[0]!.data as { pipeline?: object }).pipeline!)).toEqual(['steps']);
    const none = decideSpawn(state.sessions, { agentName: 'CodeGenAgent', purpose: 'p', context: contextFor() }, clock);
    expect('pipeline' in none.events[0]!.data).toBe(false);
  });

  it.each([
    ['agent name', { agentName: '../etc' }, /agent name/],
    ['empty purpose', { purpose: '' }, /^invalid purpose: .*purpose must not be empty/],
    ['purpose with NUL', { purpose: 'a\0b' }, /purpose must not contain NUL bytes/],
    ['purpose too long', { purpose: 'x'.repeat(64 * 1024 + 1) }, /purpose is longer than 65536 characters/],
    ['context', { context: { issueNumber: 0 } }, /session context/],
    ['session id', { sessionId: 'not-a-uuid' }, /^invalid session id: /],
    ['by', { by: '' }, /by/],
    ['pipeline steps', { pipelineSteps: 'x' }, /pipeline steps/],
    ['pipeline retries', { pipelineSteps: [{ agentName: 'A', phase: 'Review' }], pipelineRetries: -1 }, /pipeline maxRetries/],
    ['pipeline governance', { pipelineSteps: [{ agentName: 'A', phase: 'Review' }], pipelineGovernance: { budgetUsd: 'lots' } }, /pipeline governance/],
  ])('refuses a bad %s with INVALID_INPUT, naming it', (_what, bad, message) => {
    const { state, clock } = setup();
    expect(() => decideSpawn(state.sessions, { agentName: 'CodeGenAgent', purpose: 'p', context: contextFor(), ...bad }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(message) }));
  });
});

describe('decideHandoff', () => {
  it('hands off: the parent event then the child spawn, one append expecting both revisions', () => {
    const { state, clock, spawn } = setup();
    const parent = spawn({ by: 'alice' });
    const request = decideHandoff(state.sessions, { fromId: parent.id, toAgent: 'ReviewAgent', context: contextFor('Review'), by: 'bob' }, clock);
    const childId = '00000000-0000-4000-8000-000000000003';
    expect(request.events).toStrictEqual([
      { id: '00000000-0000-4000-8000-000000000004', sessionId: parent.id, timestamp: NOW, schemaVersion: EVENT_SCHEMA_VERSION, by: 'bob', type: 'SessionHandedOff', data: { toAgent: 'ReviewAgent', childSession: childId } },
      {
        id: '00000000-0000-4000-8000-000000000005',
        sessionId: childId,
        timestamp: NOW,
        schemaVersion: EVENT_SCHEMA_VERSION,
        by: 'bob',
        type: 'SessionSpawned',
        data: { agentName: 'ReviewAgent', purpose: `Handoff from session ${parent.id}`, context: { ...contextFor('Review'), previousResults: [] }, parentSession: parent.id },
      },
    ]);
    expect(request.expectedRevisions).toEqual(new Map([[parent.id, parent.revision], [childId, 0]]));
  });

  it("a result handed over is added to the child's previous results, named by the parent", () => {
    const { state, clock, spawn } = setup();
    const parent = spawn({ context: { ...contextFor(), previousResults: [{ success: true, output: 'earlier', agentName: 'PlanAgent', sessionId: '3f1d8a52-0000-4000-8000-000000000000' }] } });
    const result = { success: true, output: 'code' };
    const request = decideHandoff(state.sessions, { fromId: parent.id, toAgent: 'ReviewAgent', context: contextFor('Review'), result }, clock);
    const handedOver = { ...result, agentName: 'CodeGenAgent', sessionId: parent.id };
    expect(request.events[0]!.data).toStrictEqual({ toAgent: 'ReviewAgent', childSession: request.events[1]!.sessionId, result: handedOver });
    // previousResults left out of the context: the parent's travel on, then the new one.
    const child = request.events[1]!.data as { context: { previousResults: unknown[] } };
    expect(child.context.previousResults).toEqual([parent.context.previousResults[0], handedOver]);
    // Given explicitly (even empty), the context's own list is used.
    const explicit = decideHandoff(state.sessions, { fromId: parent.id, toAgent: 'ReviewAgent', context: { ...contextFor('Review'), previousResults: [] } }, clock);
    expect((explicit.events[1]!.data as { context: { previousResults: unknown[] } }).context.previousResults).toEqual([]);
    const inherited = decideHandoff(state.sessions, { fromId: parent.id, toAgent: 'ReviewAgent', context: contextFor('Review') }, clock);
    expect((inherited.events[1]!.data as { context: { previousResults: unknown[] } }).context.previousResults).toEqual(parent.context.previousResults);
  });

  it('refuses a result when previousResults is full, but hands off without one', () => {
    const { state, clock, spawn } = setup();
    const full = Array.from({ length: 256 }, (_, i) => ({ success: true, output: `r${i}`, agentName: 'A', sessionId: '3f1d8a52-0000-4000-8000-000000000000' }));
    const parent = spawn({ context: { ...contextFor(), previousResults: full } });
    expect(() => decideHandoff(state.sessions, { fromId: parent.id, toAgent: 'ReviewAgent', context: contextFor('Review'), result: { success: true, output: 'x' } }, clock)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: 'invalid session context: previousResults already holds 256 results' }),
    );
    const shorter = spawn({ context: { ...contextFor(), previousResults: full.slice(1) } });
    expect(decideHandoff(state.sessions, { fromId: shorter.id, toAgent: 'ReviewAgent', context: contextFor('Review'), result: { success: true, output: 'x' } }, clock).events).toHaveLength(2);
    expect(decideHandoff(state.sessions, { fromId: parent.id, toAgent: 'ReviewAgent', context: contextFor('Review') }, clock).events).toHaveLength(2);
  });

  it('refuses an unknown, an ended or a malformed parent, a taken child id, and bad input', () => {
    const { state, clock, spawn } = setup();
    const unknown = '3f1d8a52-0000-4000-8000-000000000000';
    expect(() => decideHandoff(state.sessions, { fromId: unknown, toAgent: 'R', context: contextFor() }, clock)).toThrow(expect.objectContaining({ code: 'NOT_FOUND', message: `no session ${unknown}`, sessionId: unknown }));
    const parent = spawn();
    apply(state, decideComplete(state.sessions, { id: parent.id }, clock));
    expect(() => decideHandoff(state.sessions, { fromId: parent.id, toAgent: 'R', context: contextFor() }, clock)).toThrow(
      expect.objectContaining({ code: 'INVALID_TRANSITION', message: `session ${parent.id} is Completed; only an Active session can be handed off`, sessionId: parent.id }),
    );
    const active = spawn();
    expect(() => decideHandoff(state.sessions, { fromId: active.id, toAgent: 'R', context: contextFor(), sessionId: parent.id }, clock)).toThrow(expect.objectContaining({ code: 'ALREADY_EXISTS' }));
    expect(() => decideHandoff(state.sessions, { fromId: 'x', toAgent: 'R', context: contextFor() }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/^invalid session id: /) }));
    expect(() => decideHandoff(state.sessions, { fromId: active.id, toAgent: 'R', context: contextFor(), sessionId: 'x' }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/^invalid session id: /) }));
    // A context that is not an object is refused as input, never looked into.
    expect(() => decideHandoff(state.sessions, { fromId: active.id, toAgent: 'R', context: 'Review' }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/^invalid session context: /) }));
    expect(() => decideHandoff(state.sessions, { fromId: active.id, toAgent: '', context: contextFor() }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/agent name/) }));
    expect(() => decideHandoff(state.sessions, { fromId: active.id, toAgent: 'R', context: contextFor(), result: { success: 'yes' } }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/agent result/) }));
    expect(() => decideHandoff(state.sessions, { fromId: active.id, toAgent: 'R', context: null }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/session context/) }));
    expect(() => decideHandoff(state.sessions, { fromId: active.id, toAgent: 'R', context: contextFor(), by: 5 }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/by/) }));
  });
});

describe('decideRetry', () => {
  it('a Failed session runs again once, as its retry id, with its agent, purpose and context', () => {
    const { state, clock, spawn } = setup();
    const failed = spawn({ purpose: 'flaky', context: contextFor('Test', 7) });
    apply(state, decideFail(state.sessions, { id: failed.id, error: 'boom' }, clock));
    const request = decideRetry(state.sessions, { id: failed.id, by: 'carol' }, clock);
    const retryId = retryIdOf(failed.id);
    expect(request.events).toStrictEqual([
      {
        id: expect.any(String),
        sessionId: retryId,
        timestamp: NOW,
        schemaVersion: EVENT_SCHEMA_VERSION,
        by: 'carol',
        type: 'SessionSpawned',
        data: { agentName: 'CodeGenAgent', purpose: 'flaky', context: failed.context, parentSession: failed.id, retryOf: failed.id },
      },
    ]);
    expect(request.expectedRevisions).toEqual(new Map([[retryId, 0]]));
    apply(state, request);
    expect(() => decideRetry(state.sessions, { id: failed.id }, clock)).toThrow(
      expect.objectContaining({ code: 'ALREADY_EXISTS', message: `session ${failed.id} was retried already, as ${retryId}`, sessionId: retryId }),
    );
  });

  it('refuses a session that is not Failed, an unknown one and a malformed id', () => {
    const { state, clock, spawn } = setup();
    const active = spawn();
    expect(() => decideRetry(state.sessions, { id: active.id }, clock)).toThrow(
      expect.objectContaining({ code: 'INVALID_TRANSITION', message: `session ${active.id} is Active; only a Failed session can be retried`, sessionId: active.id }),
    );
    expect(() => decideRetry(state.sessions, { id: '3f1d8a52-0000-4000-8000-000000000000' }, clock)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => decideRetry(state.sessions, { id: 'nope' }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/^invalid session id: /) }));
    expect(() => decideRetry(state.sessions, { id: active.id, by: '' }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/by/) }));
  });
});

describe('decideComplete and decideFail', () => {
  it('complete: the result and transcript when given, nothing else; expecting the current revision', () => {
    const { state, clock, spawn } = setup();
    const session = spawn();
    const transcript = { skipped: 'disabled' };
    const bare = decideComplete(state.sessions, { id: session.id }, clock);
    expect(bare.events).toStrictEqual([{ id: expect.any(String), sessionId: session.id, timestamp: NOW, schemaVersion: EVENT_SCHEMA_VERSION, type: 'SessionCompleted', data: {} }]);
    expect(bare.expectedRevisions).toEqual(new Map([[session.id, session.revision]]));
    expect(() => decideComplete(state.sessions, { id: 'x' }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/^invalid session id: /) }));
    expect(() => decideFail(state.sessions, { id: 'x', error: 'e' }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/^invalid session id: /) }));
    const full = decideComplete(state.sessions, { id: session.id, result: { success: true, output: 'ok' }, transcript, by: 'dave' }, clock);
    expect(full.events[0]).toMatchObject({ by: 'dave', data: { result: { success: true, output: 'ok' }, transcript } });
    apply(state, full);
    expect(() => decideComplete(state.sessions, { id: session.id }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION', message: `session ${session.id} is Completed; only an Active session can be completed` }));
    expect(() => decideComplete(state.sessions, { id: session.id, result: { output: 1 } }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/agent result/) }));
  });

  it('fail: the error, and each optional field only when given', () => {
    const { state, clock, spawn } = setup();
    const session = spawn();
    const bare = decideFail(state.sessions, { id: session.id, error: 'boom' }, clock);
    expect(bare.events).toStrictEqual([{ id: expect.any(String), sessionId: session.id, timestamp: NOW, schemaVersion: EVENT_SCHEMA_VERSION, type: 'SessionFailed', data: { error: 'boom' } }]);
    const notInterrupted = decideFail(state.sessions, { id: session.id, error: 'boom', interrupted: false }, clock);
    expect(notInterrupted.events[0]!.data).toStrictEqual({ error: 'boom' });
    const transcript = { skipped: 'disabled' };
    const full = decideFail(state.sessions, { id: session.id, error: 'capped', result: { success: false, output: 'partial' }, transcript, interrupted: true, capped: 'turns' as const, retryAfter: NOW, by: 'erin' }, clock);
    expect(full.events[0]).toMatchObject({ by: 'erin', data: { error: 'capped', result: { success: false, output: 'partial' }, transcript, interrupted: true, capped: 'turns', retryAfter: NOW } });
    expect(full.expectedRevisions).toEqual(new Map([[session.id, session.revision]]));
    apply(state, bare);
    expect(() => decideFail(state.sessions, { id: session.id, error: 'again' }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION', message: `session ${session.id} is Failed; only an Active session can be failed` }));
  });

  it('fail with expectedRevision: only while the session is still at the revision the caller decided on', () => {
    const { state, clock, spawn } = setup();
    const session = spawn();
    const seen = session.revision;
    // Its agent's start reaches the log after the caller read it (an agent slow to start).
    apply(state, decideAgentStarted(state.sessions, { id: session.id, data: AGENT }, clock));
    expect(() => decideFail(state.sessions, { id: session.id, error: 'never started', interrupted: true, expectedRevision: seen }, clock)).toThrow(
      expect.objectContaining({ code: 'CONFLICT', sessionId: session.id, message: `session ${session.id} changed since revision ${seen} (it is at ${seen + 1}): not failed` }),
    );
    expect(decideFail(state.sessions, { id: session.id, error: 'stopped', expectedRevision: seen + 1 }, clock).events[0]!.type).toBe('SessionFailed');
    // An ended session is refused as before, whatever the revision.
    apply(state, decideFail(state.sessions, { id: session.id, error: 'boom' }, clock));
    expect(() => decideFail(state.sessions, { id: session.id, error: 'again', expectedRevision: seen }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION' }));
  });

  it.each([
    ['empty error', { error: '' }, /^invalid error: .*error must not be empty/],
    ['error too long', { error: 'e'.repeat(64 * 1024 + 1) }, /error is longer than 65536 characters/],
    ['error with NUL', { error: 'a\0' }, /error must not contain NUL bytes/],
    ['interrupted', { error: 'e', interrupted: 'yes' }, /interrupted/],
    ['result', { error: 'e', result: 'nope' }, /agent result/],
    ['expectedRevision', { error: 'e', expectedRevision: 1.5 }, /expectedRevision/],
    ['expectedRevision of 0', { error: 'e', expectedRevision: 0 }, /expectedRevision/],
  ])('fail refuses a bad %s', (_what, bad, message) => {
    const { state, clock, spawn } = setup();
    const session = spawn();
    expect(() => decideFail(state.sessions, { id: session.id, ...bad }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(message) }));
  });
});

describe('the agent records and stop requests', () => {
  it('an agent starts, is asked to stop once, and finishes; each refused out of turn with its reason', () => {
    const { state, clock, spawn } = setup();
    const session = spawn();
    const id = session.id;
    expect(() => decideStopRequest(state.sessions, { id, by: 'ops', reason: 'why' }, clock)).toThrow(
      expect.objectContaining({ code: 'INVALID_TRANSITION', message: `session ${id} is Active; only a running agent can be asked to stop, and only once` }),
    );
    expect(() => decideAgentFinished(state.sessions, { id, result: { success: true, output: 'x' } }, clock)).toThrow(
      expect.objectContaining({ code: 'INVALID_TRANSITION', message: `session ${id} is Active; only a running agent of an Active session can finish` }),
    );
    const started = decideAgentStarted(state.sessions, { id, data: AGENT }, clock);
    expect(started.events).toStrictEqual([{ id: expect.any(String), sessionId: id, timestamp: NOW, schemaVersion: EVENT_SCHEMA_VERSION, type: 'SessionAgentStarted', data: AGENT }]);
    expect(started.expectedRevisions).toEqual(new Map([[id, session.revision]]));
    apply(state, started);
    expect(() => decideAgentStarted(state.sessions, { id, data: AGENT }, clock)).toThrow(
      expect.objectContaining({ code: 'INVALID_TRANSITION', message: `session ${id} is Active, agent pid 4242 running; an agent can start only in an Active session without a running agent` }),
    );
    const stop = decideStopRequest(state.sessions, { id, by: 'ops', reason: 'too slow' }, clock);
    expect(stop.events).toStrictEqual([{ id: expect.any(String), sessionId: id, timestamp: NOW, schemaVersion: EVENT_SCHEMA_VERSION, by: 'ops', type: 'SessionStopRequested', data: { reason: 'too slow' } }]);
    expect(stop.expectedRevisions).toEqual(new Map([[id, state.sessions.get(id)!.revision]]));
    apply(state, stop);
    expect(() => decideStopRequest(state.sessions, { id, by: 'ops', reason: 'again' }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION' }));
    expect(() => decideStopRequest(state.sessions, { id, by: '', reason: 'r' }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/by/) }));
    expect(() => decideStopRequest(state.sessions, { id, by: 'ops', reason: '' }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/^invalid reason: .*reason must not be empty/) }));
    expect(() => decideStopRequest(state.sessions, { id: 'x', by: 'ops', reason: 'r' }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/^invalid session id: /) }));
    const result = { success: true, output: 'done' };
    const finished = decideAgentFinished(state.sessions, { id, result }, clock);
    expect(finished.events).toStrictEqual([{ id: expect.any(String), sessionId: id, timestamp: NOW, schemaVersion: EVENT_SCHEMA_VERSION, type: 'SessionAgentFinished', data: { result } }]);
    const transcript = { skipped: 'disabled' };
    expect(decideAgentFinished(state.sessions, { id, result, transcript }, clock).events[0]!.data).toEqual({ result, transcript });
    expect(() => decideAgentFinished(state.sessions, { id, result: { output: 3 } as never }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/agent result/) }));
    apply(state, finished);
    // Finished: the agent no longer runs, so the refusal names none.
    expect(() => decideAgentFinished(state.sessions, { id, result }, clock)).toThrow(
      expect.objectContaining({ message: `session ${id} is Active; only a running agent of an Active session can finish` }),
    );
  });

  it('parseSessionId takes a UUID and refuses anything else', () => {
    expect(parseSessionId('3F1D8A52-0000-4000-8000-000000000000')).toBe('3F1D8A52-0000-4000-8000-000000000000');
    expect(() => parseSessionId('3f1d8a52')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/session id/) }));
  });
});
