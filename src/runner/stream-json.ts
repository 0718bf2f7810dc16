import type { AgentResult } from '../domain/agent-result.js';
import { LIMITS } from '../domain/limits.js';

/** The final `result` line of Claude Code's stream-json output, as far as we read it. */
export interface ResultLine {
  isError: boolean;
  result: string;
  /** The result's `subtype` (`success`, `error_during_execution`, `error_max_turns`, …). */
  subtype?: string;
  /** The reasons a failed run gives in its `errors` array (e.g. "No conversation found with session ID: …"). */
  errors: string[];
  numTurns?: number;
  durationMs?: number;
  totalCostUsd?: number;
  usage?: Record<string, number>;
  sessionId?: string;
  /** The HTTP status of the API error that ended the run (`api_error_status`), e.g. 429. */
  apiErrorStatus?: number;
  /** The type of that error (`api_error_type`), e.g. `rate_limit_error`. */
  apiErrorType?: string;
}

/**
 * Reads `--output-format stream-json --verbose` output line by line: the `system/init` line
 * (which session id the CLI uses), assistant text as it arrives, and the final `result` line.
 * Lines that are not JSON (a CLI's stray output) are counted, not fatal.
 */
export class StreamJsonReader {
  /** The session id the CLI announced in its init line. */
  initSessionId: string | null = null;
  /** The last assistant text block seen. */
  lastAssistantText: string | null = null;
  /** The result line, once seen. */
  result: ResultLine | null = null;
  /** Lines that did not parse as JSON. */
  strayLines = 0;

  /** Reads one line; returns its `type` (or null for a stray line). */
  push(line: string): string | null {
    if (line.trim().length === 0) return null;
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.strayLines += 1;
      return null;
    }
    const type = typeof message['type'] === 'string' ? message['type'] : null;
    if (type === 'system' && message['subtype'] === 'init' && typeof message['session_id'] === 'string') {
      this.initSessionId = message['session_id'];
    } else if (type === 'assistant') {
      const content = (message['message'] as { content?: unknown } | undefined)?.content;
      if (Array.isArray(content)) {
        const texts = content.filter((c): c is { type: 'text'; text: string } => c?.type === 'text' && typeof c.text === 'string');
        if (texts.length > 0) this.lastAssistantText = texts.map((t) => t.text).join('');
      }
    } else if (type === 'result') {
      this.result = readResult(message);
    }
    return type;
  }

  /** The agent's result as recorded in the log, given how the process ended. */
  toAgentResult(exitedCleanly: boolean): AgentResult | undefined {
    const r = this.result;
    if (r === null) return undefined;
    const output = r.result || r.errors.join('; ') || (r.subtype === undefined ? '' : `(${r.subtype})`);
    const result: AgentResult = { success: exitedCleanly && !r.isError, output: output.slice(0, LIMITS.resultOutput) };
    if (r.numTurns !== undefined) result.numTurns = r.numTurns;
    if (r.durationMs !== undefined) result.durationMs = r.durationMs;
    if (r.totalCostUsd !== undefined) result.totalCostUsd = r.totalCostUsd;
    if (r.usage !== undefined) result.usage = r.usage;
    return result;
  }
}

function readResult(m: Record<string, unknown>): ResultLine {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
  const line: ResultLine = {
    isError: m['is_error'] === true,
    result: typeof m['result'] === 'string' ? m['result'] : '',
    errors: Array.isArray(m['errors']) ? m['errors'].filter((e): e is string => typeof e === 'string').map((e) => e.slice(0, 2000)).slice(0, 20) : [],
  };
  if (typeof m['subtype'] === 'string') line.subtype = m['subtype'].slice(0, 100);
  const turns = num(m['num_turns']);
  if (turns !== undefined && Number.isInteger(turns)) line.numTurns = turns;
  const duration = num(m['duration_ms']);
  if (duration !== undefined) line.durationMs = duration;
  const cost = num(m['total_cost_usd']);
  if (cost !== undefined) line.totalCostUsd = cost;
  if (typeof m['session_id'] === 'string') line.sessionId = m['session_id'];
  const status = num(m['api_error_status']);
  if (status !== undefined && Number.isInteger(status)) line.apiErrorStatus = status;
  if (typeof m['api_error_type'] === 'string') line.apiErrorType = m['api_error_type'].slice(0, 100);
  if (typeof m['usage'] === 'object' && m['usage'] !== null) {
    const usage: Record<string, number> = {};
    for (const [k, v] of Object.entries(m['usage'] as Record<string, unknown>)) {
      const n = num(v);
      if (n !== undefined && k.length <= 64) usage[k] = n;
    }
    line.usage = usage;
  }
  return line;
}
