import { SessionError } from '../errors.js';
import type { Session } from '../domain/session.js';

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
    current = current.parentSession === null ? undefined : sessions.get(current.parentSession);
  }
  return chain.reverse();
}

/** A session with the sessions handed off from it, recursively: one pipeline as a tree. */
export interface LineageNode {
  session: Session;
  children: LineageNode[];
}

/** The whole tree of the pipeline `sessionId` belongs to, from its root. Throws `NOT_FOUND`. */
export function lineageTree(sessions: ReadonlyMap<string, Session>, sessionId: string): LineageNode {
  const root = lineageOf(sessions, sessionId)[0]!;
  const build = (session: Session): LineageNode => ({
    session,
    children: session.childSessions.flatMap((id) => {
      const child = sessions.get(id);
      return child === undefined ? [] : [build(child)];
    }),
  });
  return build(root);
}
