import { crc32 } from 'node:zlib';
import { z } from 'zod';
import type { AgentResult } from '../domain/agent-result.js';
import { PhaseSchema } from '../domain/phase.js';
import type { AgentProcess, ProcessRef, Session } from '../domain/session.js';
import { SessionStatusSchema } from '../domain/session-status.js';
import { SessionError } from '../errors.js';
import type { StoreCursor } from '../store/event-store.js';
import { emptySessionsState, type SessionsState } from './sessions-projection.js';

/*
 * sessions.json in the original (Rust) format: `{ "sessions": [...], "version": 1 }` with
 * snake_case keys. This file is the one place where camelCase and snake_case meet.
 * The extra `checkpoint` object says which prefix of the log the file covers, so an open
 * replays only the tail; its `checksum` (CRC-32 of every byte before it) catches a hand-edited
 * or truncated file, which is then rebuilt from the log.
 */

const ResultRecord = z.object({
  success: z.boolean(),
  output: z.string(),
  agent_name: z.string().optional(),
  session_id: z.string().optional(),
  num_turns: z.number().optional(),
  duration_ms: z.number().optional(),
  total_cost_usd: z.number().optional(),
  usage: z.record(z.string(), z.number()).optional(),
});
type ResultRecord = z.infer<typeof ResultRecord>;

const ProcessRecord = z.object({ host: z.string(), pid: z.number(), start_time: z.string().nullable() });
type ProcessRecord = z.infer<typeof ProcessRecord>;

const AgentRecord = z.object({
  process: ProcessRecord,
  supervisor: ProcessRecord,
  command: z.array(z.string()),
  cwd: z.string(),
  log_file: z.string(),
  resumed_from: z.string().nullable(),
  started_at: z.string(),
  finished_at: z.string().optional(),
});
type AgentRecord = z.infer<typeof AgentRecord>;

const SessionRecord = z.object({
  id: z.string(),
  agent_name: z.string(),
  purpose: z.string(),
  context: z.object({
    issue_number: z.number(),
    current_phase: PhaseSchema,
    worktree_path: z.string(),
    previous_results: z.array(ResultRecord),
  }),
  created_at: z.string(),
  status: SessionStatusSchema,
  parent_session: z.string().nullable(),
  child_sessions: z.array(z.string()),
  handoff_to: z.string().optional(),
  ended_at: z.string().optional(),
  result: ResultRecord.optional(),
  error: z.string().optional(),
  agent: AgentRecord.optional(),
  revision: z.number(),
});
type SessionRecord = z.infer<typeof SessionRecord>;

/** The outer shape only: records are checked one by one, cheaply (the checksum vouches for them). */
const SessionsFileShape = z.object({
  sessions: z.array(z.unknown()),
  version: z.literal(1),
  checkpoint: z.object({
    seq: z.number(),
    event_id: z.string().nullable(),
    offset: z.number(),
    line: z.number(),
    last_line_offset: z.number(),
    checksum: z.number(),
  }),
});

/** A checkpoint read back: the projection and the log position it covers. */
export interface Checkpoint {
  state: SessionsState;
  cursor: StoreCursor;
}

/** Renders the projection as sessions.json. Same state and cursor, same bytes. */
export function renderSessionsFile(state: SessionsState, cursor: StoreCursor): string {
  const sessions = [...state.sessions.values()].map(toRecord);
  const checkpoint = {
    seq: cursor.seq,
    event_id: state.lastEventId,
    offset: cursor.offset,
    line: cursor.line,
    last_line_offset: cursor.lastLineOffset,
  };
  const body = JSON.stringify({ sessions, version: 1, checkpoint }, null, 2);
  // The checksum covers every byte before it, and goes last so it can be cut off to check them.
  const head = body.slice(0, -CLOSE.length);
  return `${head},\n    "checksum": ${crc32(CLOSE, crc32(Buffer.from(head)))}${CLOSE}\n`;
}

const CLOSE = '\n  }\n}';
const CHECKSUM_TAIL = /,\n {4}"checksum": (\d{1,10})\n {2}\}\n\}\n?$/;

/**
 * Parses sessions.json; throws `CORRUPT_CHECKPOINT` if its checksum fails (the file was edited
 * or cut) or it does not hold what this library writes. The checksum, not a schema pass over
 * every record, is what makes loading a large checkpoint cheap.
 */
export function parseSessionsFile(input: string | Buffer, path: string): Checkpoint {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  // Only the end of the file is searched for the checksum: a regex over hundreds of MB is not free.
  const tailStart = Math.max(0, bytes.length - 64);
  const match = CHECKSUM_TAIL.exec(bytes.toString('utf8', tailStart));
  if (match === null) throw new SessionError('CORRUPT_CHECKPOINT', `${path} has no checksum: it was not written by this library, or was edited`);
  if (crc32(CLOSE, crc32(bytes.subarray(0, tailStart + match.index))) !== Number(match[1])) {
    throw new SessionError('CORRUPT_CHECKPOINT', `${path} was edited: its checksum does not match its content`);
  }
  let parsed;
  try {
    parsed = SessionsFileShape.parse(JSON.parse(bytes.toString('utf8')));
  } catch (error) {
    throw new SessionError('CORRUPT_CHECKPOINT', `${path} is not a valid sessions file`, { cause: error });
  }
  const { sessions, checkpoint } = parsed;
  const state = emptySessionsState();
  for (const record of sessions) {
    if (!isSessionRecord(record)) throw new SessionError('CORRUPT_CHECKPOINT', `${path} holds a malformed session record`);
    state.sessions.set(record.id, fromRecord(record));
  }
  state.lastSeq = checkpoint.seq;
  state.lastEventId = checkpoint.event_id;
  const cursor = { seq: checkpoint.seq, offset: checkpoint.offset, line: checkpoint.line, lastLineOffset: checkpoint.last_line_offset };
  return { state, cursor };
}

const STATUSES = new Set(['Active', 'HandedOff', 'Completed', 'Failed']);

function isSessionRecord(r: unknown): r is SessionRecord {
  const o = r as Partial<SessionRecord> | null;
  return (
    typeof o === 'object' && o !== null && typeof o.id === 'string' && typeof o.agent_name === 'string' &&
    typeof o.context === 'object' && o.context !== null && Array.isArray(o.context.previous_results) &&
    STATUSES.has(o.status as string) && Array.isArray(o.child_sessions) && typeof o.revision === 'number'
  );
}

function toRecord(s: Session): SessionRecord {
  return {
    id: s.id,
    agent_name: s.agentName,
    purpose: s.purpose,
    context: {
      issue_number: s.context.issueNumber,
      current_phase: s.context.currentPhase,
      worktree_path: s.context.worktreePath,
      previous_results: s.context.previousResults.map(resultToRecord),
    },
    created_at: s.createdAt,
    status: s.status,
    parent_session: s.parentSession,
    child_sessions: s.childSessions,
    ...(s.handoffTo === undefined ? {} : { handoff_to: s.handoffTo }),
    ...(s.endedAt === undefined ? {} : { ended_at: s.endedAt }),
    ...(s.result === undefined ? {} : { result: resultToRecord(s.result) }),
    ...(s.error === undefined ? {} : { error: s.error }),
    ...(s.agent === undefined ? {} : { agent: agentToRecord(s.agent) }),
    revision: s.revision,
  };
}

function fromRecord(r: SessionRecord): Session {
  return {
    id: r.id,
    agentName: r.agent_name,
    purpose: r.purpose,
    context: {
      issueNumber: r.context.issue_number,
      currentPhase: r.context.current_phase,
      worktreePath: r.context.worktree_path,
      previousResults: r.context.previous_results.map(resultFromRecord),
    },
    createdAt: r.created_at,
    status: r.status,
    parentSession: r.parent_session,
    childSessions: r.child_sessions,
    ...(r.handoff_to === undefined ? {} : { handoffTo: r.handoff_to }),
    ...(r.ended_at === undefined ? {} : { endedAt: r.ended_at }),
    ...(r.result === undefined ? {} : { result: resultFromRecord(r.result) }),
    ...(r.error === undefined ? {} : { error: r.error }),
    ...(r.agent === undefined ? {} : { agent: agentFromRecord(r.agent) }),
    revision: r.revision,
  };
}

const RESULT_KEYS = [
  ['agentName', 'agent_name'],
  ['sessionId', 'session_id'],
  ['numTurns', 'num_turns'],
  ['durationMs', 'duration_ms'],
  ['totalCostUsd', 'total_cost_usd'],
  ['usage', 'usage'],
] as const;

function resultToRecord(result: AgentResult): ResultRecord {
  const record: Record<string, unknown> = { success: result.success, output: result.output };
  for (const [camel, snake] of RESULT_KEYS) if (result[camel] !== undefined) record[snake] = result[camel];
  return record as ResultRecord;
}

function resultFromRecord(record: ResultRecord): AgentResult {
  const result: Record<string, unknown> = { success: record.success, output: record.output };
  for (const [camel, snake] of RESULT_KEYS) if (record[snake] !== undefined) result[camel] = record[snake];
  return result as AgentResult;
}

function processToRecord(p: ProcessRef): ProcessRecord {
  return { host: p.host, pid: p.pid, start_time: p.startTime };
}

function processFromRecord(r: ProcessRecord): ProcessRef {
  return { host: r.host, pid: r.pid, startTime: r.start_time };
}

function agentToRecord(a: AgentProcess): AgentRecord {
  return {
    process: processToRecord(a.process),
    supervisor: processToRecord(a.supervisor),
    command: a.command,
    cwd: a.cwd,
    log_file: a.logFile,
    resumed_from: a.resumedFrom,
    started_at: a.startedAt,
    ...(a.finishedAt === undefined ? {} : { finished_at: a.finishedAt }),
  };
}

function agentFromRecord(r: AgentRecord): AgentProcess {
  return {
    process: processFromRecord(r.process),
    supervisor: processFromRecord(r.supervisor),
    command: r.command,
    cwd: r.cwd,
    logFile: r.log_file,
    resumedFrom: r.resumed_from,
    startedAt: r.started_at,
    ...(r.finished_at === undefined ? {} : { finishedAt: r.finished_at }),
  };
}
