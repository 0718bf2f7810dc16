import { SessionError } from '../errors.js';
import type { Session } from '../domain/session.js';
import { retryIdOf } from '../domain/retry-id.js';

/**
 * The chain of sessions from the root of `sessionId`'s pipeline down to `sessionId` itself,
 * root first. Throws `NOT_FOUND` if the session is unknown.
 */
export function lineageOf(sessions: ReadonlyMap<string, Session>, sessionId: string): Session[] {
  const chain: Session[] = [];
  const seen = new Set<string>();
  let current = sessions.get(sessionId);
  if (current === undefined) throw new SessionError('NOT_FOUND', `no session ${sessionId}`, { sessionId });
  while (current !== undefined && !seen.has(current.id)) {
    seen.add(current.id);
    chain.push(current);
    // Stryker disable next-line ConditionalExpression: equivalent, no session has the id null, so get(null) is undefined too
    current = current.parentSession === null ? undefined : sessions.get(current.parentSession);
  }
  return chain.reverse();
}

/**
 * The sessions that continue `session`: those it handed off to, or, for a Failed session, its
 * retry (a Failed record never changes, so the retry is found by its derived id).
 */
export function childrenOf(sessions: ReadonlyMap<string, Session>, session: Session): Session[] {
  const ids = session.status === 'Failed' ? [...session.childSessions, retryIdOf(session.id)] : session.childSessions;
  return ids.flatMap((id) => {
    const child = sessions.get(id);
    return child === undefined || child.parentSession !== session.id ? [] : [child];
  });
}

/** A session with the sessions handed off from it (and retries of it), recursively: one pipeline as a tree. */
export interface LineageNode {
  session: Session;
  children: LineageNode[];
}

/** The whole tree of the pipeline `sessionId` belongs to, from its root. Throws `NOT_FOUND`. */
export function lineageTree(sessions: ReadonlyMap<string, Session>, sessionId: string): LineageNode {
  const root = lineageOf(sessions, sessionId)[0]!;
  const build = (session: Session): LineageNode => ({
    session,
    children: childrenOf(sessions, session).map(build),
  });
  return build(root);
}
