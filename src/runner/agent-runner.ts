import type { AgentCaps, CapKind } from '../domain/agent-caps.js';
import type { AgentResult } from '../domain/agent-result.js';
import type { Session } from '../domain/session.js';

/** The process identity of a started agent. */
export interface StartedProcess {
  pid: number;
  startTime: string | null;
  /** Program and arguments, with the prompt left out. */
  command: string[];
  cwd: string;
  /** The session whose conversation it continues, when that differs from what was asked (a fork started fresh). */
  resumedFrom?: string | null;
}

/** What a runner is asked to do: run one session's agent. */
export interface AgentRunSpec {
  session: Session;
  /** The session whose conversation to fork into this one (a handoff), or null for a fresh start. */
  resumeFrom: string | null;
  /**
   * A file on this host holding that session's conversation, taken from the store (null when
   * the store has none): a fork then works on any host, not only where the parent ran.
   */
  resumeTranscript: string | null;
  /** Where the agent's stdout and stderr go. */
  logFile: string;
  /** Aborts the run: the agent's process group is terminated. */
  signal: AbortSignal;
  /** What the run may spend, passed to the agent's CLI as its own caps; none when absent. */
  caps?: AgentCaps;
  /** Called once the process runs, before its output is read; if it throws, the agent is stopped. */
  onStarted: (started: StartedProcess) => Promise<void>;
}

/** What a runner is asked to do when it adopts an agent whose manager died: follow it to its end. */
export interface AdoptSpec {
  /** The Active session; its `agent` is the running process (checked alive, same host, same start time). */
  session: Session;
  /** The agent's log file, which it writes itself. */
  logFile: string;
  /** Aborts the adoption: the agent's process family is terminated. */
  signal: AbortSignal;
}

/** How a run ended: a result to record, or a reason a person can act on. */
export type AgentOutcome = (
  | { ok: true; result: AgentResult }
  | {
      ok: false;
      error: string;
      result?: AgentResult;
      /** The agent did not end on its own terms (killed from outside, gone without a word): running it again may succeed. */
      interrupted?: true;
      /** The agent's CLI stopped it at a cap of {@link AgentRunSpec.caps}. */
      capped?: CapKind;
      /** Stopped by a rate or usage limit: not to run again before this time (ISO 8601). */
      retryAfter?: string;
    }
) & {
  /** The conversation the agent wrote (a file on this host), when it wrote one: stored with its session. */
  transcript?: string;
};

/** Something that runs agents as processes: the Claude Code CLI by default, another CLI by option. */
export interface AgentRunner {
  /** True when a handoff child continues its parent's conversation (`--resume … --fork-session`). */
  readonly forksOnHandoff: boolean;
  /** True when a clean finish completes the session; false leaves it Active for a handoff. */
  readonly completeOnSuccess: boolean;
  /** Runs one agent to its end. Never rejects: every failure is an outcome. */
  run(spec: AgentRunSpec): Promise<AgentOutcome>;
  /**
   * Follows an agent another manager started and then died, to its end (its deadline kept).
   * A runner without it cannot adopt: such agents are stopped and their sessions failed.
   */
  adopt?(spec: AdoptSpec): Promise<AgentOutcome>;
}
