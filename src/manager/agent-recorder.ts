import { SessionError } from '../errors.js';
import { costSinceResume } from '../domain/agent-result.js';
import { LIMITS } from '../domain/limits.js';
import type { Session } from '../domain/session.js';
import type { AgentOutcome } from '../runner/agent-runner.js';
import type { SessionEvent } from '../events/session-event.js';
import type { AppendRequest } from '../store/event-store.js';
import { currentProcess, hostName } from '../process/process-identity.js';
import type { SupervisorRecorder } from './agent-supervisor.js';
import { decideAgentFinished, decideAgentStarted, decideComplete, decideFail, type DecisionClock } from './decide.js';

/** What recording an agent's life needs from the manager. */
export interface RecorderDeps {
  sessions: () => ReadonlyMap<string, Session>;
  execute: (decide: (clock: DecisionClock) => AppendRequest) => Promise<SessionEvent[]>;
  completeOnSuccess: () => boolean;
}

/**
 * Turns what the supervisor sees — an agent started, an agent ended — into commands, so every
 * fact about an agent reaches the event log through the session machine like any other change.
 */
export function agentRecorder(deps: RecorderDeps): SupervisorRecorder {
  return {
    started: async (id, started, resumedFrom, logFile) => {
      const data = {
        process: { host: hostName(), pid: started.pid, startTime: started.startTime },
        supervisor: currentProcess(),
        command: started.command.map((a) => a.slice(0, LIMITS.path)).slice(0, 256),
        cwd: started.cwd,
        logFile,
        resumedFrom,
      };
      await deps.execute((clock) => decideAgentStarted(deps.sessions(), { id, data }, clock));
    },
    finished: async (id, reported, transcript, by) => {
      const kept = transcript === undefined ? {} : { transcript };
      const outcome = withRunCost(reported, deps.sessions().get(id), deps.sessions());
      // Each decision first asks, on the state it is decided on, whether the run's end is in the
      // log already: a run's end is recorded once, whichever way this run ended.
      if (outcome.ok && !deps.completeOnSuccess()) {
        await deps.execute((clock) => decideAgentFinished(runOpen(deps.sessions(), id), { id, result: outcome.result, ...kept }, clock));
      } else if (outcome.ok) {
        await deps.execute((clock) => decideComplete(runOpen(deps.sessions(), id), { id, result: outcome.result, ...kept }, clock));
      } else {
        const error = outcome.error.slice(0, LIMITS.errorText);
        await deps.execute((clock) => decideFail(runOpen(deps.sessions(), id), { id, error, result: outcome.result, interrupted: outcome.interrupted, capped: outcome.capped, retryAfter: outcome.retryAfter, by, ...kept }, clock));
      }
    },
  };
}

/**
 * `sessions`, once the session's agent run is known not to have its end recorded; else throws
 * `INVALID_TRANSITION`. Two managers may follow one orphaned agent (each adopted it before the
 * other's claim showed): the first records its end, and the other's end of the same run, a
 * failure say (it found no slot free once the first had handed the slot back), must not then
 * fail a session whose agent finished well: that failed a pipeline's step under load.
 */
function runOpen(sessions: ReadonlyMap<string, Session>, id: string): ReadonlyMap<string, Session> {
  if (sessions.get(id)?.agent?.finishedAt !== undefined) {
    throw new SessionError('INVALID_TRANSITION', `the end of the agent of session ${id} is recorded already (another manager followed it too)`, { sessionId: id });
  }
  return sessions;
}

/**
 * The outcome with its result's own cost (`runCostUsd`) when the run resumed a conversation: the
 * CLI's `total_cost_usd` then includes what that conversation had cost before (checked on the
 * CLI), which is the reported total of the session it resumed from.
 */
function withRunCost(outcome: AgentOutcome, session: Session | undefined, sessions: ReadonlyMap<string, Session>): AgentOutcome {
  const result = outcome.result;
  const from = session?.agent?.resumedFrom;
  if (result?.totalCostUsd === undefined || result.runCostUsd !== undefined || from == null) return outcome;
  const before = sessions.get(from)?.result?.totalCostUsd;
  if (before === undefined) return outcome;
  const runCostUsd = costSinceResume(result.totalCostUsd, before);
  return { ...outcome, result: { ...result, runCostUsd } } as AgentOutcome;
}
