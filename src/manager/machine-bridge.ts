import type { SnapshotFrom } from 'xstate';
import { sessionMachine, type SessionMachineContext, type SessionMachineEvent } from '../../machines/session.machine.js';
import type { Session } from '../domain/session.js';
import type { SessionStatus } from '../domain/session-status.js';
import type { SessionEvent } from '../events/session-event.js';

type MachineState = 'active' | 'handedOff' | 'completed' | 'failed';

const STATE_OF: Record<SessionStatus, MachineState> = {
  Active: 'active',
  HandedOff: 'handedOff',
  Completed: 'completed',
  Failed: 'failed',
};

/** The session status a machine state value stands for. */
export const STATUS_OF: Record<MachineState, SessionStatus> = {
  active: 'Active',
  handedOff: 'HandedOff',
  completed: 'Completed',
  failed: 'Failed',
};

/** The part of a session record the machine carries. */
export function machineContextOf(session: Session): SessionMachineContext {
  const context: SessionMachineContext = { id: session.id, agentName: session.agentName, childSessions: [...session.childSessions] };
  if (session.handoffTo !== undefined) context.handoffTo = session.handoffTo;
  if (session.endedAt !== undefined) context.endedAt = session.endedAt;
  if (session.result !== undefined) context.result = session.result;
  if (session.error !== undefined) context.error = session.error;
  if (session.agent !== undefined) {
    context.agent = { pid: session.agent.process.pid, finished: session.agent.finishedAt !== undefined };
    if (session.agent.stopRequest !== undefined) context.agent.stopRequested = true;
  }
  return context;
}

/** The machine snapshot a session record stands for, so the machine can judge the next move. */
export function snapshotOf(session: Session): SnapshotFrom<typeof sessionMachine> {
  return sessionMachine.resolveState({ value: STATE_OF[session.status], context: machineContextOf(session) });
}

/** The machine event a stored event stands for; null for `SessionSpawned`, which creates the actor, and for a pipeline stream's events, which no session machine sees. */
export function machineEventOf(event: SessionEvent): SessionMachineEvent | null {
  switch (event.type) {
    case 'SessionSpawned':
    case 'PipelineWaiting':
    case 'PipelineApproved':
    case 'PipelineRejected':
    case 'PipelineNotified':
    case 'PipelineQueued':
      return null;
    case 'SessionAgentStarted':
      return { type: 'AGENT_STARTED', pid: event.data.process.pid, at: event.timestamp };
    case 'SessionAgentFinished':
      return { type: 'AGENT_FINISHED', result: event.data.result, at: event.timestamp };
    case 'SessionStopRequested':
      return { type: 'REQUEST_STOP', reason: event.data.reason, at: event.timestamp };
    case 'SessionHandedOff':
      return event.data.result === undefined
        ? { type: 'HAND_OFF', toAgent: event.data.toAgent, childSession: event.data.childSession, at: event.timestamp }
        : { type: 'HAND_OFF', toAgent: event.data.toAgent, childSession: event.data.childSession, result: event.data.result, at: event.timestamp };
    case 'SessionCompleted':
      return event.data.result === undefined
        ? { type: 'COMPLETE', at: event.timestamp }
        : { type: 'COMPLETE', result: event.data.result, at: event.timestamp };
    case 'SessionFailed':
      return event.data.result === undefined
        ? { type: 'FAIL', error: event.data.error, at: event.timestamp }
        : { type: 'FAIL', error: event.data.error, result: event.data.result, at: event.timestamp };
  }
}
