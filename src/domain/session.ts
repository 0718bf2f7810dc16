import type { AgentResult } from './agent-result.js';
import type { SessionContext } from './session-context.js';
import type { SessionStatus } from './session-status.js';

/**
 * One agent session as the projections see it (camelCase; `sessions.json` holds the same
 * in the original's snake_case).
 */
export interface Session {
  /** The session's UUID (also the agent's Claude session id when run by the runner). */
  id: string;
  agentName: string;
  purpose: string;
  context: SessionContext;
  /** ISO-8601 time the session was spawned. */
  createdAt: string;
  status: SessionStatus;
  /** The session this one was handed off from, if any. */
  parentSession: string | null;
  /** Sessions handed off from this one, oldest first. */
  childSessions: string[];
  /** On a HandedOff session: the agent it was handed to. */
  handoffTo?: string;
  /** ISO-8601 time the session left `Active`. */
  endedAt?: string;
  /** What the agent produced, when known. */
  result?: AgentResult;
  /** Why the session failed. */
  error?: string;
  /** How many events the log holds for this session (its stream version). */
  revision: number;
}
