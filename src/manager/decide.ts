import type { CapKind } from '../domain/agent-caps.js';
import type { TranscriptRef } from '../domain/transcript-ref.js';
import { z } from 'zod';
import { PipelineGovernanceSchema, PipelineSpecSchema, PipelineStepsSchema, type PipelineSpec } from '../domain/pipeline-steps.js';
import { retryIdOf } from '../domain/retry-id.js';
import { AgentResultSchema, type AgentResult } from '../domain/agent-result.js';
import { ActorNameSchema, AgentNameSchema, LIMITS, UuidSchema, boundedText } from '../domain/limits.js';
import { parseInput } from '../domain/parse-input.js';
import type { Session } from '../domain/session.js';
import { SessionContextSchema, type SessionContext } from '../domain/session-context.js';
import { SessionError } from '../errors.js';
import { EVENT_SCHEMA_VERSION } from '../events/event-envelope.js';
import type { PendingEvent } from '../events/session-event.js';
import type { AppendRequest } from '../store/event-store.js';
import type { SessionMachineEvent } from '../../machines/session.machine.js';
import { snapshotOf } from './machine-bridge.js';
import { clonePlain } from '../domain/clone-plain.js';

/** What a decision needs besides the state: the time and a source of fresh ids. */
export interface DecisionClock {
  now: string;
  newId: () => string;
}

type Sessions = ReadonlyMap<string, Session>;

const PurposeSchema = boundedText(LIMITS.purpose, 'purpose').min(1, 'purpose must not be empty');
const ErrorTextSchema = boundedText(LIMITS.errorText, 'error').min(1, 'error must not be empty');
const OptionalResult = AgentResultSchema.optional();
const OptionalId = UuidSchema.optional();
const OptionalFlag = z.boolean().optional();
const RetriesSchema = PipelineSpecSchema.shape.maxRetries;
const OptionalGovernance = PipelineGovernanceSchema.optional();
const OptionalActor = ActorNameSchema.optional();
const OptionalRevision = z.number().int().min(1).optional();
const ReasonSchema = boundedText(LIMITS.errorText, 'reason').min(1, 'reason must not be empty');

/** Decides `spawnAgentSession`: validates everything, then one `SessionSpawned` for a new id. */
export function decideSpawn(
  sessions: Sessions,
  input: { agentName: unknown; purpose: unknown; context: unknown; sessionId?: unknown; pipelineSteps?: unknown; pipelineRetries?: unknown; pipelineGovernance?: unknown; by?: unknown },
  clock: DecisionClock,
): AppendRequest {
  const by = parseBy(input.by);
  const agentName = parseInput(AgentNameSchema, input.agentName, 'agent name');
  const purpose = parseInput(PurposeSchema, input.purpose, 'purpose');
  const context = parseInput(SessionContextSchema, input.context, 'session context');
  const sessionId = freshId(sessions, parseInput(OptionalId, input.sessionId, 'session id'), clock);
  const event = spawned(sessionId, agentName, purpose, context, null, clock, by);
  if (input.pipelineSteps !== undefined) {
    const steps = parseInput(PipelineStepsSchema, input.pipelineSteps, 'pipeline steps');
    const maxRetries = parseInput(RetriesSchema, input.pipelineRetries, 'pipeline maxRetries');
    const governance = parseInput(OptionalGovernance, input.pipelineGovernance, 'pipeline governance') ?? {};
    const pipeline: PipelineSpec = maxRetries === undefined ? { steps } : { steps, maxRetries };
    (event.data as { pipeline?: PipelineSpec }).pipeline = Object.assign(pipeline, governance);
  }
  return {
    events: [event],
    expectedRevisions: new Map([[sessionId, 0]]),
  };
}

/**
 * Decides `handoff`: the parent must be Active (the machine must accept `HAND_OFF`); the child
 * gets the given context (whose `previousResults`, if left out, are the parent's) plus, when the
 * parent handed over a result, that result appended to `previousResults`. Both events go in one
 * atomic append.
 */
export function decideHandoff(
  sessions: Sessions,
  input: { fromId: unknown; toAgent: unknown; context: unknown; result?: unknown; sessionId?: unknown; by?: unknown },
  clock: DecisionClock,
): AppendRequest {
  const by = parseBy(input.by);
  const fromId = parseInput(UuidSchema, input.fromId, 'session id');
  const toAgent = parseInput(AgentNameSchema, input.toAgent, 'agent name');
  const result = parseInput(OptionalResult, input.result, 'agent result');
  const parent = existing(sessions, fromId);
  // A context that leaves out previousResults inherits the parent's: the history travels on.
  // Those passed the schema when the parent was written: only what the caller gave is checked,
  // and the parent's are copied (a parse would have), not parsed again at every step.
  const inherits = typeof input.context === 'object' && input.context !== null && !('previousResults' in input.context);
  const parsed = parseInput(SessionContextSchema, input.context, 'session context');
  const context = inherits ? { ...parsed, previousResults: clonePlain(parent.context.previousResults) } : parsed;
  const childId = freshId(sessions, parseInput(OptionalId, input.sessionId, 'session id'), clock);
  const handedOver = result === undefined ? undefined : { ...result, agentName: parent.agentName, sessionId: parent.id };
  if (handedOver !== undefined && context.previousResults.length >= LIMITS.previousResults) {
    throw new SessionError('INVALID_INPUT', `invalid session context: previousResults already holds ${LIMITS.previousResults} results`);
  }
  assertAllowed(parent, { type: 'HAND_OFF', toAgent, childSession: childId, at: clock.now });
  const childContext: SessionContext = {
    ...context,
    previousResults: handedOver === undefined ? context.previousResults : [...context.previousResults, handedOver],
  };
  const handedOff: PendingEvent = {
    ...envelope(fromId, clock, by),
    type: 'SessionHandedOff',
    data: handedOver === undefined ? { toAgent, childSession: childId } : { toAgent, childSession: childId, result: handedOver },
  };
  return {
    events: [handedOff, spawned(childId, toAgent, `Handoff from session ${fromId}`, childContext, fromId, clock, by)],
    expectedRevisions: new Map([
      [fromId, parent.revision],
      [childId, 0],
    ]),
  };
}

/**
 * Decides `retrySession`: the session must be Failed. Its retry is a new session with the same
 * agent, purpose and context, the failed one as its parent and `retryOf`, and the id
 * {@link retryIdOf} it, so a session is retried at most once (`ALREADY_EXISTS` after that).
 */
export function decideRetry(sessions: Sessions, input: { id: unknown; by?: unknown }, clock: DecisionClock): AppendRequest {
  const id = parseInput(UuidSchema, input.id, 'session id');
  const by = parseBy(input.by);
  const failed = existing(sessions, id);
  if (failed.status !== 'Failed') {
    throw new SessionError('INVALID_TRANSITION', `session ${id} is ${failed.status}; only a Failed session can be retried`, { sessionId: id });
  }
  const retryId = retryIdOf(id);
  if (sessions.has(retryId)) throw new SessionError('ALREADY_EXISTS', `session ${id} was retried already, as ${retryId}`, { sessionId: retryId });
  const event = spawned(retryId, failed.agentName, failed.purpose, failed.context, id, clock, by);
  (event.data as { retryOf?: string }).retryOf = id;
  return { events: [event], expectedRevisions: new Map([[retryId, 0]]) };
}

/** Decides `completeSession`: the session must be Active. */
export function decideComplete(sessions: Sessions, input: { id: unknown; result?: unknown; transcript?: TranscriptRef; by?: unknown }, clock: DecisionClock): AppendRequest {
  const id = parseInput(UuidSchema, input.id, 'session id');
  const by = parseBy(input.by);
  const result = parseInput(OptionalResult, input.result, 'agent result');
  const session = existing(sessions, id);
  assertAllowed(session, { type: 'COMPLETE', at: clock.now });
  const data: { result?: AgentResult; transcript?: TranscriptRef } = result === undefined ? {} : { result };
  if (input.transcript !== undefined) data.transcript = input.transcript;
  return forSession(session, { ...envelope(id, clock, by), type: 'SessionCompleted', data });
}

/**
 * Decides `failSession`: the session must be Active; `error` must say why. With
 * `expectedRevision`, it must also still be at that revision (the one the caller decided on):
 * else `CONFLICT`.
 */
export function decideFail(
  sessions: Sessions,
  input: { id: unknown; error: unknown; result?: unknown; transcript?: TranscriptRef; interrupted?: unknown; capped?: CapKind; retryAfter?: string; by?: unknown; expectedRevision?: unknown },
  clock: DecisionClock,
): AppendRequest {
  const id = parseInput(UuidSchema, input.id, 'session id');
  const by = parseBy(input.by);
  const error = parseInput(ErrorTextSchema, input.error, 'error');
  const result = parseInput(OptionalResult, input.result, 'agent result');
  const interrupted = parseInput(OptionalFlag, input.interrupted, 'interrupted');
  const expectedRevision = parseInput(OptionalRevision, input.expectedRevision, 'expectedRevision');
  const session = existing(sessions, id);
  assertAllowed(session, { type: 'FAIL', error, at: clock.now });
  if (expectedRevision !== undefined && session.revision !== expectedRevision) {
    throw new SessionError('CONFLICT', `session ${id} changed since revision ${expectedRevision} (it is at ${session.revision}): not failed`, { sessionId: id });
  }
  const data: { error: string; result?: AgentResult; transcript?: TranscriptRef; interrupted?: true; capped?: CapKind; retryAfter?: string } = result === undefined ? { error } : { error, result };
  if (input.transcript !== undefined) data.transcript = input.transcript;
  if (interrupted === true) data.interrupted = true;
  if (input.capped !== undefined) data.capped = input.capped;
  if (input.retryAfter !== undefined) data.retryAfter = input.retryAfter;
  return forSession(session, { ...envelope(id, clock, by), type: 'SessionFailed', data });
}

/**
 * Decides `requestStop`: the session's agent must be running and not asked to stop already
 * (the machine must accept `REQUEST_STOP`); `by` says who asks.
 */
export function decideStopRequest(sessions: Sessions, input: { id: unknown; by: unknown; reason: unknown }, clock: DecisionClock): AppendRequest {
  const id = parseInput(UuidSchema, input.id, 'session id');
  const by = parseInput(ActorNameSchema, input.by, 'by');
  const reason = parseInput(ReasonSchema, input.reason, 'reason');
  const session = existing(sessions, id);
  assertAllowed(session, { type: 'REQUEST_STOP', reason, at: clock.now });
  return forSession(session, { ...envelope(id, clock), by, type: 'SessionStopRequested', data: { reason } });
}

/** Decides the record of an agent process started for an Active session (the runner's doing, already validated). */
export function decideAgentStarted(
  sessions: Sessions,
  input: { id: string; data: Extract<PendingEvent, { type: 'SessionAgentStarted' }>['data'] },
  clock: DecisionClock,
): AppendRequest {
  const session = existing(sessions, input.id);
  assertAllowed(session, { type: 'AGENT_STARTED', pid: input.data.process.pid, at: clock.now });
  return forSession(session, { ...envelope(input.id, clock), type: 'SessionAgentStarted', data: input.data });
}

/** Decides the record of an agent's clean finish; its session stays Active. */
export function decideAgentFinished(sessions: Sessions, input: { id: string; result: AgentResult; transcript?: TranscriptRef }, clock: DecisionClock): AppendRequest {
  const session = existing(sessions, input.id);
  const result = parseInput(AgentResultSchema, input.result, 'agent result');
  assertAllowed(session, { type: 'AGENT_FINISHED', result, at: clock.now });
  const data = input.transcript === undefined ? { result } : { result, transcript: input.transcript };
  return forSession(session, { ...envelope(input.id, clock), type: 'SessionAgentFinished', data });
}

/** Validates a session id given to a query. */
export function parseSessionId(id: unknown): string {
  return parseInput(UuidSchema, id, 'session id');
}

/** One event for an existing session, decided on its current revision. */
function forSession(session: Session, event: PendingEvent): AppendRequest {
  return { events: [event], expectedRevisions: new Map([[session.id, session.revision]]) };
}

function envelope(sessionId: string, clock: DecisionClock, by?: string) {
  const fields = { id: clock.newId(), sessionId, timestamp: clock.now, schemaVersion: EVENT_SCHEMA_VERSION } as const;
  return by === undefined ? fields : { ...fields, by };
}

function parseBy(by: unknown): string | undefined {
  return parseInput(OptionalActor, by, 'by');
}

function spawned(
  sessionId: string,
  agentName: string,
  purpose: string,
  context: SessionContext,
  parentSession: string | null,
  clock: DecisionClock,
  by: string | undefined,
): PendingEvent {
  return { ...envelope(sessionId, clock, by), type: 'SessionSpawned', data: { agentName, purpose, context, parentSession } };
}

function existing(sessions: Sessions, id: string): Session {
  const session = sessions.get(id);
  if (session === undefined) throw new SessionError('NOT_FOUND', `no session ${id}`, { sessionId: id });
  return session;
}

function freshId(sessions: Sessions, requested: string | undefined, clock: DecisionClock): string {
  const id = requested ?? clock.newId();
  if (sessions.has(id)) throw new SessionError('ALREADY_EXISTS', `session ${id} exists already`, { sessionId: id });
  return id;
}

const REFUSAL: Record<SessionMachineEvent['type'], string> = {
  HAND_OFF: 'only an Active session can be handed off',
  COMPLETE: 'only an Active session can be completed',
  FAIL: 'only an Active session can be failed',
  AGENT_STARTED: 'an agent can start only in an Active session without a running agent',
  AGENT_FINISHED: 'only a running agent of an Active session can finish',
  REQUEST_STOP: 'only a running agent can be asked to stop, and only once',
};

function assertAllowed(session: Session, event: SessionMachineEvent): void {
  if (!snapshotOf(session).can(event)) {
    const agent = session.agent !== undefined && session.agent.finishedAt === undefined ? `, agent pid ${session.agent.process.pid} running` : '';
    throw new SessionError('INVALID_TRANSITION', `session ${session.id} is ${session.status}${agent}; ${REFUSAL[event.type]}`, {
      sessionId: session.id,
    });
  }
}
