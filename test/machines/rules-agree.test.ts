import { getSimplePaths } from '@xstate/graph';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { transition, type SnapshotFrom } from 'xstate';
import { sessionMachine, type SessionMachineEvent } from '../../machines/session.machine.js';
import { EVENT_SCHEMA_VERSION, emptySessionsState, evolveSessions, type SessionEvent, type SessionsState } from '../../src/index.js';
import { STATUS_OF, machineContextOf } from '../../src/manager/machine-bridge.js';

/*
 * The transition rules live in two places: live moves are decided by the session machine, and a
 * replay folds stored events with the projection's own checks (for speed). This test holds them to
 * one answer: every path of the machine, and every generated sequence of events, goes through both,
 * and at every step they must agree on what is allowed and on what the session becomes.
 */

const ID = '00000000-0000-4000-8000-000000000000';
const CHILD = '11111111-1111-4111-8111-111111111111';
const AT = '2026-01-01T00:00:00.000Z';
const RESULT = { success: true, output: 'ok' };
const EVENTS: SessionMachineEvent[] = [
  { type: 'HAND_OFF', toAgent: 'ReviewAgent', childSession: CHILD, at: AT },
  { type: 'HAND_OFF', toAgent: 'ReviewAgent', childSession: CHILD, result: RESULT, at: AT },
  { type: 'COMPLETE', at: AT },
  { type: 'COMPLETE', result: RESULT, at: AT },
  { type: 'FAIL', error: 'boom', at: AT },
  { type: 'FAIL', error: 'boom', result: { success: false, output: 'no' }, at: AT },
  { type: 'AGENT_STARTED', pid: 4242, at: AT },
  { type: 'AGENT_FINISHED', result: { success: true, output: 'done' }, at: AT },
  { type: 'REQUEST_STOP', reason: 'runaway', at: AT },
];
const INPUT = { id: ID, agentName: 'CodeGenAgent', childSessions: [] };
const HOST = { host: 'h', pid: 4242, startTime: '1' };

/** The stored event a machine event stands for (machineEventOf, the other way). */
function storedEventOf(event: SessionMachineEvent, seq: number): SessionEvent {
  const envelope = { seq, id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`, sessionId: ID, timestamp: event.at, schemaVersion: EVENT_SCHEMA_VERSION } as const;
  const withResult = <T extends object>(data: T, result: unknown) => (result === undefined ? data : { ...data, result });
  switch (event.type) {
    case 'HAND_OFF':
      return { ...envelope, type: 'SessionHandedOff', data: withResult({ toAgent: event.toAgent, childSession: event.childSession }, event.result) } as SessionEvent;
    case 'COMPLETE':
      return { ...envelope, type: 'SessionCompleted', data: withResult({}, event.result) } as SessionEvent;
    case 'FAIL':
      return { ...envelope, type: 'SessionFailed', data: withResult({ error: event.error }, event.result) } as SessionEvent;
    case 'AGENT_STARTED':
      return { ...envelope, type: 'SessionAgentStarted', data: { process: { ...HOST, pid: event.pid }, supervisor: HOST, command: ['claude'], cwd: '/w', logFile: '/l', resumedFrom: null } };
    case 'AGENT_FINISHED':
      return { ...envelope, type: 'SessionAgentFinished', data: { result: event.result } } as SessionEvent;
    case 'REQUEST_STOP':
      return { ...envelope, by: 'tester', type: 'SessionStopRequested', data: { reason: event.reason } };
  }
}

/** A projection holding the session just spawned. */
function spawnedState(): SessionsState {
  const state = emptySessionsState();
  evolveSessions(state, {
    seq: 1, id: '00000000-0000-4000-8000-000000000001', sessionId: ID, timestamp: AT, schemaVersion: EVENT_SCHEMA_VERSION, type: 'SessionSpawned',
    data: { agentName: 'CodeGenAgent', purpose: 'p', context: { issueNumber: 1, currentPhase: 'CodeGeneration', worktreePath: '/w', previousResults: [] }, parentSession: null },
  });
  return state;
}

/** Whether the projection takes the event, judged on a copy; the copy after it when it does. */
function projectionTakes(state: SessionsState, event: SessionEvent): SessionsState | null {
  const copy: SessionsState = { ...state, sessions: new Map([[ID, structuredClone(state.sessions.get(ID)!)]]) };
  try {
    return evolveSessions(copy, event);
  } catch {
    return null;
  }
}

/** Both sides take `events` in turn; at every step they agree on whether it is allowed and on the session after it. */
function expectAgreement(events: readonly SessionMachineEvent[]): void {
  let machine: SnapshotFrom<typeof sessionMachine> = sessionMachine.resolveState({ value: 'active', context: INPUT });
  let projection = spawnedState();
  events.forEach((event, i) => {
    const allowed = machine.can(event);
    const next = projectionTakes(projection, storedEventOf(event, i + 2));
    expect(next !== null, `step ${i + 1} ${event.type} after ${events.slice(0, i).map((e) => e.type).join(', ') || 'spawn'}: the machine says ${allowed ? 'allowed' : 'refused'}`).toBe(allowed);
    if (!allowed || next === null) return;
    machine = transition(sessionMachine, machine, event)[0];
    projection = next;
    const session = projection.sessions.get(ID)!;
    expect(STATUS_OF[machine.value as keyof typeof STATUS_OF]).toBe(session.status);
    expect(machineContextOf(session)).toEqual(machine.context);
  });
}

describe('the machine and the projection apply the same transition rules', () => {
  it('along every simple path of the machine, and for every event at its end', () => {
    const paths = getSimplePaths(sessionMachine, { events: EVENTS, input: INPUT });
    expect(paths.length).toBeGreaterThan(10);
    for (const path of paths) {
      const walked = path.steps.map((step) => step.event as { type: string }).filter((event) => event.type !== 'xstate.init') as SessionMachineEvent[];
      for (const last of EVENTS) expectAgreement([...walked, last]);
    }
  });

  it('for every generated sequence of events, allowed or not', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...EVENTS), { maxLength: 10 }), (events) => expectAgreement(events)), { numRuns: 2000 });
  });
});
