import { z } from 'zod';
import { TranscriptRefSchema } from '../domain/transcript-ref.js';
import type { AgentResult } from '../domain/agent-result.js';
import { PhaseSchema } from '../domain/phase.js';
import type { AgentProcess, ProcessRef, Session } from '../domain/session.js';
import type { PipelineSpec } from '../domain/pipeline-steps.js';
import { SessionStatusSchema } from '../domain/session-status.js';
import { SessionError } from '../errors.js';

/*
 * One session as sessions.json holds it: the original's snake_case record (its `ManagedSession`,
 * key for key and in its order, `null` where it has none), followed by what only this library
 * records. This file is the one place where camelCase and snake_case meet; the schemas document
 * the format.
 */

const ResultRecord = z.object({
  success: z.boolean(),
  output: z.string(),
  agent_name: z.string().optional(),
  session_id: z.string().optional(),
  num_turns: z.number().optional(),
  duration_ms: z.number().optional(),
  total_cost_usd: z.number().optional(),
  run_cost_usd: z.number().optional(),
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
  transcript: TranscriptRefSchema.optional(),
  stop_request: z.object({ by: z.string(), at: z.string(), reason: z.string() }).optional(),
});
type AgentRecord = z.infer<typeof AgentRecord>;

const SessionRecord = z.object({
  id: z.string(),
  agent_name: z.string(),
  purpose: z.string(),
  context: z.object({
    issue_number: z.number().nullable(),
    current_phase: PhaseSchema,
    worktree_path: z.string().nullable(),
    previous_results: z.array(ResultRecord),
  }),
  created_at: z.string(),
  status: SessionStatusSchema,
  parent_session: z.string().nullable(),
  child_sessions: z.array(z.string()),
  // The original's last keys, written as it writes them: null when absent.
  handoff_to: z.string().nullable(),
  error_message: z.string().nullable(),
  ended_at: z.string().optional(),
  result: ResultRecord.optional(),
  agent: AgentRecord.optional(),
  interrupted: z.literal(true).optional(),
  capped: z.enum(['budget', 'turns']).optional(),
  retry_after: z.string().optional(),
  retry_of: z.string().optional(),
  pipeline: z
    .object({
      steps: z.array(z.object({ agent_name: z.string(), phase: PhaseSchema, budget_usd: z.number().optional(), max_turns: z.number().optional(), approval: z.boolean().optional() })),
      max_retries: z.number().optional(),
      budget_usd: z.number().optional(),
      approval_timeout_ms: z.number().optional(),
      webhooks: z.array(z.string()).optional(),
    })
    .optional(),
  imported: z.literal(true).optional(),
  started_by: z.string().optional(),
  ended_by: z.string().optional(),
  revision: z.number(),
});
/** A session record as stored in sessions.json. */
export type SessionRecord = z.infer<typeof SessionRecord>;

/*
 * The conversions assign optional keys one by one rather than spreading `{}` or `{ key }`:
 * they run for every record of a large sessions.json, and spreads cost several times more.
 * A record keeps the file's key order (optional keys, then `revision` last); a session gets the
 * order a live one has (`revision` before the optional keys, which arrive with later events).
 */

/** A session as its snake_case record. */
export function toRecord(s: Session): SessionRecord {
  const record: Record<string, unknown> = {
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
    handoff_to: s.handoffTo ?? null,
    error_message: s.error ?? null,
  };
  if (s.endedAt !== undefined) record['ended_at'] = s.endedAt;
  if (s.result !== undefined) record['result'] = resultToRecord(s.result);
  if (s.agent !== undefined) record['agent'] = agentToRecord(s.agent);
  if (s.interrupted !== undefined) record['interrupted'] = s.interrupted;
  if (s.capped !== undefined) record['capped'] = s.capped;
  if (s.retryAfter !== undefined) record['retry_after'] = s.retryAfter;
  if (s.retryOf !== undefined) record['retry_of'] = s.retryOf;
  if (s.pipeline !== undefined) record['pipeline'] = pipelineToRecord(s.pipeline);
  if (s.imported !== undefined) record['imported'] = s.imported;
  if (s.startedBy !== undefined) record['started_by'] = s.startedBy;
  if (s.endedBy !== undefined) record['ended_by'] = s.endedBy;
  record['revision'] = s.revision;
  return record as SessionRecord;
}

/** A snake_case record as a session; a record of an earlier version may say `error` for `error_message`. */
export function fromRecord(r: SessionRecord & { error?: string }): Session {
  const session: Session = {
    id: r.id,
    agentName: r.agent_name,
    purpose: r.purpose,
    context: {
      issueNumber: r.context.issue_number ?? null,
      currentPhase: r.context.current_phase,
      worktreePath: r.context.worktree_path ?? null,
      previousResults: r.context.previous_results.map(resultFromRecord),
    },
    createdAt: r.created_at,
    status: r.status,
    parentSession: r.parent_session,
    childSessions: r.child_sessions,
    revision: r.revision,
  };
  if (r.retry_of !== undefined) session.retryOf = r.retry_of;
  if (r.pipeline !== undefined) session.pipeline = pipelineFromRecord(r.pipeline);
  if (r.imported !== undefined) session.imported = r.imported;
  if (r.started_by !== undefined) session.startedBy = r.started_by;
  if (r.handoff_to != null) session.handoffTo = r.handoff_to;
  if (r.ended_at !== undefined) session.endedAt = r.ended_at;
  if (r.result !== undefined) session.result = resultFromRecord(r.result);
  const error = r.error_message ?? r.error;
  if (error != null) session.error = error;
  if (r.interrupted !== undefined) session.interrupted = r.interrupted;
  if (r.capped !== undefined) session.capped = r.capped;
  if (r.retry_after !== undefined) session.retryAfter = r.retry_after;
  if (r.agent !== undefined) session.agent = agentFromRecord(r.agent);
  if (r.ended_by !== undefined) session.endedBy = r.ended_by;
  return session;
}

const RESULT_KEYS = [
  ['agentName', 'agent_name'],
  ['sessionId', 'session_id'],
  ['numTurns', 'num_turns'],
  ['durationMs', 'duration_ms'],
  ['totalCostUsd', 'total_cost_usd'],
  ['runCostUsd', 'run_cost_usd'],
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
  const record: AgentRecord = {
    process: processToRecord(a.process),
    supervisor: processToRecord(a.supervisor),
    command: a.command,
    cwd: a.cwd,
    log_file: a.logFile,
    resumed_from: a.resumedFrom,
    started_at: a.startedAt,
  };
  if (a.finishedAt !== undefined) record.finished_at = a.finishedAt;
  if (a.transcript !== undefined) record.transcript = a.transcript;
  if (a.stopRequest !== undefined) record.stop_request = a.stopRequest;
  return record;
}

function agentFromRecord(r: AgentRecord): AgentProcess {
  const agent: AgentProcess = {
    process: processFromRecord(r.process),
    supervisor: processFromRecord(r.supervisor),
    command: r.command,
    cwd: r.cwd,
    logFile: r.log_file,
    resumedFrom: r.resumed_from,
    startedAt: r.started_at,
  };
  if (r.finished_at !== undefined) agent.finishedAt = r.finished_at;
  if (r.transcript !== undefined) agent.transcript = r.transcript;
  if (r.stop_request !== undefined) agent.stopRequest = r.stop_request;
  return agent;
}

const STATUSES = new Set(['Active', 'HandedOff', 'Completed', 'Failed']);

/**
 * Whether a parsed value has the shape of a record this library writes. The file's checksums
 * vouch for the rest, so this cheap check stands in for a schema pass over every record.
 */
export function isSessionRecord(r: unknown): r is SessionRecord {
  const o = r as Partial<SessionRecord> | null;
  return (
    // Stryker disable next-line ConditionalExpression: equivalent for `typeof o`, a primitive has no string id, so the later tests refuse it too
    typeof o === 'object' && o !== null && typeof o.id === 'string' && typeof o.agent_name === 'string' &&
    // Stryker disable next-line ConditionalExpression: equivalent for `typeof o.context`, a primitive has no array of results
    typeof o.context === 'object' && o.context !== null && Array.isArray(o.context.previous_results) &&
    STATUSES.has(o.status as string) && Array.isArray(o.child_sessions) && typeof o.revision === 'number'
  );
}

/** Parses one record's bytes (already checksum-verified) into the session `id`. Throws `CORRUPT_CHECKPOINT`. */
export function decodeRecord(bytes: Buffer, id: string, path: string): Session {
  let record: unknown;
  try {
    record = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new SessionError('CORRUPT_CHECKPOINT', `${path} holds a record that is not JSON`, { cause: error });
  }
  if (!isSessionRecord(record) || record.id !== id) throw new SessionError('CORRUPT_CHECKPOINT', `${path} holds a malformed session record`);
  return fromRecord(record);
}

type PipelineRecord = NonNullable<SessionRecord['pipeline']>;

function pipelineToRecord(pipeline: PipelineSpec): PipelineRecord {
  const record: PipelineRecord = {
    steps: pipeline.steps.map((step) => {
      const out: PipelineRecord['steps'][number] = { agent_name: step.agentName, phase: step.phase };
      if (step.budgetUsd !== undefined) out.budget_usd = step.budgetUsd;
      if (step.maxTurns !== undefined) out.max_turns = step.maxTurns;
      if (step.approval !== undefined) out.approval = step.approval;
      return out;
    }),
  };
  if (pipeline.maxRetries !== undefined) record.max_retries = pipeline.maxRetries;
  if (pipeline.budgetUsd !== undefined) record.budget_usd = pipeline.budgetUsd;
  if (pipeline.approvalTimeoutMs !== undefined) record.approval_timeout_ms = pipeline.approvalTimeoutMs;
  if (pipeline.webhooks !== undefined) record.webhooks = pipeline.webhooks;
  return record;
}

function pipelineFromRecord(record: PipelineRecord): PipelineSpec {
  const pipeline: PipelineSpec = {
    steps: record.steps.map((step) => {
      const out: PipelineSpec['steps'][number] = { agentName: step.agent_name, phase: step.phase };
      if (step.budget_usd !== undefined) out.budgetUsd = step.budget_usd;
      if (step.max_turns !== undefined) out.maxTurns = step.max_turns;
      if (step.approval !== undefined) out.approval = step.approval;
      return out;
    }),
  };
  if (record.max_retries !== undefined) pipeline.maxRetries = record.max_retries;
  if (record.budget_usd !== undefined) pipeline.budgetUsd = record.budget_usd;
  if (record.approval_timeout_ms !== undefined) pipeline.approvalTimeoutMs = record.approval_timeout_ms;
  if (record.webhooks !== undefined) pipeline.webhooks = record.webhooks;
  return pipeline;
}
