import type { AgentCaps } from '../domain/agent-caps.js';
import { hostName } from '../process/process-identity.js';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Session } from '../domain/session.js';
import { isSessionError } from '../errors.js';
import type { AgentOutcome, AgentRunner, StartedProcess } from '../runner/agent-runner.js';
import type { TranscriptRef } from '../domain/transcript-ref.js';
import type { TranscriptKeeper } from './transcript-keeper.js';
import { stopStragglers } from '../process/terminate-family.js';
import { endedWhileClosing, endedWithoutSlot } from '../runner/run-end.js';
import type { AgentSlots, SlotLease } from './agent-slots.js';
import { decideOrphan } from './orphans.js';
import type { AgentLogStore } from '../store/agent-log-store.js';
import { LogPublisher } from './log-publisher.js';

/** How the supervisor writes what happens to the agents it runs (the manager's commands). */
export interface SupervisorRecorder {
  started(sessionId: string, started: StartedProcess, resumedFrom: string | null, logFile: string): Promise<void>;
  /** `by`: who had the agent stopped, when someone did. */
  finished(sessionId: string, outcome: AgentOutcome, transcript?: TranscriptRef, by?: string): Promise<void>;
}

/** Follows the store (other processes' appends reach the manager) until stopped. */
export type StoreFollow = () => { stop: () => void };

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
  /** Who asked for a run to stop, by session, while it stops. */
  private readonly stoppedBy = new Map<string, string>();
  /** Set once the manager closes: the agents it stops then were cut short, not failed on their own. */
  private closing = false;
  /** Following the store while agents run, so a stop request appended by any process reaches them. */
  private follower: { stop: () => void } | null = null;

  constructor(
    readonly runner: AgentRunner,
    private readonly logsDir: string,
    private readonly record: SupervisorRecorder,
    private readonly transcripts: TranscriptKeeper,
    private readonly follow: StoreFollow | null = null,
    /** Where the ends of agents' logs are published for other hosts' pages (PostgreSQL), if anywhere. */
    private readonly agentLogs: AgentLogStore | null = null,
    /** The store's concurrency slots: an adopted agent's slot is taken over. */
    private readonly slots: AgentSlots | null = null,
  ) {}

  /** The file a session's agent output goes to. */
  logFileOf(sessionId: string): string {
    return join(this.logsDir, `${sessionId}.log`);
  }

  /**
   * Starts the agent of an Active session; `signal` aborts it; `caps` go to its CLI; `lease`, the
   * concurrency slot taken for it, is renewed while it runs (the agent is stopped should the slot
   * be lost) and handed back once its end is recorded.
   */
  launch(session: Session, resumeFrom: string | null, signal?: AbortSignal, caps?: AgentCaps, lease?: SlotLease | null): void {
    const controller = new AbortController();
    const slot = this.keepSlot(session.id, controller, lease ?? null);
    if (signal !== undefined) {
      if (signal.aborted) controller.abort(signal.reason);
      else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
    }
    const logFile = this.logFileOf(session.id);
    const done = (async () => {
      await mkdir(this.logsDir, { recursive: true, mode: 0o700 });
      const resumeTranscript = resumeFrom === null ? null : await this.transcripts.fileFor(resumeFrom);
      const publisher = this.publisherOf(session.id, logFile);
      const outcome = await this.runner
        .run({
          session,
          resumeFrom,
          resumeTranscript,
          logFile,
          signal: controller.signal,
          ...(caps === undefined ? {} : { caps }),
          onStarted: (started) => this.record.started(session.id, started, started.resumedFrom === undefined ? resumeFrom : started.resumedFrom, logFile),
        })
        .finally(() => publisher?.stop());
      await this.finished(session.id, slot.lost === null ? outcome : endedWithoutSlot(outcome, slot.lost));
    })();
    this.track(session.id, controller, done, () => lease ?? null);
  }

  /** Renews a run's slot while it runs; should a renewal be refused, the agent is stopped and the loss kept for its record. */
  private keepSlot(sessionId: string, controller: AbortController, lease: SlotLease | null): { lost: string | null } {
    const slot: { lost: string | null } = { lost: null };
    lease?.keep((why) => {
      slot.lost = `the agent of session ${sessionId} lost ${why}`;
      controller.abort(new Error(slot.lost));
    });
    return slot;
  }

  /**
   * Takes over the agent of an orphaned session (its manager died; the agent ran on this host)
   * if the runner can: follows it to its end and records that end, exactly once across every
   * manager that adopts it (the log's expected revisions pick one). An agent that already
   * ended while no manager watched is adopted too: its log file still holds its result line.
   * False when it cannot (another host, or a runner that cannot adopt).
   */
  adopt(session: Session): boolean {
    const agent = session.agent;
    if (agent === undefined || decideOrphan(session, { host: hostName(), runnerAdopts: this.runner.adopt !== undefined, followed: this.runs.has(session.id) }) !== 'adopt') return false;
    const controller = new AbortController();
    const leased: { lease: SlotLease | null } = { lease: null };
    const done = (async () => {
      // The slot belongs to the agent, not to its dead manager: the adopter renews it from now on.
      // A store out of reach cannot say: the agent is followed all the same (its end matters more than its count).
      const claimed = this.slots === null ? undefined : await this.slots.claim({ holder: session.id, agent: session.agentName, pipeline: null }, agent.supervisor).catch(() => undefined);
      // Another live manager adopted it first and renews its slot: that one follows it and records its end.
      if (claimed === 'kept') return;
      leased.lease = claimed ?? null;
      const slot = claimed === null
        ? { lost: `the agent of session ${session.id} lost its concurrency slot while no manager followed it, and no slot is free` }
        : this.keepSlot(session.id, controller, leased.lease);
      if (slot.lost !== null) controller.abort(new Error(slot.lost));
      const publisher = this.publisherOf(session.id, agent.logFile);
      const outcome = await this.runner.adopt!({ session, logFile: agent.logFile, signal: controller.signal }).finally(() => publisher?.stop());
      await this.finished(session.id, slot.lost === null ? outcome : endedWithoutSlot(outcome, slot.lost));
    })();
    this.track(session.id, controller, done, () => leased.lease);
    // Asked to stop while its manager was gone: the adopter carries the request out.
    if (agent.stopRequest !== undefined) void this.stopRequested(session.id, agent.stopRequest);
    return true;
  }

  /** Publishes a run's log for other hosts' pages while it runs, where the store keeps them. */
  private publisherOf(sessionId: string, logFile: string): LogPublisher | null {
    return this.agentLogs === null ? null : new LogPublisher(this.agentLogs, sessionId, logFile);
  }

  /** Records a run's end, with its conversation kept and who stopped it, if someone did. */
  private async finished(sessionId: string, outcome: AgentOutcome): Promise<void> {
    const transcript = await this.transcripts.keep(sessionId, outcome.transcript);
    await this.record.finished(sessionId, this.marked(outcome), transcript, this.stoppedBy.get(sessionId));
  }

  /**
   * Carries out a stop request (`SessionStopRequested`, appended by any process) for an agent
   * this supervisor runs: the agent is stopped and its session fails with the request's reason,
   * recorded as done by whoever asked. Nothing for an agent run elsewhere.
   */
  async stopRequested(sessionId: string, request: { by: string; reason: string }): Promise<void> {
    if (!this.runs.has(sessionId)) return;
    this.stoppedBy.set(sessionId, request.by);
    await this.stop(sessionId, stopRequestReason(request));
  }

  /** A failure caused by the manager closing is an interruption: a pipeline resumed later runs the step again. */
  private marked(outcome: AgentOutcome): AgentOutcome {
    return this.closing ? endedWhileClosing(outcome) : outcome;
  }

  /** Keeps a run until it has ended and been recorded; then hands its slot back. */
  private track(sessionId: string, controller: AbortController, work: Promise<void>, lease: () => SlotLease | null): void {
    if (this.runs.size === 0 && this.follow !== null) this.follower ??= this.follow();
    const done = work
      .catch((error: unknown) => this.unrecorded(sessionId, error))
      .then(() => lease()?.release())
      .finally(() => {
        this.runs.delete(sessionId);
        this.stoppedBy.delete(sessionId);
        if (this.runs.size === 0) this.unfollow();
      });
    this.runs.set(sessionId, { controller, done });
  }

  private unfollow(): void {
    this.follower?.stop();
    this.follower = null;
  }

  /** True while this supervisor runs the session's agent. */
  isRunning(sessionId: string): boolean {
    return this.runs.has(sessionId);
  }

  /** Resolves when the session's agent (if this supervisor runs one) has ended and been recorded. */
  async wait(sessionId: string): Promise<void> {
    await this.runs.get(sessionId)?.done;
  }

  /** Stops the session's agent (its whole family) and waits until its end is recorded. */
  async stop(sessionId: string, reason: string): Promise<void> {
    const run = this.runs.get(sessionId);
    if (run === undefined) return;
    run.controller.abort(new Error(reason));
    await run.done;
  }

  /**
   * Stops, on this host, any process carrying the id of a session this supervisor does not
   * run: an agent whose manager died between starting it and recording it. A failed session
   * keeps no agent, and its retry never runs beside it.
   */
  async stopStrays(sessionId: string): Promise<void> {
    if (this.runs.has(sessionId)) return;
    await stopStragglers({ sessionId, since: null }, 2000);
  }

  private unrecorded(sessionId: string, error: unknown): void {
    // The session was ended meanwhile (by a caller, another adopter, or because the manager
    // closed): nothing to record.
    if (isSessionError(error, 'INVALID_TRANSITION') || isSessionError(error, 'CLOSED') || isSessionError(error, 'CONFLICT')) return;
    process.emitWarning(`could not record the end of the agent of session ${sessionId}: ${String(error)}`, 'SessionAgentWarning');
  }

  /** Stops every agent and waits for all of them (the manager is closing: their sessions fail as interrupted). */
  async stopAll(reason: string): Promise<void> {
    this.closing = true;
    await Promise.all([...this.runs.keys()].map((id) => this.stop(id, reason)));
    this.unfollow();
  }
}

/** The error a session stopped on request fails with: who asked, and why. */
function stopRequestReason(request: { by: string; reason: string }): string {
  return `stopped at the request of ${request.by}: ${request.reason}`;
}
