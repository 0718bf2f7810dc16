import { createHash } from 'node:crypto';
import { runCostOf } from '../domain/agent-result.js';
import type { Session } from '../domain/session.js';

/** An attribute's value, as OTLP carries it. */
export type SpanValue = string | number | boolean;

/**
 * A span of the trace of a pipeline, as this library builds it from the log: plain data (no
 * OpenTelemetry type), so that building spans needs no optional package and two exports of the
 * same store build the same spans. Ids are lower-case hex (trace 32, span 16 characters).
 */
export interface TraceSpan {
  traceId: string;
  spanId: string;
  /** Null for a pipeline's span, the root of its trace. */
  parentSpanId: string | null;
  name: string;
  /** `client` for an agent run (a call out to the model's CLI) and a tool call; `internal` else. */
  kind: 'internal' | 'client';
  /** Epoch milliseconds. */
  startMs: number;
  endMs: number;
  attributes: Record<string, SpanValue>;
  links: Array<{ traceId: string; spanId: string; attributes: Record<string, SpanValue> }>;
  status: { code: 'unset' | 'ok' | 'error'; message?: string };
}

/** A text attribute is cut to this many characters (agents' results can be long). */
const MAX_TEXT = 4096;

/** The trace id of the pipeline whose root session is `root`: the root's UUID as hex. */
export function traceIdOf(root: string): string {
  return root.replaceAll('-', '').toLowerCase();
}

/** What a pipeline's span id is masked with, so it differs from its root session's (see {@link spanIdOf}). */
const ID_MASKS = { pipeline: '5a5a5a5a5a5a5a5a' } as const;

/**
 * A span id derived from what the span is of and its ids, the same every export: a session's
 * span is the first 8 bytes of its UUID, its agent run's the last 8, its pipeline's the root's
 * first 8 bytes masked (60 random bits each: a clash is as likely as two UUIDs sharing them); a
 * tool call's, a hash of its session and call ids.
 */
export function spanIdOf(kind: 'pipeline' | 'session' | 'run' | 'tool', ...ids: string[]): string {
  const hex = kind === 'tool' ? '' : ids[0]!.replaceAll('-', '').toLowerCase();
  let id: string;
  if (kind === 'session') id = hex.slice(0, 16);
  else if (kind === 'run') id = hex.slice(16);
  else if (kind === 'pipeline') id = xorHex(hex.slice(0, 16), ID_MASKS.pipeline);
  else id = createHash('sha256').update(`tool:${ids.join(':')}`).digest('hex').slice(0, 16);
  // An all-zero span id is invalid.
  return id === '0000000000000000' ? '0000000000000001' : id;
}

function xorHex(a: string, b: string): string {
  let out = '';
  for (let i = 0; i < a.length; i += 1) out += (Number.parseInt(a[i]!, 16) ^ Number.parseInt(b[i]!, 16)).toString(16);
  return out;
}

const text = (value: string) => (value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value);

/** What a pipeline's span needs of its sessions, gathered one session at a time. */
export interface PipelineSummary {
  sessions: number;
  /** Whether any of its sessions is Active (no span then). */
  active: boolean;
  /** Its last session's end, and how that session ended. */
  endMs: number;
  lastStatus: Session['status'];
  lastError: string | undefined;
}

/** A summary of no session yet, of the pipeline whose root is `root`. */
export function emptySummary(root: Session): PipelineSummary {
  return { sessions: 0, active: false, endMs: Date.parse(root.createdAt), lastStatus: root.status, lastError: undefined };
}

/** Adds one of its sessions to a pipeline's summary. */
export function addToSummary(summary: PipelineSummary, member: Session): void {
  summary.sessions += 1;
  summary.active ||= member.status === 'Active';
  const ended = Date.parse(member.endedAt ?? member.createdAt);
  if (ended >= summary.endMs) {
    summary.endMs = ended;
    summary.lastStatus = member.status;
    summary.lastError = member.error;
  }
}

/**
 * The span of a pipeline: from its root's spawn to its last session's end, once none of its
 * sessions is Active (null before). A retry after that makes it end later: exported again, it
 * is the same span with its new end.
 */
export function pipelineSpan(root: Session, members: Iterable<Session>): TraceSpan | null {
  const summary = emptySummary(root);
  for (const member of members) addToSummary(summary, member);
  return pipelineSpanOf(root, summary);
}

/** {@link pipelineSpan} from a summary of its sessions. */
export function pipelineSpanOf(root: Session, summary: PipelineSummary): TraceSpan | null {
  if (summary.active) return null;
  const issue = root.context.issueNumber;
  return {
    traceId: traceIdOf(root.id),
    spanId: spanIdOf('pipeline', root.id),
    parentSpanId: null,
    name: issue === null ? `pipeline ${root.id.slice(0, 8)}` : `pipeline #${issue}`,
    kind: 'internal',
    startMs: Date.parse(root.createdAt),
    endMs: summary.endMs,
    attributes: {
      'miyabi.pipeline.root': root.id,
      'miyabi.pipeline.sessions': summary.sessions,
      'miyabi.pipeline.status': summary.lastStatus,
      ...(issue === null ? {} : { 'miyabi.issue': issue }),
    },
    links: [],
    // Its last session says how it ended: a failed step retried to completion is a success.
    status: summary.lastStatus === 'Failed' ? { code: 'error', message: text(summary.lastError ?? 'failed') } : { code: 'ok' },
  };
}

/**
 * The spans of one ended session of the pipeline whose root is `root`: the session (the step,
 * under the pipeline's span; a handoff links it to the session it came from, a retry to the one
 * it retries) and, when an agent ran it, the agent's run under it, with the GenAI semantic
 * conventions' attributes the run reported (tokens) and ours (cost, turns). Empty for a session
 * still Active: a span is sent once it has ended.
 */
export function sessionSpans(session: Session, root: string): TraceSpan[] {
  if (session.status === 'Active') return [];
  const traceId = traceIdOf(root);
  const sessionSpanId = spanIdOf('session', session.id);
  const startMs = Date.parse(session.createdAt);
  const endMs = Math.max(startMs, Date.parse(session.endedAt ?? session.createdAt));
  const failed = session.status === 'Failed';
  const status: TraceSpan['status'] = failed ? { code: 'error', message: text(session.error ?? 'failed') } : { code: 'ok' };
  const issue = session.context.issueNumber;
  const links: TraceSpan['links'] = [];
  if (session.parentSession !== null) links.push({ traceId, spanId: spanIdOf('session', session.parentSession), attributes: { 'miyabi.link': 'handoff' } });
  if (session.retryOf !== undefined) links.push({ traceId, spanId: spanIdOf('session', session.retryOf), attributes: { 'miyabi.link': 'retry' } });
  const step: TraceSpan = {
    traceId,
    spanId: sessionSpanId,
    parentSpanId: spanIdOf('pipeline', root),
    name: `${session.agentName} ${session.context.currentPhase}`,
    kind: 'internal',
    startMs,
    endMs,
    attributes: {
      'miyabi.session.id': session.id,
      'miyabi.session.status': session.status,
      'miyabi.phase': session.context.currentPhase,
      'miyabi.purpose': text(session.purpose),
      'gen_ai.agent.name': session.agentName,
      ...(issue === null ? {} : { 'miyabi.issue': issue }),
      ...(session.error === undefined ? {} : { 'miyabi.error': text(session.error), 'error.type': session.interrupted === true ? 'interrupted' : session.capped ?? 'agent_failed' }),
      ...(session.result === undefined ? {} : { 'miyabi.result': text(session.result.output) }),
    },
    links,
    status,
  };
  const agent = session.agent;
  if (agent === undefined) return [step];
  const result = session.result;
  const usage = result?.usage ?? {};
  const cost = result === undefined ? undefined : runCostOf(result);
  const runStart = Math.max(startMs, Date.parse(agent.startedAt));
  const run: TraceSpan = {
    traceId,
    spanId: spanIdOf('run', session.id),
    parentSpanId: sessionSpanId,
    name: `invoke_agent ${session.agentName}`,
    kind: 'client',
    startMs: runStart,
    endMs: Math.max(runStart, Date.parse(agent.finishedAt ?? session.endedAt ?? agent.startedAt)),
    attributes: {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.agent.name': session.agentName,
      'gen_ai.agent.id': session.id,
      'gen_ai.conversation.id': session.id,
      'host.name': agent.process.host,
      'process.pid': agent.process.pid,
      ...(typeof usage['input_tokens'] === 'number' ? { 'gen_ai.usage.input_tokens': usage['input_tokens'] } : {}),
      ...(typeof usage['output_tokens'] === 'number' ? { 'gen_ai.usage.output_tokens': usage['output_tokens'] } : {}),
      ...(cost === undefined ? {} : { 'miyabi.cost_usd': cost }),
      ...(result?.numTurns === undefined ? {} : { 'miyabi.turns': result.numTurns }),
      ...(agent.resumedFrom === null ? {} : { 'miyabi.resumed_from': agent.resumedFrom }),
    },
    links: [],
    status,
  };
  return [step, run];
}

/**
 * The span of each tool call in a session's stored conversation (Claude Code's JSONL), under
 * its agent's run: from the message that asked for it to the one that brought its result
 * (GenAI `execute_tool`). Also the model the conversation used, for the run's
 * `gen_ai.request.model`. A call with no result (the run was cut short) ends where the
 * conversation does.
 */
export function toolSpans(session: Session, root: string, transcript: Buffer): { spans: TraceSpan[]; model: string | null } {
  const traceId = traceIdOf(root);
  const calls = new Map<string, { name: string; startMs: number }>();
  const spans: TraceSpan[] = [];
  let model: string | null = null;
  let lastMs = Date.parse(session.createdAt);
  for (const line of transcript.toString('utf8').split('\n')) {
    if (line.trim().length === 0) continue;
    let entry: { timestamp?: unknown; message?: { model?: unknown; content?: unknown } };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    const at = typeof entry.timestamp === 'string' ? Date.parse(entry.timestamp) : Number.NaN;
    if (!Number.isNaN(at)) lastMs = at;
    if (typeof entry.message?.model === 'string' && model === null) model = entry.message.model;
    const content = entry.message?.content;
    if (!Array.isArray(content)) continue;
    for (const block of content as Array<{ type?: unknown; id?: unknown; name?: unknown; tool_use_id?: unknown; is_error?: unknown }>) {
      if (block?.type === 'tool_use' && typeof block.id === 'string') calls.set(block.id, { name: String(block.name ?? 'tool'), startMs: lastMs });
      if (block?.type === 'tool_result' && typeof block.tool_use_id === 'string') {
        const call = calls.get(block.tool_use_id);
        if (call === undefined) continue;
        calls.delete(block.tool_use_id);
        spans.push(toolSpan(traceId, session.id, block.tool_use_id, call, lastMs, block.is_error === true));
      }
    }
  }
  for (const [id, call] of calls) spans.push(toolSpan(traceId, session.id, id, call, lastMs, false));
  return { spans, model };
}

function toolSpan(traceId: string, sessionId: string, callId: string, call: { name: string; startMs: number }, endMs: number, failed: boolean): TraceSpan {
  return {
    traceId,
    spanId: spanIdOf('tool', sessionId, callId),
    parentSpanId: spanIdOf('run', sessionId),
    name: `execute_tool ${call.name}`,
    kind: 'client',
    startMs: call.startMs,
    endMs: Math.max(call.startMs, endMs),
    attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': call.name, 'gen_ai.tool.call.id': callId },
    links: [],
    status: failed ? { code: 'error', message: 'the tool reported an error' } : { code: 'unset' },
  };
}
