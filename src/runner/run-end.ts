import { capOfSubtype } from '../domain/agent-caps.js';
import { DEFAULT_USAGE_LIMIT_WAIT_MS, usageLimitOf } from './usage-limit.js';
import type { AgentResult } from '../domain/agent-result.js';
import type { AgentOutcome } from './agent-runner.js';
import type { ResultLine } from './stream-json.js';

/*
 * How an agent's run ended, decided in one place from plain facts: succeeded, failed by its own
 * verdict, or interrupted (cut short from outside the agent, so running the work again as a new
 * session may succeed, and a pipeline does). Everything that ends a run names its cause here.
 */

/** Why a run ended otherwise than with the agent's own clean result. */
export type EndCause =
  /** The agent said it failed (`is_error`), or exited non-zero, or without a result. */
  | 'own-verdict'
  /** Its CLI stopped it at a cap it was started with (budget or turns): a person may let it go on. */
  | 'capped'
  /** Stopped at its deadline, on an abort, a handoff or a failSession: someone decided. */
  | 'stopped'
  /** It could not be started (command not found, a worktree missing, a fork without a transcript). */
  | 'not-started'
  /** Killed by a signal nobody here sent (the OOM killer, a user, a shutdown). */
  | 'killed'
  /** Gone without a word while no manager watched it. */
  | 'vanished'
  /** Its manager closed, or died of SIGINT/SIGTERM/SIGHUP, while it ran. */
  | 'manager-closed'
  /** Its manager died while it ran, and no manager could adopt it here. */
  | 'manager-gone'
  /** Its manager died after spawning its session, before its agent's start was recorded. */
  | 'never-started'
  /** The API refused it for a rate or usage limit: it runs again once the limit resets. */
  | 'usage-limit'
  /** Its concurrency slot ran out (nobody renewed it in time) or went to another holder: stopped, fenced off. */
  | 'slot-lost';

const INTERRUPTIONS: ReadonlySet<EndCause> = new Set(['killed', 'vanished', 'manager-closed', 'manager-gone', 'never-started', 'usage-limit', 'slot-lost']);

/** Whether an end of this cause is an interruption: the work was cut short from outside the agent. */
export function isInterruption(cause: EndCause): boolean {
  return INTERRUPTIONS.has(cause);
}

/** A failed outcome of that cause: marked interrupted when the cause is one. */
export function failedBy(cause: EndCause, error: string, result?: AgentResult): AgentOutcome {
  const outcome: AgentOutcome = result === undefined ? { ok: false, error } : { ok: false, error, result };
  return isInterruption(cause) ? { ...outcome, interrupted: true } : outcome;
}

/** An outcome seen again in the light of its manager closing meanwhile: a failure then is an interruption. */
export function endedWhileClosing(outcome: AgentOutcome): AgentOutcome {
  return outcome.ok || outcome.interrupted === true ? outcome : failedBy('manager-closed', outcome.error, outcome.result);
}

/** An outcome seen again in the light of its slot lost meanwhile: the agent was stopped for it, an interruption. */
export function endedWithoutSlot(outcome: AgentOutcome, why: string): AgentOutcome {
  return outcome.ok ? outcome : failedBy('slot-lost', `${why}; the agent was stopped`, outcome.result);
}

/** What is known when an agent's run is over. */
export interface RunEnd {
  /** Why this manager stopped it, if it did. */
  stopReason: string | null;
  /** How the process ended, when this manager started it; adopted agents' exits are not ours to see. */
  exit?: { exitCode?: number; signal?: string; spawnError?: string };
  /** The agent's final result line, if it printed one. */
  result: ResultLine | null;
  /** That line as an AgentResult (for the record), if any. */
  agentResult: AgentResult | undefined;
  /** The last output that was not stream-json (the CLI's own complaint, often). */
  strayTail: string;
  /** The agent's pid, for messages. */
  pid?: number;
  /** When the run ended (epoch ms; default now) and how long a usage limit without a reset is waited out. */
  endedAt?: number;
  usageLimitWaitMs?: number;
}

/**
 * How a run ended: the agent's result line decides, never the exit code alone; a stop by this
 * manager is its reason; a kill by someone else or a disappearance is an interruption.
 */
export function classifyRunEnd(end: RunEnd): AgentOutcome {
  const { stopReason, exit, result, agentResult } = end;
  const tail = end.strayTail.trim();
  if (stopReason !== null) return failedBy('stopped', stopReason, agentResult);
  if (exit?.spawnError !== undefined) return failedBy('not-started', `could not start the agent: ${exit.spawnError}`);
  const cap = result !== null && result.isError ? capOfSubtype(result.subtype) : undefined;
  const limit = result !== null ? usageLimitOf(result) : null;
  if (limit !== null) {
    const resetsAt = limit.resetsAt ?? (end.endedAt ?? Date.now()) + (end.usageLimitWaitMs ?? DEFAULT_USAGE_LIMIT_WAIT_MS);
    const error = failureText(result!, exit === undefined ? 'unknown: adopted' : (exit.exitCode ?? exit.signal));
    const retryAfter = new Date(resetsAt).toISOString();
    return agentResult === undefined ? { ok: false, error, interrupted: true, retryAfter } : { ok: false, error, result: agentResult, interrupted: true, retryAfter };
  }
  if (cap !== undefined) {
    const error = failureText(result!, exit === undefined ? 'unknown: adopted' : (exit.exitCode ?? exit.signal));
    return agentResult === undefined ? { ok: false, error, capped: cap } : { ok: false, error, result: agentResult, capped: cap };
  }
  if (result !== null && result.isError) return failedBy('own-verdict', failureText(result, exit === undefined ? 'unknown: adopted' : (exit.exitCode ?? exit.signal)), agentResult);
  if (exit === undefined) {
    // Adopted: its exit status is not ours to see; an agent gone without a word was most likely killed.
    if (result === null) return failedBy('vanished', `the agent (pid ${end.pid}) ended without a result line while its manager was gone${tail ? `: ${tail}` : ''}`);
    return { ok: true, result: agentResult! };
  }
  if (exit.signal !== undefined) return failedBy('killed', `the agent was killed by ${exit.signal}`, agentResult);
  if (exit.exitCode !== 0) return failedBy('own-verdict', `the agent exited with code ${exit.exitCode}${tail ? `: ${tail}` : ''}`, agentResult);
  if (agentResult === undefined) return failedBy('own-verdict', 'the agent exited without a result line');
  return { ok: true, result: agentResult };
}

/**
 * A failed run's reason as the CLI gives it: its result text, else the `errors` it lists (where
 * "No conversation found with session ID: …" appears), with the subtype and exit code after.
 */
function failureText(line: ResultLine, exit: number | string | undefined): string {
  const reason = [line.result, ...line.errors].filter((text) => text.length > 0).join('; ') || 'the agent reported an error';
  return `${reason} (${line.subtype === undefined ? '' : `${line.subtype}, `}exit code ${exit})`;
}
