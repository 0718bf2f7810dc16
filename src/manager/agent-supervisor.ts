import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isProcessGone } from '../store/file/process-identity.js';
import { join } from 'node:path';
import type { Session } from '../domain/session.js';
import { isSessionError } from '../errors.js';
import type { AgentOutcome, AgentRunner, StartedProcess } from '../runner/agent-runner.js';
import type { TranscriptRef } from '../domain/transcript-ref.js';
import type { TranscriptKeeper } from './transcript-keeper.js';

/** How the supervisor writes what happens to the agents it runs (the manager's commands). */
export interface SupervisorRecorder {
  started(sessionId: string, started: StartedProcess, resumedFrom: string | null, logFile: string): Promise<void>;
  finished(sessionId: string, outcome: AgentOutcome, transcript?: TranscriptRef): Promise<void>;
}

interface Run {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Runs the agents of the sessions a manager spawns, one run per session, and records each run's
 * start and end through the manager, so every fact about an agent goes through the event log.
 */
export class AgentSupervisor {
  private readonly runs = new Map<string, Run>();

  constructor(
    readonly runner: AgentRunner,
    private readonly logsDir: string,
    private readonly record: SupervisorRecorder,
    private readonly transcripts: TranscriptKeeper,
  ) {}

  /** The file a session's agent output goes to. */
  logFileOf(sessionId: string): string {
    return join(this.logsDir, `${sessionId}.log`);
  }

  /** Starts the agent of an Active session; `signal` aborts it. */
  launch(session: Session, resumeFrom: string | null, signal?: AbortSignal): void {
    const controller = new AbortController();
    if (signal !== undefined) {
      if (signal.aborted) controller.abort(signal.reason);
      else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
    }
    const logFile = this.logFileOf(session.id);
    const done = (async () => {
      await mkdir(this.logsDir, { recursive: true, mode: 0o700 });
      const resumeTranscript = resumeFrom === null ? null : await this.transcripts.fileFor(resumeFrom);
      const outcome = await this.runner.run({
        session,
        resumeFrom,
        resumeTranscript,
        logFile,
        signal: controller.signal,
        onStarted: (started) => this.record.started(session.id, started, started.resumedFrom === undefined ? resumeFrom : started.resumedFrom, logFile),
      });
      await this.record.finished(session.id, outcome, await this.transcripts.keep(session.id, outcome.transcript));
    })();
    this.track(session.id, controller, done);
  }

  /**
   * Takes over the agent of an orphaned session (its manager died, the agent runs on here) if
   * the runner can: follows it to its end and records that end, exactly once across every
   * manager that adopts it (the log's expected revisions pick one). False when it cannot.
   */
  adopt(session: Session): boolean {
    const agent = session.agent;
    if (this.runner.adopt === undefined || agent === undefined || this.runs.has(session.id)) return false;
    if (agent.process.host !== hostname() || isProcessGone(agent.process)) return false;
    const controller = new AbortController();
    const done = (async () => {
      const outcome = await this.runner.adopt!({ session, logFile: agent.logFile, signal: controller.signal });
      await this.record.finished(session.id, outcome, await this.transcripts.keep(session.id, outcome.transcript));
    })();
    this.track(session.id, controller, done);
    return true;
  }

  /** Keeps a run until it has ended and been recorded. */
  private track(sessionId: string, controller: AbortController, work: Promise<void>): void {
    const done = work.catch((error: unknown) => this.unrecorded(sessionId, error)).finally(() => this.runs.delete(sessionId));
    this.runs.set(sessionId, { controller, done });
  }

  /** True while this supervisor runs the session's agent. */
  isRunning(sessionId: string): boolean {
    return this.runs.has(sessionId);
  }

  /** Resolves when the session's agent (if this supervisor runs one) has ended and been recorded. */
  async wait(sessionId: string): Promise<void> {
    await this.runs.get(sessionId)?.done;
  }

  /** Stops the session's agent (its whole process group) and waits until its end is recorded. */
  async stop(sessionId: string, reason: string): Promise<void> {
    const run = this.runs.get(sessionId);
    if (run === undefined) return;
    run.controller.abort(new Error(reason));
    await run.done;
  }

  private unrecorded(sessionId: string, error: unknown): void {
    // The session was ended meanwhile (by a caller, another adopter, or because the manager
    // closed): nothing to record.
    if (isSessionError(error, 'INVALID_TRANSITION') || isSessionError(error, 'CLOSED') || isSessionError(error, 'CONFLICT')) return;
    process.emitWarning(`could not record the end of the agent of session ${sessionId}: ${String(error)}`, 'SessionAgentWarning');
  }

  /** Stops every agent and waits for all of them. */
  async stopAll(reason: string): Promise<void> {
    await Promise.all([...this.runs.keys()].map((id) => this.stop(id, reason)));
  }
}
