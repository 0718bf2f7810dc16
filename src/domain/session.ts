import type { CapKind } from './agent-caps.js';
import type { AgentResult } from './agent-result.js';
import type { SessionContext } from './session-context.js';
import type { SessionStatus } from './session-status.js';
import type { TranscriptRef } from './transcript-ref.js';
import type { PipelineSpec } from './pipeline-steps.js';

/** A process, identified so that a later reader can tell whether it still runs. */
export interface ProcessRef {
  host: string;
  pid: number;
  startTime: string | null;
}

/** The agent process run for a session, as recorded in the log. */
export interface AgentProcess {
  process: ProcessRef;
  /** The manager process supervising it. */
  supervisor: ProcessRef;
  /** Program and arguments, without the prompt. */
  command: string[];
  cwd: string;
  logFile: string;
  /** The session whose transcript it continues, if it was forked. */
  resumedFrom: string | null;
  startedAt: string;
  /** Set when it exited (or its session ended). */
  finishedAt?: string;
  /** What became of its conversation when it ended (stored, or skipped and why). */
  transcript?: TranscriptRef;
  /** Someone asked for it to stop: pending while it runs, kept once it has ended. */
  stopRequest?: StopRequest;
}

/** A request that a session's running agent stop (`SessionStopRequested`). */
export interface StopRequest {
  /** Who asked. */
  by: string;
  /** When (ISO-8601). */
  at: string;
  reason: string;
}

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
  /** RFC 3339 time the session was spawned (UTC; up to nine fractional digits when imported). */
  createdAt: string;
  status: SessionStatus;
  /** The session this one was handed off from, if any. */
  parentSession: string | null;
  /** Sessions handed off from this one, oldest first. */
  childSessions: string[];
  /** On a HandedOff session: the agent it was handed to. */
  handoffTo?: string;
  /** ISO-8601 time the session left `Active` (unknown for a session imported from the original, which recorded none). */
  endedAt?: string;
  /** What the agent produced, when known. */
  result?: AgentResult;
  /** Why the session failed. */
  error?: string;
  /** On a Failed session: its work was cut short from outside the agent, so running it again may succeed. */
  interrupted?: true;
  /** On a Failed session: its agent was stopped by a cap it ran under (its CLI's budget or turn cap), not by its own verdict. */
  capped?: CapKind;
  /** On a Failed session stopped by a rate or usage limit: when that resets (a pipeline runs it again no earlier). */
  retryAfter?: string;
  /** On a retry: the Failed session (also its parent) whose work this one runs again. */
  retryOf?: string;
  /** The agent process, when a runner started one. */
  agent?: AgentProcess;
  /** On the root session of a pipeline (`runPipeline`): its steps and retry budget. */
  pipeline?: PipelineSpec;
  /** Who started it, when a person did (a retry from the dashboard, or a caller that says who). */
  startedBy?: string;
  /** Who ended it, when a person did (a stop, or a caller that says who). */
  endedBy?: string;
  /** Set when the session was imported from the original's sessions.json rather than observed here. */
  imported?: true;
  /** How many events the log holds for this session (its stream version). */
  revision: number;
}
