import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import type { AgentResult } from '../domain/agent-result.js';
import type { Session } from '../domain/session.js';
import type { SessionContextInput } from '../domain/session-context.js';
import { mkdir } from 'node:fs/promises';
import { SessionError, isSessionError, storageError } from '../errors.js';
import type { SessionEvent } from '../events/session-event.js';
import { lineageOf } from '../projections/lineage.js';
import { renderSessionsFile } from '../projections/sessions-file.js';
import { emptySessionsState, evolveSessions, type SessionsState } from '../projections/sessions-projection.js';
import { computeStats, type SessionStats } from '../projections/stats.js';
import type { AppendRequest, EventSink, EventStore, TornTail } from '../store/event-store.js';
import { FileEventStore, type FileEventStoreOptions } from '../store/file/file-event-store.js';
import { Checkpointer, readCheckpoint, type CheckpointVerdict } from './checkpointer.js';
import { hostname } from 'node:os';
import { LIMITS } from '../domain/limits.js';
import type { AgentRunner } from '../runner/agent-runner.js';
import { currentProcess } from '../store/file/process-identity.js';
import { AgentSupervisor, type SupervisorRecorder } from './agent-supervisor.js';
import {
  decideAgentFinished,
  decideAgentStarted,
  decideComplete,
  decideFail,
  decideHandoff,
  decideSpawn,
  parseSessionId,
  type DecisionClock,
} from './decide.js';
import { findOrphans, stopOrphan } from './orphans.js';
import { SessionActors, type SessionActor, type SessionInspector } from './session-actors.js';

/** Options of {@link SessionManager.open}. */
export interface SessionManagerOptions extends FileEventStoreOptions {
  /** Write sessions.json after this many new events (default 1 000). */
  checkpointEvery?: number;
  /** …or after this long without new events, in ms (default 250; -1 = only by count and on close). */
  checkpointIdleMs?: number;
  /** Where "now" comes from (tests pin it). */
  clock?: () => Date;
  /** How often a command is re-decided after losing a race to another writer (default 3). */
  maxConflictRetries?: number;
  /**
   * Runs an agent process for every spawned session (e.g. `new ClaudeRunner()`); without one,
   * sessions are records only and the caller ends them. With one, `open` also fails the sessions
   * whose agents were orphaned by a manager that died.
   */
  runner?: AgentRunner;
  /**
   * Watches the session actors live: XState's `inspect` hook, e.g. `createSkyInspector().inspect`
   * or `createBrowserInspector().inspect` from `@statelyai/inspect` to see them in Stately's
   * inspector. Off by default; nothing leaves the process unless the hook you pass sends it.
   */
  inspect?: SessionInspector;
  /**
   * Where the events live (default: the file store in `dir`). Pass a `PostgresEventStore` to share
   * one record across hosts; `dir` then holds only this host's sessions.json cache and agent logs.
   */
  store?: EventStore;
}

/** What opening the store found. */
export interface OpenReport {
  /** Whether sessions.json could be used as the starting point, or why not. */
  checkpoint: CheckpointVerdict;
  /** Events replayed from the log on top of the checkpoint (all of them when it was not used). */
  replayedEvents: number;
  /** The unfinished end of the log a crash left, now cut off; null when there was none. */
  tornTail: TornTail | null;
  /** Sessions failed as orphans: their agent's manager had died (only with a runner). */
  orphaned: string[];
}

/** What {@link SessionManager.replay} found. */
export interface ReplayReport {
  events: number;
  sessions: number;
  /** True when the state rebuilt from the log alone equals the live state. */
  matchesLive: boolean;
}

/** Options of {@link SessionManager.spawnAgentSession}. */
export interface SpawnOptions {
  /** Use this UUID instead of a fresh one (e.g. an agent's own session id). */
  sessionId?: string;
  /** Aborts the session's agent (with a runner): its process group is stopped and the session fails. */
  signal?: AbortSignal;
}

/** Options of {@link SessionManager.handoff}. */
export interface HandoffOptions {
  /**
   * The handing-off agent's result; it is appended to the child's `previousResults`.
   * Defaults to the result the parent's agent finished with, if any.
   */
  result?: AgentResult;
  /** Use this UUID for the child session instead of a fresh one. */
  sessionId?: string;
  /** With a runner: continue the parent's conversation (`--resume --fork-session`); default: the runner's setting. */
  fork?: boolean;
  /** Aborts the child's agent. */
  signal?: AbortSignal;
}

/** Receives every event the manager learns of, its own and other processes', in `seq` order. */
export type EventListener = (event: SessionEvent) => void;

const SESSIONS_FILE = 'sessions.json';

/**
 * Manages agent sessions in a store directory (e.g. `.ai/sessions`): every change is decided by
 * the session state machine, appended durably to `events.ndjson`, then folded into the
 * projections (sessions, lineage, stats) that sessions.json caches. Any number of managers, in
 * any number of processes, may share one directory.
 *
 * @example
 * const manager = await SessionManager.open('.ai/sessions');
 * const codegen = await manager.spawnAgentSession('CodeGenAgent', 'Implement #42', {
 *   issueNumber: 42, currentPhase: 'CodeGeneration', worktreePath: '.worktrees/issue-42',
 * });
 * const review = await manager.handoff(codegen.id, 'ReviewAgent', {
 *   issueNumber: 42, currentPhase: 'Review', worktreePath: '.worktrees/issue-42',
 * });
 * await manager.completeSession(review.id, { success: true, output: 'LGTM' });
 * await manager.close();
 */
export class SessionManager {
  /** What opening found: checkpoint use, replayed events, torn tail. */
  readonly openReport: OpenReport;
  private state: SessionsState;
  private readonly actors: SessionActors;
  private readonly listeners = new Set<EventListener>();
  private readonly checkpointer: Checkpointer;
  private readonly supervisor: AgentSupervisor | null;
  private live = false;
  private closed = false;

  private constructor(
    /** The store directory. */
    readonly dir: string,
    private readonly store: EventStore,
    private readonly options: SessionManagerOptions,
    opened: { state: SessionsState; verdict: CheckpointVerdict },
  ) {
    this.state = opened.state;
    this.actors = new SessionActors(options.inspect);
    this.checkpointer = new Checkpointer(
      join(dir, SESSIONS_FILE),
      () => ({ state: this.state, cursor: this.store.cursor() }),
      options.checkpointEvery ?? 1000,
      options.checkpointIdleMs ?? 250,
    );
    this.openReport = { checkpoint: opened.verdict, replayedEvents: 0, tornTail: null, orphaned: [] };
    this.supervisor = options.runner === undefined ? null : new AgentSupervisor(options.runner, join(dir, 'logs'), this.agentRecorder());
  }

  /**
   * Opens (creating if needed) the store in `dir`: loads sessions.json if it matches the log,
   * replays the rest of the log, cuts a torn tail, and starts an actor per Active session.
   * Throws `CORRUPT_LOG` (naming line and byte offset) if the log is damaged before its end,
   * `STORAGE` if the directory cannot be used, `LOCKED` if another process holds the lock too long.
   */
  static async open(dir: string, options: SessionManagerOptions = {}): Promise<SessionManager> {
    if (typeof dir !== 'string' || dir.length === 0 || dir.includes('\0')) {
      throw new SessionError('INVALID_INPUT', 'the store directory must be a non-empty path without NUL bytes');
    }
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw storageError('creating directory', dir, error);
    });
    const store = options.store ?? new FileEventStore(dir, options);
    const loaded = await readCheckpoint(join(dir, SESSIONS_FILE));
    let opened: { state: SessionsState; verdict: CheckpointVerdict; cursor: Parameters<EventStore['connect']>[1] };
    if (typeof loaded === 'string') opened = { state: emptySessionsState(), verdict: loaded, cursor: null };
    else if (loaded.state.lastEventId !== null && !(await store.verifyCursor(loaded.cursor, loaded.state.lastEventId))) {
      opened = { state: emptySessionsState(), verdict: 'stale', cursor: null };
    } else opened = { ...loaded, verdict: 'loaded' };
    const manager = new SessionManager(dir, store, options, opened);
    try {
      await manager.connect(opened.cursor);
    } catch (error) {
      await store.close();
      throw error;
    }
    return manager;
  }

  /** Starts a new session for `agentName`. Throws `INVALID_INPUT` or `ALREADY_EXISTS`; nothing is written then. */
  async spawnAgentSession(agentName: string, purpose: string, context: SessionContextInput, options: SpawnOptions = {}): Promise<Session> {
    const [event] = await this.execute((clock) => decideSpawn(this.state.sessions, { agentName, purpose, context, sessionId: options.sessionId }, clock));
    const session = this.copyOf(event!.sessionId);
    this.supervisor?.launch(session, null, options.signal);
    return session;
  }

  /**
   * Ends `fromId` as HandedOff and starts `toAgent`'s session with `context` (plus the handed-over
   * result), in one atomic append. A context without `previousResults` inherits the parent's, so
   * the whole chain's results reach every later agent. Resolves with the child session.
   * Throws `NOT_FOUND`, `INVALID_TRANSITION` (the session is not Active), `INVALID_INPUT`, `CONFLICT`.
   */
  async handoff(fromId: string, toAgent: string, context: SessionContextInput, options: HandoffOptions = {}): Promise<Session> {
    const events = await this.execute((clock) => {
      // Only a missing result defaults to the parent's; anything else given (even null) is validated as is.
      const result = options.result === undefined ? this.state.sessions.get(fromId)?.result : options.result;
      return decideHandoff(this.state.sessions, { fromId, toAgent, context, result, sessionId: options.sessionId }, clock);
    });
    const child = this.copyOf(events[1]!.sessionId);
    if (this.supervisor !== null) {
      await this.supervisor.stop(fromId, `session ${fromId} was handed off to ${child.id}`);
      const parentRan = this.state.sessions.get(fromId)?.agent !== undefined;
      const fork = (options.fork ?? this.supervisor.runner.forksOnHandoff) && parentRan;
      this.supervisor.launch(child, fork ? fromId : null, options.signal);
    }
    return child;
  }

  /** Ends an Active session as Completed. Throws `NOT_FOUND`, `INVALID_TRANSITION`, `INVALID_INPUT`. */
  async completeSession(id: string, result?: AgentResult): Promise<Session> {
    await this.execute((clock) => decideComplete(this.state.sessions, { id, result }, clock));
    await this.supervisor?.stop(id, `session ${id} was completed`);
    return this.copyOf(id);
  }

  /** Ends an Active session as Failed with the reason. Throws `NOT_FOUND`, `INVALID_TRANSITION`, `INVALID_INPUT`. */
  async failSession(id: string, error: string, result?: AgentResult): Promise<Session> {
    await this.execute((clock) => decideFail(this.state.sessions, { id, error, result }, clock));
    await this.supervisor?.stop(id, `session ${id} was failed`);
    return this.copyOf(id);
  }

  /**
   * With a runner: resolves, with the session as recorded, once the session's agent has ended
   * (finished, failed, or stopped) and its end is in the log. Without a running agent it resolves
   * at once. Throws `NOT_FOUND`, `INVALID_INPUT`.
   */
  async waitForAgent(id: string): Promise<Session> {
    const sessionId = parseSessionId(id);
    await this.supervisor?.wait(sessionId);
    const session = await this.getSession(sessionId);
    if (session === undefined) throw new SessionError('NOT_FOUND', `no session ${sessionId}`, { sessionId });
    return session;
  }

  /** True when this manager runs an agent for every session it spawns (it has a runner). */
  get runsAgents(): boolean {
    return this.supervisor !== null;
  }

  /** True when its runner completes a session whose agent succeeded (instead of leaving it Active). */
  get completesOnSuccess(): boolean {
    return this.supervisor?.runner.completeOnSuccess ?? false;
  }

  /** The path of a session's agent output log (`<dir>/logs/<id>.log`). */
  logFileOf(id: string): string {
    return join(this.dir, 'logs', `${parseSessionId(id)}.log`);
  }

  /**
   * Fails every Active session whose agent's manager process is gone, stopping the agent if it
   * still runs. `open` does this when a runner is configured. Resolves with their ids.
   */
  async reapOrphans(): Promise<string[]> {
    await this.refresh();
    const reaped: string[] = [];
    for (const orphan of findOrphans(this.state.sessions.values())) {
      const reason = await stopOrphan(orphan, 2000);
      try {
        await this.failSession(orphan.id, reason);
        reaped.push(orphan.id);
      } catch (error) {
        if (!isSessionError(error, 'INVALID_TRANSITION')) throw error;
      }
    }
    return reaped;
  }

  /** The session with that id, or undefined. Throws `INVALID_INPUT` for a non-UUID. */
  async getSession(id: string): Promise<Session | undefined> {
    const sessionId = parseSessionId(id);
    await this.refresh();
    return this.state.sessions.has(sessionId) ? this.copyOf(sessionId) : undefined;
  }

  /** The sessions from the pipeline's root down to `id`, root first. Throws `NOT_FOUND`, `INVALID_INPUT`. */
  async getSessionLineage(id: string): Promise<Session[]> {
    const sessionId = parseSessionId(id);
    await this.refresh();
    return structuredClone(lineageOf(this.state.sessions, sessionId));
  }

  /** Every Active session, in spawn order. */
  async listActiveSessions(): Promise<Session[]> {
    return this.listSessions((s) => s.status === 'Active');
  }

  /** Every session (or those `filter` keeps), in spawn order. */
  async listSessions(filter?: (session: Session) => boolean): Promise<Session[]> {
    await this.refresh();
    const all = [...this.state.sessions.values()];
    return structuredClone(filter === undefined ? all : all.filter(filter));
  }

  /** Counts by status, agent and phase, with durations, cost and turns. */
  async getStats(): Promise<SessionStats> {
    await this.refresh();
    return computeStats(this.state.sessions.values());
  }

  /** The live XState actor of an Active session (for inspection); undefined once it has ended. */
  actorOf(id: string): SessionActor | undefined {
    return this.actors.get(id);
  }

  /**
   * Calls `listener` with every event from now on, whichever process appended it (others' events
   * arrive when this manager next reads the log: on any call, or on {@link refresh}).
   * Returns the function that unsubscribes.
   */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads what other processes appended since; resolves with how many events. */
  async refresh(): Promise<number> {
    this.assertOpen();
    return this.store.refresh();
  }

  /**
   * Rebuilds every projection from the log alone, compares it with the live state, and rewrites
   * sessions.json from the rebuilt state.
   */
  async replay(): Promise<ReplayReport> {
    await this.refresh();
    const rebuilt = emptySessionsState();
    let events = 0;
    for await (const batch of this.store.readAll()) {
      for (const event of batch) if (event.seq <= this.state.lastSeq) evolveSessions(rebuilt, event);
      events += batch.length;
    }
    const cursor = this.store.cursor();
    const matchesLive = renderSessionsFile(rebuilt, cursor) === renderSessionsFile(this.state, cursor);
    this.state = rebuilt;
    this.actors.rebuild(rebuilt.sessions.values());
    await this.checkpointer.write();
    return { events: Math.min(events, this.state.lastSeq), sessions: rebuilt.sessions.size, matchesLive };
  }

  /** Writes sessions.json now. */
  async checkpoint(): Promise<void> {
    this.assertOpen();
    await this.checkpointer.write();
  }

  /** Waits for pending appends, writes sessions.json, stops the actors and releases the store. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.supervisor?.stopAll('the session manager was closed');
    } finally {
      this.closed = true;
    }
    try {
      await this.store.close();
      await this.checkpointer.flush();
    } finally {
      this.actors.stopAll();
      this.listeners.clear();
    }
  }

  private async connect(cursor: Parameters<EventStore['connect']>[1]): Promise<void> {
    const report = await this.store.connect(this.sink(), cursor);
    Object.assign(this.openReport, report);
    this.actors.rebuild(this.state.sessions.values());
    this.live = true;
    if (report.replayedEvents > 0 || this.openReport.checkpoint !== 'loaded') await this.checkpointer.write();
    if (this.supervisor !== null) this.openReport.orphaned = await this.reapOrphans();
  }

  private agentRecorder(): SupervisorRecorder {
    return {
      started: async (id, started, resumedFrom, logFile) => {
        const data = {
          process: { host: hostname(), pid: started.pid, startTime: started.startTime },
          supervisor: currentProcess(),
          command: started.command.map((a) => a.slice(0, LIMITS.path)).slice(0, 256),
          cwd: started.cwd,
          logFile,
          resumedFrom,
        };
        await this.execute((clock) => decideAgentStarted(this.state.sessions, { id, data }, clock));
      },
      finished: async (id, outcome) => {
        if (outcome.ok && !this.options.runner!.completeOnSuccess) {
          await this.execute((clock) => decideAgentFinished(this.state.sessions, { id, result: outcome.result }, clock));
        } else if (outcome.ok) {
          await this.execute((clock) => decideComplete(this.state.sessions, { id, result: outcome.result }, clock));
        } else {
          const error = outcome.error.slice(0, LIMITS.errorText);
          await this.execute((clock) => decideFail(this.state.sessions, { id, error, result: outcome.result }, clock));
        }
      },
    };
  }

  private sink(): EventSink {
    return {
      apply: (events) => {
        for (const event of events) {
          evolveSessions(this.state, event);
          if (!this.live) continue;
          this.actors.apply(event, this.state.sessions.get(event.sessionId)!);
          for (const listener of this.listeners) queueMicrotask(() => notify(listener, event));
        }
        if (this.live) this.checkpointer.noteEvents(events.length);
      },
      revisionOf: (id) => this.state.sessions.get(id)?.revision ?? 0,
    };
  }

  private async execute(decide: (clock: DecisionClock) => AppendRequest): Promise<SessionEvent[]> {
    this.assertOpen();
    await this.store.refresh();
    const retries = this.options.maxConflictRetries ?? 3;
    for (let attempt = 0; ; attempt += 1) {
      const now = (this.options.clock?.() ?? new Date()).toISOString();
      const request = decide({ now, newId: uuidv4 });
      try {
        return await this.store.append(request);
      } catch (error) {
        // The store caught up before refusing, so the next decision sees the winner's events.
        if (!isSessionError(error, 'CONFLICT') || attempt >= retries) throw error;
      }
    }
  }

  private copyOf(id: string): Session {
    return structuredClone(this.state.sessions.get(id)!);
  }

  private assertOpen(): void {
    if (this.closed) throw new SessionError('CLOSED', `the session manager for ${this.dir} is closed`);
  }
}

/** A listener's exception must not break the writer that called it: it becomes a process warning. */
function notify(listener: EventListener, event: SessionEvent): void {
  try {
    listener(event);
  } catch (error) {
    process.emitWarning(`session event listener threw on seq ${event.seq}: ${String(error)}`, 'SessionListenerWarning');
  }
}
