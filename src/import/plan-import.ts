import type { DecisionClock } from '../manager/decide.js';
import { EVENT_SCHEMA_VERSION } from '../events/event-envelope.js';
import { SessionEventSchema, type PendingEvent, type SessionEvent } from '../events/session-event.js';
import { emptySessionsState, evolveSessions } from '../projections/sessions-projection.js';
import { invalid, type OriginalSession, type OriginalStore } from './original-store.js';

/*
 * Turns the original's sessions into the events that replay to them: every session spawned, with
 * its id, agent, purpose, context and `created_at`; a handoff as this library records one (the
 * parent's `SessionHandedOff` and its child's spawn, adjacent); a Completed or Failed session
 * ended as such. Parents come before their children. Every event is marked `imported`, and an
 * imported end has no end time (the original recorded none). Pure: no I/O.
 */

/** Where each field of an event's data stands in the original's record, for messages. */
const FIELD_OF: Readonly<Record<string, string>> = {
  'data.agentName': 'agent_name',
  'data.purpose': 'purpose',
  'data.context.issueNumber': 'context.issue_number',
  'data.context.worktreePath': 'context.worktree_path',
  'data.createdAt': 'created_at',
  'data.toAgent': 'handoff_to',
  'data.error': 'error_message',
};

/**
 * The events that import `store`, in append order, all marked `imported` and stamped with
 * `clock.now`. Throws `INVALID_INPUT` (naming the session and the field, with every problem in
 * `issues`) when the sessions cannot be what the original wrote or cannot be kept by this
 * library's rules: duplicate ids, a parent or child not in the file, a child that names a parent
 * which did not hand off to it, a HandedOff session without exactly one child or without
 * `handoff_to`, a Failed session without `error_message`, a cycle, or a value this library
 * refuses (an agent name outside its alphabet, an empty purpose, a worktree with `..`, issue 0).
 */
export function planImport(store: OriginalStore, path: string, clock: DecisionClock): PendingEvent[] {
  const sessions = store.sessions.map(normalized);
  const byId = new Map<string, OriginalSession>();
  const problems: string[] = [];
  for (const session of sessions) {
    if (byId.has(session.id)) problems.push(`session ${session.id}: id: appears more than once`);
    byId.set(session.id, session);
  }
  for (const session of sessions) problems.push(...linkProblems(session, byId));
  if (problems.length > 0) throw invalid(path, problems);

  const events: PendingEvent[] = [];
  const reached = new Set<string>();
  for (const root of sessions) {
    if (root.parent_session != null) continue;
    // A chain is walked, not recursed: a handoff chain may be as long as the file.
    for (let session: OriginalSession | undefined = root; session !== undefined; ) {
      reached.add(session.id);
      if (session === root) events.push(spawned(session, clock));
      const child: OriginalSession | undefined = session.status === 'HandedOff' ? byId.get(session.child_sessions[0]!)! : undefined;
      events.push(...ended(session, clock));
      if (child !== undefined) events.push(spawned(child, clock));
      session = child;
    }
  }
  const cycle = sessions.filter((s) => !reached.has(s.id));
  if (cycle.length > 0) throw invalid(path, [`sessions ${cycle.map((s) => s.id).join(', ')}: parent_session: they hand off to each other in a cycle`]);
  const refusals = schemaProblems(events);
  if (refusals.length > 0) throw invalid(path, refusals);
  replayable(events, path);
  return events;
}

/** The record with its UUIDs in the original's own (lower case) spelling and its time in UTC. */
function normalized(session: OriginalSession): OriginalSession {
  return {
    ...session,
    id: session.id.toLowerCase(),
    parent_session: session.parent_session?.toLowerCase() ?? null,
    child_sessions: session.child_sessions.map((id) => id.toLowerCase()),
    created_at: inUtc(session.created_at),
  };
}

/** An RFC 3339 time in UTC (`Z`), its fractional digits kept as written. */
export function inUtc(time: string): string {
  const match = /^(.{19})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(time)!;
  if (match[3] === 'Z') return time;
  const seconds = new Date(Date.parse(`${match[1]}${match[3]}`)).toISOString().slice(0, 19);
  return `${seconds}${match[2] ?? ''}Z`;
}

/** What is wrong with a session's links and its status's fields. */
function linkProblems(session: OriginalSession, byId: ReadonlyMap<string, OriginalSession>): string[] {
  const name = `session ${session.id}`;
  const problems: string[] = [];
  const parentId = session.parent_session;
  if (parentId != null) {
    const parent = byId.get(parentId);
    if (parent === undefined) problems.push(`${name}: parent_session: ${parentId} is not in the file`);
    else if (!parent.child_sessions.includes(session.id) || parent.status !== 'HandedOff') {
      problems.push(`${name}: parent_session: ${parentId} did not hand off to it (its child_sessions do not list it, or it is not HandedOff)`);
    }
  }
  for (const childId of session.child_sessions) {
    const child = byId.get(childId);
    if (child === undefined) problems.push(`${name}: child_sessions: ${childId} is not in the file`);
    else if (child.parent_session !== session.id) problems.push(`${name}: child_sessions: ${childId} names ${child.parent_session ?? 'no session'} as its parent_session`);
  }
  if (session.status === 'HandedOff') {
    if (session.child_sessions.length !== 1) problems.push(`${name}: child_sessions: a HandedOff session must list the one session it handed off to, not ${session.child_sessions.length}`);
    if (session.handoff_to == null) problems.push(`${name}: handoff_to: a HandedOff session must name the agent it handed off to`);
  } else {
    if (session.child_sessions.length > 0) problems.push(`${name}: child_sessions: a ${session.status} session did not hand off (only a HandedOff one has child sessions)`);
    if (session.handoff_to != null) problems.push(`${name}: handoff_to: a ${session.status} session did not hand off`);
  }
  if (session.status === 'Failed' && (session.error_message == null || session.error_message === '')) {
    problems.push(`${name}: error_message: a Failed session must say why it failed`);
  }
  if (session.status !== 'Failed' && session.error_message != null) problems.push(`${name}: error_message: a ${session.status} session did not fail`);
  return problems;
}

function envelope(sessionId: string, clock: DecisionClock) {
  return { id: clock.newId(), sessionId, timestamp: clock.now, schemaVersion: EVENT_SCHEMA_VERSION, imported: true } as const;
}

function spawned(session: OriginalSession, clock: DecisionClock): PendingEvent {
  const context = {
    issueNumber: session.context.issue_number ?? null,
    currentPhase: session.context.current_phase,
    worktreePath: session.context.worktree_path ?? null,
    previousResults: [],
  };
  const data = { agentName: session.agent_name, purpose: session.purpose, context, parentSession: session.parent_session ?? null, createdAt: session.created_at };
  return { ...envelope(session.id, clock), type: 'SessionSpawned', data };
}

/** The event that ends a session as the original left it, if it ended. */
function ended(session: OriginalSession, clock: DecisionClock): PendingEvent[] {
  switch (session.status) {
    case 'Active':
      return [];
    case 'Completed':
      return [{ ...envelope(session.id, clock), type: 'SessionCompleted', data: {} }];
    case 'Failed':
      return [{ ...envelope(session.id, clock), type: 'SessionFailed', data: { error: session.error_message! } }];
    case 'HandedOff':
      return [{ ...envelope(session.id, clock), type: 'SessionHandedOff', data: { toAgent: session.handoff_to!, childSession: session.child_sessions[0]! } }];
  }
}

/** Every value this library's event schemas refuse, named by session and the original's field. */
function schemaProblems(events: readonly PendingEvent[]): string[] {
  const problems: string[] = [];
  for (const event of events) {
    const result = SessionEventSchema.safeParse({ seq: 1, ...event });
    if (result.success) continue;
    for (const issue of result.error.issues) {
      const at = issue.path.join('.');
      problems.push(`session ${event.sessionId}: ${FIELD_OF[at] ?? at}: ${issue.message}`);
    }
  }
  return problems;
}

/** Folds the events as a replay will; a refusal here is a bug in the plan, reported as bad input all the same. */
function replayable(events: readonly PendingEvent[], path: string): void {
  const state = emptySessionsState();
  try {
    events.forEach((event, i) => evolveSessions(state, { ...event, seq: i + 1 } as SessionEvent));
  } catch (error) {
    throw invalid(path, [(error as Error).message]);
  }
}
