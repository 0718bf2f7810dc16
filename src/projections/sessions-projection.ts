import { SessionError } from '../errors.js';
import type { Session } from '../domain/session.js';
import { isPipelineEvent, type PipelineEvent, type SessionEvent, type SessionStreamEvent } from '../events/session-event.js';
import { pipelineIdOf } from '../domain/pipeline-id.js';
import { retryIdOf } from '../domain/retry-id.js';

/** The sessions projection: every session by id, in spawn order, and the last event folded in. */
export interface SessionsState {
  sessions: Map<string, Session>;
  lastSeq: number;
  lastEventId: string | null;
}

/** A projection that has seen no event. */
export function emptySessionsState(): SessionsState {
  return { sessions: new Map(), lastSeq: 0, lastEventId: null };
}

/**
 * Folds one event into the sessions projection. It folds in place, because replaying a
 * million events cannot copy the map each time; callers that need the old state copy it first.
 * An event the session's lifecycle does not allow throws `CORRUPT_LOG`: the log is the truth,
 * so a log that breaks the machine's rules is damaged, not something to paper over.
 */
export function evolveSessions(state: SessionsState, event: SessionEvent): SessionsState {
  const { sessions } = state;
  if (isPipelineEvent(event)) {
    const refusal = pipelineEventRefusal(sessions, event);
    if (refusal !== null) throw refused(event, refusal);
    // A pipeline's stream is no session's: it is read from the log by whoever needs it (pipeline-stream.ts).
    state.lastSeq = event.seq;
    state.lastEventId = event.id;
    return state;
  }
  const existing = sessions.get(event.sessionId);
  if (event.type === 'SessionSpawned') {
    const refusal = spawnRefusal(spawnedSessionsOf(sessions), event);
    if (refusal !== null) throw refused(event, refusal);
    sessions.set(event.sessionId, spawnedSession(event));
  } else {
    if (existing === undefined) throw refused(event, 'no such session');
    evolveSession(existing, event);
  }
  state.lastSeq = event.seq;
  state.lastEventId = event.id;
  return state;
}

type SpawnEvent = Extract<SessionEvent, { type: 'SessionSpawned' }>;

/**
 * Why a pipeline stream's event does not fit the sessions, or null: it must name as its root a
 * pipeline's root session, whose pipeline id is the stream's. The order of a stream's own events
 * is the pipeline machine's to judge (pipeline-stream.ts), when the stream is read.
 */
export function pipelineEventRefusal(sessions: ReadonlyMap<string, Session>, event: PipelineEvent): string | null {
  const root = sessions.get(event.data.rootId);
  if (root === undefined) return `its pipeline's root ${event.data.rootId} was never spawned`;
  if (root.pipeline === undefined || root.parentSession !== null) return `session ${event.data.rootId} is not the root of a pipeline`;
  if (pipelineIdOf(root.id) !== event.sessionId) return `stream ${event.sessionId} is not the stream of pipeline ${root.id} (${pipelineIdOf(root.id)})`;
  return null;
}

/**
 * One session folded from its own events alone, oldest first (the first its spawn), by the same
 * rules as {@link evolveSessions} except the lineage rules, which need the other sessions: for a
 * reader that fetched one session's events from a log whose lineage was checked as it was written.
 * Throws `CORRUPT_LOG` as the fold does.
 */
export function foldSession(events: readonly SessionEvent[]): Session {
  const [first, ...rest] = events;
  if (first === undefined) throw new SessionError('CORRUPT_LOG', 'a session without events');
  if (first.type !== 'SessionSpawned') throw refused(first, 'no such session');
  const session = spawnedSession(first);
  for (const event of rest) {
    if (event.type === 'SessionSpawned') throw refused(event, `session ${event.sessionId} is spawned a second time`);
    if (isPipelineEvent(event)) throw refused(event, 'a pipeline stream event among a session\'s');
    evolveSession(session, event);
  }
  return session;
}

/**
 * The sessions some events belong to, each folded alone from its own events ({@link foldSession}),
 * in the order their first events come: events in seq order of whole sessions give spawn order.
 */
export function foldEachSession(events: Iterable<SessionEvent>): Map<string, Session> {
  const bySession = new Map<string, SessionEvent[]>();
  for (const event of events) {
    const own = bySession.get(event.sessionId);
    if (own === undefined) bySession.set(event.sessionId, [event]);
    else own.push(event);
  }
  return new Map([...bySession].map(([id, own]) => [id, foldSession(own)]));
}

function spawnedSession(event: SpawnEvent): Session {
  const { parentSession, retryOf } = event.data;
  const session: Session = {
    id: event.sessionId,
    agentName: event.data.agentName,
    purpose: event.data.purpose,
    context: event.data.context,
    // An imported spawn says when the original created it; its timestamp is the import's.
    createdAt: event.data.createdAt ?? event.timestamp,
    status: 'Active',
    parentSession,
    childSessions: [],
    revision: 1,
  };
  if (event.data.pipeline !== undefined) session.pipeline = event.data.pipeline;
  // The failed attempt's record stays as it ended (records of ended sessions are final); its
  // retry is found from it by id (retryIdOf).
  if (retryOf !== undefined) session.retryOf = retryOf;
  if (event.imported === true) session.imported = true;
  if (event.by !== undefined) session.startedBy = event.by;
  return session;
}

/** Folds an event other than a spawn into its session, in place; only an Active session changes. */
function evolveSession(session: Session, event: Exclude<SessionStreamEvent, SpawnEvent>): void {
  if (session.status !== 'Active') throw refused(event, `the session is ${session.status}, not Active`);
  if (event.type === 'SessionAgentStarted' || event.type === 'SessionAgentFinished') agentEvent(session, event);
  else if (event.type === 'SessionStopRequested') stopRequested(session, event);
  else endSession(session, event);
}

/** What the lineage rules read of the sessions spawned so far: the projection's map, or the audit's ledger. */
export interface SpawnedSessions {
  /** The status of session `id`, or undefined when it was never spawned. */
  statusOf(id: string): Session['status'] | undefined;
  /** Whether session `parent` handed off to `child`. */
  handedOffTo(parent: string, child: string): boolean;
}

/** {@link SpawnedSessions} of the projection's map. */
export function spawnedSessionsOf(sessions: ReadonlyMap<string, Session>): SpawnedSessions {
  return {
    statusOf: (id) => sessions.get(id)?.status,
    handedOffTo: (parent, child) => sessions.get(parent)?.childSessions.includes(child) === true,
  };
}

/**
 * Why the lineage rules refuse a spawn, or null when it fits: a new id; a child names the
 * session that handed off to it; a retry names, as parent too, a Failed session, and has the
 * id {@link retryIdOf} that session (so each failed session has at most one retry).
 * The projection and the audit apply the same rules.
 */
export function spawnRefusal(sessions: SpawnedSessions, event: SpawnEvent): string | null {
  if (sessions.statusOf(event.sessionId) !== undefined) return `session ${event.sessionId} is spawned a second time`;
  const { parentSession, retryOf } = event.data;
  if (retryOf !== undefined) {
    const failed = sessions.statusOf(retryOf);
    if (parentSession !== retryOf) return `retry ${event.sessionId} of ${retryOf} must name it as its parent, not ${parentSession}`;
    if (failed !== 'Failed') return `session ${event.sessionId} retries ${retryOf}, which is ${failed ?? 'unknown'}, not Failed`;
    if (event.sessionId !== retryIdOf(retryOf)) return `session ${event.sessionId} retries ${retryOf} but does not have its retry id ${retryIdOf(retryOf)}`;
    return null;
  }
  if (parentSession !== null && !sessions.handedOffTo(parentSession, event.sessionId)) {
    return `session ${event.sessionId} names ${parentSession} as its parent, which did not hand off to it`;
  }
  return null;
}

type AgentEvent = Extract<SessionEvent, { type: 'SessionAgentStarted' | 'SessionAgentFinished' }>;
type EndEvent = Extract<SessionEvent, { type: 'SessionHandedOff' | 'SessionCompleted' | 'SessionFailed' }>;
type StopEvent = Extract<SessionEvent, { type: 'SessionStopRequested' }>;

/** Whether the session's agent has started and not finished. */
export function agentRunning(session: Session): boolean {
  return session.agent !== undefined && session.agent.finishedAt === undefined;
}

// Sessions are updated in place: a replay of a million events must not copy a record per event.
// Nothing outside the projection holds these objects; the manager hands out clones.
function agentEvent(session: Session, event: AgentEvent): void {
  if (event.type === 'SessionAgentStarted') {
    if (agentRunning(session)) throw refused(event, `its agent (pid ${session.agent!.process.pid}) is still running`);
    // Field by field rather than a spread: this runs for every agent start of a replay.
    const { process, supervisor, command, cwd, logFile, resumedFrom } = event.data;
    session.agent = { process, supervisor, command, cwd, logFile, resumedFrom, startedAt: event.timestamp };
  } else {
    if (!agentRunning(session)) throw refused(event, 'it has no running agent');
    session.agent!.finishedAt = event.timestamp;
    session.result = event.data.result;
    if (event.data.transcript !== undefined) session.agent!.transcript = event.data.transcript;
  }
  session.revision += 1;
}

/** A stop request is pending on the running agent until the agent's end ends the session. */
function stopRequested(session: Session, event: StopEvent): void {
  if (!agentRunning(session)) throw refused(event, 'it has no running agent');
  if (session.agent!.stopRequest !== undefined) throw refused(event, 'a stop was requested already');
  session.agent!.stopRequest = { by: event.by, at: event.timestamp, reason: event.data.reason };
  session.revision += 1;
}

function endSession(session: Session, event: EndEvent): void {
  if (agentRunning(session)) session.agent!.finishedAt = event.timestamp;
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent, a handoff's data holds no transcript; the type test is for the compiler
  if (event.type !== 'SessionHandedOff' && event.data.transcript !== undefined && session.agent !== undefined) session.agent.transcript = event.data.transcript;
  // The original recorded no end times: an imported end happened at some unknown time before its import.
  if (event.imported !== true) session.endedAt = event.timestamp;
  if (event.by !== undefined) session.endedBy = event.by;
  session.revision += 1;
  switch (event.type) {
    case 'SessionHandedOff':
      session.status = 'HandedOff';
      session.handoffTo = event.data.toAgent;
      session.childSessions.push(event.data.childSession);
      if (event.data.result !== undefined) session.result = event.data.result;
      return;
    case 'SessionCompleted':
      session.status = 'Completed';
      if (event.data.result !== undefined) session.result = event.data.result;
      return;
    case 'SessionFailed':
      session.status = 'Failed';
      session.error = event.data.error;
      if (event.data.interrupted !== undefined) session.interrupted = event.data.interrupted;
      if (event.data.capped !== undefined) session.capped = event.data.capped;
      if (event.data.retryAfter !== undefined) session.retryAfter = event.data.retryAfter;
      if (event.data.result !== undefined) session.result = event.data.result;
      return;
  }
}

function refused(event: SessionEvent, why: string): SessionError {
  return new SessionError('CORRUPT_LOG', `event seq ${event.seq} (${event.type}) for session ${event.sessionId} is not allowed: ${why}`, {
    sessionId: event.sessionId,
  });
}
