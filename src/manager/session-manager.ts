import { join, resolve } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { mkdir } from 'node:fs/promises';
import type { AgentResult } from '../domain/agent-result.js';
import { clonePlain } from '../domain/clone-plain.js';
import { parseCaps } from '../domain/agent-caps.js';
import type { Session } from '../domain/session.js';
import type { SessionContextInput } from '../domain/session-context.js';
import { SessionError, isSessionError, storageError } from '../errors.js';
import { isPipelineEvent, type SessionEvent } from '../events/session-event.js';
import type { PipelineStream } from '../projections/pipeline-stream.js';
import { PipelineStreams } from './pipeline-streams.js';
import { resolveNotifyOptions } from '../domain/notify-options.js';
import { lineageOf } from '../projections/lineage.js';
import { SessionsTableFolder } from '../projections/sessions-table-folder.js';
import { sameRendering } from '../checkpoint/sessions-file.js';
import { activeSessionsOf } from '../checkpoint/session-map.js';
import { emptySessionsState, evolveSessions, type SessionsState } from '../projections/sessions-projection.js';
import { statsOf, type SessionStats } from '../projections/stats.js';
import { parseSessionQuery, querySessions, type SessionPage, type SessionQuery } from '../projections/session-query.js';
import type { AppendRequest, EventSink, EventStore } from '../store/event-store.js';
import { FileEventStore } from '../store/file/file-event-store.js';
import { checkpointPolicyOf } from '../checkpoint/checkpoint-policy.js';
import { validateManagerOptions } from './validate-options.js';
import { Checkpointer, closeSessions, resolveCheckpoint, type CheckpointCounters, type CheckpointStart } from '../checkpoint/checkpointer.js';
import { agentRecorder } from './agent-recorder.js';
import { AgentSupervisor, type SupervisorRecorder } from './agent-supervisor.js';
import { DEFAULT_MAX_TRANSCRIPT_BYTES, TranscriptKeeper } from './transcript-keeper.js';
import { FileTranscripts } from '../store/file/file-transcripts.js';
import { decideComplete, decideFail, decideHandoff, decideRetry, decideSpawn, decideStopRequest, parseSessionId, type DecisionClock } from './decide.js';
import type { CompleteOptions, EventListener, FailOptions, HandoffOptions, OpenReport, ReplayReport, RetryOptions, SessionManagerOptions, SpawnOptions, StopRequestInput } from './options.js';
import { findOrphans, stopOrphan } from './orphans.js';
import { isInterruption } from '../runner/run-end.js';
import { SessionActors, type SessionActor } from './session-actors.js';
import { AgentSlots, type SlotLease } from './agent-slots.js';
import { AppendMetrics } from './append-metrics.js';
import { SlotTable, type SlotView } from '../store/slot-store.js';
import { FileSlotTable } from '../store/file/file-slots.js';
import { DEFAULT_SLOT_LEASE_MS, parseConcurrencyLimit, type ConcurrencyLimit } from '../domain/concurrency-limit.js';
import { retryIdOf } from '../domain/retry-id.js';

export type { CompleteOptions, EventListener, FailOptions, HandoffOptions, OpenReport, ReplayReport, RetryOptions, SessionManagerOptions, SpawnOptions, StopRequestInput } from './options.js';

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
  private readonly followers = new Set<{ stop: () => void }>();
  private readonly checkpointer: Checkpointer;
  private readonly supervisor: AgentSupervisor | null;
  private readonly pipelines: PipelineStreams;
  /** The store's concurrency slots (shared by every manager on it). */
  private readonly slotTable: SlotTable;
  /** With a runner: how this manager waits for slots and keeps them. */
  private readonly slots: AgentSlots | null;
  private live = false;
  private closed = false;
  /** Aborted as the manager closes: spawns waiting for a slot stop waiting. */
  private readonly closing = new AbortController();
  /** This manager's appends and their latency (see `prometheusMetrics`). */
  readonly appendMetrics = new AppendMetrics();

  private constructor(
    /** The store directory. */
    readonly dir: string,
    private readonly store: EventStore,
    private readonly options: SessionManagerOptions,
    opened: CheckpointStart,
  ) {
    this.state = opened.state;
    this.actors = new SessionActors(options.inspect, options.actors);
    this.pipelines = new PipelineStreams(store);
    this.checkpointer = new Checkpointer(
      join(dir, SESSIONS_FILE),
      () => ({ state: this.state, cursor: this.store.cursor() }),
      checkpointPolicyOf(options),
      options.lockTimeoutMs ?? 10_000,
      (from, to) => store.bytesBetween?.(from, to) ?? null,
    );
    if (opened.loaded !== null) this.checkpointer.adoptLoaded(opened.loaded);
    this.openReport = { checkpoint: opened.verdict, replayedEvents: 0, tornTail: null, orphaned: [], adopted: [] };
    const transcripts = new TranscriptKeeper({
      store: store.transcripts ?? new FileTranscripts(dir),
      localDir: dir,
      enabled: options.storeTranscripts ?? true,
      maxBytes: options.maxTranscriptBytes ?? DEFAULT_MAX_TRANSCRIPT_BYTES,
    });
    // While its agents run, the manager follows the store: a stop request any process appends reaches it.
    const follow = () => store.watch(() => this.refresh().catch(() => 0));
    this.slotTable = new SlotTable(store.slots ?? new FileSlotTable(dir, options.lockTimeoutMs ?? 10_000));
    this.slots = options.runner === undefined ? null : new AgentSlots(this.slotTable, options.slotLeaseMs ?? DEFAULT_SLOT_LEASE_MS, options.slotPollMs ?? 250, () => this.reapOrphans());
    this.supervisor = options.runner === undefined ? null : new AgentSupervisor(options.runner, resolve(dir, 'logs'), this.agentRecorder(), transcripts, follow, store.agentLogs ?? null, this.slots);
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
    validateManagerOptions(options);
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw storageError('creating directory', dir, error);
    });
    const store = options.store ?? new FileEventStore(dir, options);
    const opened = await resolveCheckpoint(join(dir, SESSIONS_FILE), store, { readActive: true });
    const manager = new SessionManager(dir, store, options, opened);
    try {
      await manager.connect(opened.cursor);
    } catch (error) {
      closeSessions(manager.state);
      manager.actors.stopAll();
      await store.close();
      throw error;
    }
    return manager;
  }

  /** Starts a new session for `agentName`. Throws `INVALID_INPUT` or `ALREADY_EXISTS`; nothing is written then. */
  async spawnAgentSession(agentName: string, purpose: string, context: SessionContextInput, options: SpawnOptions = {}): Promise<Session> {
    const caps = parseCaps(options.caps);
    // Chosen now, so a slot can be held for it; a bad one given (even null) is refused by the decision.
    const sessionId = options.sessionId === undefined ? uuidv4() : options.sessionId;
    const decide = (clock: DecisionClock) => decideSpawn(this.state.sessions, { agentName, purpose, context, sessionId, pipelineSteps: options.pipelineSteps, pipelineRetries: options.pipelineRetries, pipelineGovernance: options.pipelineGovernance, by: options.by }, clock);
    const lease = await this.slotFor(() => ({ holder: sessionId as string, agent: agentName, pipeline: options.pipelineSteps === undefined ? null : (sessionId as string) }), decide, options);
    const [event] = await this.executeHolding(lease, decide);
    const session = this.copyOf(event!.sessionId);
    this.supervisor?.launch(session, null, options.signal, caps, lease);
    return session;
  }

  /**
   * Ends `fromId` as HandedOff and starts `toAgent`'s session with `context` (plus the handed-over
   * result), in one atomic append. A context without `previousResults` inherits the parent's, so
   * the whole chain's results reach every later agent. Resolves with the child session.
   * Throws `NOT_FOUND`, `INVALID_TRANSITION` (the session is not Active), `INVALID_INPUT`, `CONFLICT`.
   */
  async handoff(fromId: string, toAgent: string, context: SessionContextInput, options: HandoffOptions = {}): Promise<Session> {
    const caps = parseCaps(options.caps);
    const sessionId = options.sessionId === undefined ? uuidv4() : options.sessionId;
    const decide = (clock: DecisionClock) => {
      // Only a missing result defaults to the parent's; anything else given (even null) is validated as is.
      const result = options.result === undefined ? this.state.sessions.get(fromId)?.result : options.result;
      return decideHandoff(this.state.sessions, { fromId, toAgent, context, result, sessionId, by: options.by }, clock);
    };
    const lease = await this.slotFor(() => ({ holder: sessionId as string, agent: toAgent as string, pipeline: this.pipelineOf(fromId) }), decide, options);
    const events = await this.executeHolding(lease, decide);
    const child = this.copyOf(events[1]!.sessionId);
    if (this.supervisor !== null) {
      await this.supervisor.stop(fromId, `session ${fromId} was handed off to ${child.id}`);
      const parentRan = this.state.sessions.get(fromId)?.agent !== undefined;
      const fork = (options.fork ?? this.supervisor.runner.forksOnHandoff) && parentRan;
      this.supervisor.launch(child, fork ? fromId : null, options.signal, caps, lease);
    }
    return child;
  }

  /** Ends an Active session as Completed. Throws `NOT_FOUND`, `INVALID_TRANSITION`, `INVALID_INPUT`. */
  async completeSession(id: string, result?: AgentResult, options: CompleteOptions = {}): Promise<Session> {
    await this.execute((clock) => decideComplete(this.state.sessions, { id, result, by: options.by }, clock));
    await this.supervisor?.stop(id, `session ${id} was completed`);
    return this.copyOf(id);
  }

  /** Ends an Active session as Failed with the reason. Throws `NOT_FOUND`, `INVALID_TRANSITION`, `INVALID_INPUT`, `CONFLICT` (moved on since `expectedRevision`). */
  async failSession(id: string, error: string, result?: AgentResult, options: FailOptions = {}): Promise<Session> {
    await this.execute((clock) => decideFail(this.state.sessions, { id, error, result, interrupted: options.interrupted, by: options.by, expectedRevision: options.expectedRevision }, clock));
    // An agent this manager runs is stopped with its run; otherwise any process of the session
    // left on this host (started, never recorded) is looked for: one /proc scan, not two.
    if (this.supervisor?.isRunning(id) === true) await this.supervisor.stop(id, `session ${id} was failed`);
    else await this.supervisor?.stopStrays(id);
    return this.copyOf(id);
  }

  /**
   * Runs the work of a Failed session again, as a new session: same agent, purpose and context
   * (its previous results included), the failed session as its parent and `retryOf`. A session
   * id is never given to a second agent, so the retry has its own id: {@link retryIdOf} the
   * failed one, which makes a session retried at most once, however many managers try. With a
   * runner, the retry's agent continues the conversation the failed attempt continued (a
   * handoff's parent), not the failed attempt's own. Resolves with the new session.
   * Throws `NOT_FOUND`, `INVALID_TRANSITION` (not Failed), `ALREADY_EXISTS` (retried already), `CONFLICT`.
   */
  async retrySession(id: string, options: RetryOptions = {}): Promise<Session> {
    const caps = parseCaps(options.caps);
    const decide = (clock: DecisionClock) => decideRetry(this.state.sessions, { id, by: options.by }, clock);
    const lease = await this.slotFor(() => {
      const failed = this.state.sessions.get(id)!;
      return { holder: retryIdOf(failed.id), agent: failed.agentName, pipeline: this.pipelineOf(failed.id) };
    }, decide, options);
    const [event] = await this.executeHolding(lease, decide);
    const retry = this.copyOf(event!.sessionId);
    if (this.supervisor !== null) {
      // A step approved to go on past its cap continues its own conversation; a retry runs the step again from its handoff.
      const source = options.continueAttempt === true && this.state.sessions.get(retry.retryOf!)?.agent !== undefined ? retry.retryOf! : this.conversationOf(retry);
      const fork = (options.fork ?? this.supervisor.runner.forksOnHandoff) && source !== null;
      this.supervisor.launch(retry, fork ? source : null, options.signal, caps, lease);
    }
    return retry;
  }

  /**
   * Asks the running agent of an Active session to stop, on whichever host and in whichever
   * manager process it runs: the request is appended to the log (`SessionStopRequested`, with
   * `by` and the reason), and the manager running the agent, which follows the store while its
   * agents run, stops it and fails the session with the reason, recorded as done `by` the same
   * person. Until then the request is pending (`session.agent.stopRequest`). An agent whose
   * manager died is stopped by the manager that adopts it. Resolves with the session as the
   * request left it. Throws `NOT_FOUND`, `INVALID_INPUT`, `INVALID_TRANSITION` (no running
   * agent, or a stop requested already), `CONFLICT`.
   */
  async requestStop(id: string, request: StopRequestInput): Promise<Session> {
    const reason = request.reason ?? 'stop requested';
    await this.execute((clock) => decideStopRequest(this.state.sessions, { id, by: request.by, reason }, clock));
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

  /** Where this manager's pipelines send notifications: its own `notify` option, checked, with defaults. */
  get notifications(): ReturnType<typeof resolveNotifyOptions> {
    return resolveNotifyOptions(this.options.notify);
  }

  /** True when its runner completes a session whose agent succeeded (instead of leaving it Active). */
  get completesOnSuccess(): boolean {
    return this.supervisor?.runner.completeOnSuccess ?? false;
  }

  /** The path of a session's agent output log (`<dir>/logs/<id>.log`). */
  logFileOf(id: string): string {
    return resolve(this.dir, 'logs', `${parseSessionId(id)}.log`);
  }

  /**
   * Deals with every Active session whose agent's manager process is gone: an agent of this
   * host is adopted when the runner can (see `openReport.adopted`): followed to its end if it
   * still runs, its result read from its log if it ended meanwhile. Any other is stopped if it
   * still runs, and its session failed as interrupted. `open` does this when a runner is
   * configured. Resolves with the ids of the sessions failed.
   */
  async reapOrphans(): Promise<string[]> {
    await this.refresh();
    const reaped: string[] = [];
    for (const orphan of findOrphans([...activeSessionsOf(this.state.sessions)])) {
      // Adopted already by this manager (an earlier call): it follows the agent, which is no orphan to stop.
      if (this.supervisor?.isRunning(orphan.id) === true) continue;
      // Its agent ran on here: follow it to its end, or read how it ended (it keeps its work and its deadline).
      if (this.supervisor?.adopt(orphan) === true) {
        this.openReport.adopted.push(orphan.id);
        continue;
      }
      // Only as it is seen now (the state's own object, which later events change in place): a
      // manager that adopted it may record its end while what is left of it is stopped (up to 2 s).
      const seen = orphan.revision;
      const reason = await stopOrphan(orphan, 2000);
      try {
        // Its work was cut short by its manager's death, not ended by the agent: it may run again.
        await this.failSession(orphan.id, reason, undefined, { interrupted: isInterruption('manager-gone'), expectedRevision: seen });
        reaped.push(orphan.id);
      } catch (error) {
        if (!isSessionError(error, 'INVALID_TRANSITION') && !isSessionError(error, 'CONFLICT')) throw error;
      }
    }
    return reaped;
  }

  /** The session with that id, or undefined. Throws `INVALID_INPUT` for a non-UUID. */
  async getSession(id: string): Promise<Session | undefined> {
    const sessionId = parseSessionId(id);
    await this.refresh();
    return this.answering(() => (this.state.sessions.has(sessionId) ? this.copyOf(sessionId) : undefined));
  }

  /** The sessions from the pipeline's root down to `id`, root first. Throws `NOT_FOUND`, `INVALID_INPUT`. */
  async getSessionLineage(id: string): Promise<Session[]> {
    const sessionId = parseSessionId(id);
    await this.refresh();
    return this.answering(() => clonePlain(lineageOf(this.state.sessions, sessionId)));
  }

  /** Every Active session, in spawn order. */
  async listActiveSessions(): Promise<Session[]> {
    await this.refresh();
    // Only the Active ones are read from sessions.json, not the ended ones.
    return clonePlain([...activeSessionsOf(this.state.sessions)]);
  }

  /**
   * One page of the sessions that match `query`: filters by status, agent, phase, issue,
   * pipeline, creation and end time and text; spawn order, newest first or failures first;
   * `limit` a page and the `next` cursor to pass as `after`. On a large store it reads only the
   * records it must (see {@link SessionQuery}). Throws `INVALID_INPUT`.
   */
  async querySessions(query: SessionQuery = {}): Promise<SessionPage> {
    parseSessionQuery(query);
    await this.refresh();
    return this.answering(() => {
      const page = querySessions(this.state.sessions, query);
      return { sessions: clonePlain(page.sessions), next: page.next };
    });
  }

  /** Every session (or those `filter` keeps), in spawn order: a scan that reads every session (see {@link querySessions}). */
  async listSessions(filter?: (session: Session) => boolean): Promise<Session[]> {
    await this.refresh();
    return this.answering(() => {
      const all = [...this.state.sessions.values()];
      return clonePlain(filter === undefined ? all : all.filter(filter));
    });
  }

  /** Counts by status, agent and phase, with durations, cost and turns. */
  async getStats(): Promise<SessionStats> {
    await this.refresh();
    return this.answering(() => statsOf(this.state.sessions));
  }

  /**
   * The live XState actor of an Active session (for inspection), started now if actors are
   * on-demand; undefined once the session has ended, or for an unknown id.
   */
  actorOf(id: string): SessionActor | undefined {
    if (typeof id !== 'string' || !this.state.sessions.has(id)) return undefined;
    return this.actors.get(id, this.state.sessions.get(id));
  }

  /**
   * Calls `listener` with every event from now on, whichever process appended it. Other
   * processes' events arrive when this manager next reads the store — on any call, on
   * {@link refresh}, or by itself with `{ follow: true }`, which watches the store directory
   * (PostgreSQL stores always follow, through LISTEN/NOTIFY). Returns the function that unsubscribes.
   */
  subscribe(listener: EventListener, options: { follow?: boolean } = {}): () => void {
    this.assertOpen();
    this.listeners.add(listener);
    const follower = options.follow === true ? this.store.watch(() => this.refresh()) : null;
    if (follower !== null) this.followers.add(follower);
    return () => {
      this.listeners.delete(listener);
      follower?.stop();
      if (follower !== null) this.followers.delete(follower);
    };
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
      // Events appended since the refresh are left for the next one, so both states cover the same prefix.
      for (const event of batch) {
        if (event.seq > this.state.lastSeq) break;
        evolveSessions(rebuilt, event);
        events += 1;
      }
    }
    const matchesLive = sameRenderingOf(rebuilt, this.state);
    closeSessions(this.state);
    this.state = rebuilt;
    this.actors.rebuild(rebuilt.sessions.values());
    await this.checkpointer.write(true);
    return { events, sessions: rebuilt.sessions.size, matchesLive };
  }

  /** Brings sessions.json up to date now (in place: it costs what changed since the last checkpoint). */
  async checkpoint(): Promise<void> {
    this.assertOpen();
    await this.checkpointer.write();
  }

  /** How many checkpoints this manager wrote, in place and whole, and their bytes (for benchmarks). */
  get checkpointCounters(): Readonly<CheckpointCounters> {
    return this.checkpointer.counters;
  }

  /** Waits for pending appends, writes sessions.json, stops the actors and releases the store. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing.abort(new Error('the session manager was closed'));
    try {
      await this.supervisor?.stopAll('the session manager was closed');
    } finally {
      this.closed = true;
    }
    try {
      // What this manager appended goes into the table of sessions the reads query (PostgreSQL);
      // should that fail, the next read folds it.
      await this.store.catchUpSessionsTable?.(new SessionsTableFolder()).catch(() => 0);
      await this.store.close();
      await this.checkpointer.flush();
    } finally {
      closeSessions(this.state);
      this.actors.stopAll();
      this.listeners.clear();
      for (const follower of this.followers) follower.stop();
      this.followers.clear();
    }
  }

  private async connect(cursor: Parameters<EventStore['connect']>[1]): Promise<void> {
    const report = await this.store.connect(this.sink(), cursor);
    Object.assign(this.openReport, report);
    // The table of sessions the reads query (PostgreSQL) is brought level, as a read would; should
    // that fail (a role that may not write it), the reads say how far behind it stands.
    await this.store.catchUpSessionsTable?.(new SessionsTableFolder()).catch(() => 0);
    // Read only if actors are eager: on-demand actors start from a session when asked for.
    this.actors.rebuild(activeSessionsOf(this.state.sessions));
    this.live = true;
    // A file that could not be used is rebuilt now; a usable one is brought up to date when that pays.
    if (this.openReport.checkpoint !== 'loaded') await this.checkpointer.write(true);
    if (this.supervisor !== null) this.openReport.orphaned = await this.reapOrphans();
  }

  private agentRecorder(): SupervisorRecorder {
    return agentRecorder({
      sessions: () => this.state.sessions,
      execute: (decide) => this.execute(decide),
      completeOnSuccess: () => this.options.runner?.completeOnSuccess ?? false,
    });
  }

  private sink(): EventSink {
    return {
      apply: (events) => {
        for (const event of events) {
          evolveSessions(this.state, event);
          this.pipelines.apply(event);
          if (!this.live) continue;
          if (!isPipelineEvent(event)) this.actors.apply(event, this.state.sessions.get(event.sessionId)!);
          // Whoever appended it: the agent is stopped here if it runs here.
          if (event.type === 'SessionStopRequested') void this.supervisor?.stopRequested(event.sessionId, { by: event.by, reason: event.data.reason });
          for (const listener of this.listeners) queueMicrotask(() => notify(listener, event));
        }
        // A pipeline stream's events change no session record.
        this.checkpointer.noteEvents(events.some(isPipelineEvent) ? events.filter((e) => !isPipelineEvent(e)) : events, this.live);
      },
      revisionOf: (id) => this.state.sessions.get(id)?.revision ?? this.pipelines.revisionOf(id) ?? 0,
      prepare: (events) => {
        if (this.live) this.actors.prepare(events);
      },
    };
  }

  /**
   * Runs a read of the state; if a record of sessions.json turns out damaged as it is read (each
   * is checked against its CRC-32 before use), rebuilds every projection from the log, which
   * rewrites the file, and runs the read again on the rebuilt state.
   */
  private async answering<T>(read: () => T): Promise<T> {
    try {
      return read();
    } catch (error) {
      if (!isSessionError(error, 'CORRUPT_CHECKPOINT')) throw error;
      await this.replay();
      return read();
    }
  }

  private async execute(decide: (clock: DecisionClock) => AppendRequest): Promise<SessionEvent[]> {
    this.assertOpen();
    if (this.store.refreshBeforeWrite !== false) await this.store.refresh();
    const retries = this.options.maxConflictRetries ?? 3;
    for (let attempt = 0; ; attempt += 1) {
      const now = (this.options.clock?.() ?? new Date()).toISOString();
      // A decision reads sessions (a retry its Failed attempt): one damaged in sessions.json is rebuilt from the log first.
      const request = await this.answering(() => decide({ now, newId: uuidv4 }));
      try {
        return await this.timedAppend(request);
      } catch (error) {
        // The store caught up before refusing, so the next decision sees the winner's events.
        if (!isSessionError(error, 'CONFLICT') || attempt >= retries) throw error;
      }
    }
  }

  /**
   * The own stream of the pipeline rooted at `rootId`, folded: its waits for a person, each with
   * its answer, and its revision. Throws `NOT_FOUND`, `INVALID_INPUT` (not a pipeline's root), `CORRUPT_LOG`.
   */
  async pipelineStream(rootId: string): Promise<PipelineStream> {
    this.assertOpen();
    return this.pipelines.streamOf(this.pipelineRoot(rootId));
  }

  /**
   * Appends one event to a pipeline's own stream, decided on the stream as the log holds it
   * (`decide` is pure and may run again: a decision the store refuses as stale, `CONFLICT`, is
   * made again on the caught-up stream, up to `maxConflictRetries` times). Resolves with the event.
   */
  async appendToPipeline(rootId: string, decide: (stream: PipelineStream, clock: DecisionClock) => AppendRequest): Promise<SessionEvent> {
    this.assertOpen();
    const root = this.pipelineRoot(rootId);
    const retries = this.options.maxConflictRetries ?? 3;
    for (let attempt = 0; ; attempt += 1) {
      if (this.store.refreshBeforeWrite !== false) await this.store.refresh();
      const stream = await this.pipelines.streamOf(root);
      const now = (this.options.clock?.() ?? new Date()).toISOString();
      const request = decide(stream, { now, newId: uuidv4 });
      try {
        return (await this.timedAppend(request))[0]!;
      } catch (error) {
        if (!isSessionError(error, 'CONFLICT') || attempt >= retries) throw error;
      }
    }
  }

  /** An append, its latency counted once the store acknowledged it (a refused one is not an append). */
  private async timedAppend(request: AppendRequest): Promise<SessionEvent[]> {
    const start = performance.now();
    const events = await this.store.append(request);
    this.appendMetrics.observe(performance.now() - start);
    return events;
  }

  /** The `seq` of the last event this manager has read (its own and other processes'). */
  get lastSeq(): number {
    return this.state.lastSeq;
  }

  private pipelineRoot(rootId: string): Session {
    const id = parseSessionId(rootId);
    const root = this.state.sessions.get(id);
    if (root === undefined) throw new SessionError('NOT_FOUND', `no session ${id}`, { sessionId: id });
    if (root.pipeline === undefined || root.parentSession !== null) throw new SessionError('INVALID_INPUT', `session ${id} is not the root of a pipeline`, { sessionId: id });
    return root;
  }

  /** The session whose conversation a retry continues: that of the handoff its first attempt came from, if its agent ran. */
  private conversationOf(retry: Session): string | null {
    let attempt: Session | undefined = retry;
    while (attempt?.retryOf !== undefined) attempt = this.state.sessions.get(attempt.retryOf);
    const parent = attempt?.parentSession == null ? undefined : this.state.sessions.get(attempt.parentSession);
    return parent?.agent === undefined ? null : parent.id;
  }

  /**
   * With a runner: waits in the store's queue for a concurrency slot for the coming session, once
   * `decide` has accepted the command as the state stands (bad input is refused before anyone
   * waits, and nothing is written while it waits). Null without a runner, or when `signal`
   * aborted the wait (the agent then starts aborted, and ends at once).
   */
  private async slotFor(ask: () => { holder: string; agent: string; pipeline: string | null }, decide: (clock: DecisionClock) => AppendRequest, options: { signal?: AbortSignal; onQueued?: SpawnOptions['onQueued'] }): Promise<SlotLease | null> {
    if (this.slots === null) return null;
    this.assertOpen();
    // Decided on what the log holds now, as `execute` decides: a stale view must not refuse a command the log allows.
    if (this.store.refreshBeforeWrite !== false) await this.store.refresh();
    const now = (this.options.clock?.() ?? new Date()).toISOString();
    // Read as a decision reads: a record damaged in sessions.json is rebuilt from the log first.
    const request = await this.answering(() => {
      decide({ now, newId: uuidv4 });
      return ask();
    });
    const signal = options.signal === undefined ? this.closing.signal : AbortSignal.any([options.signal, this.closing.signal]);
    const lease = await this.slots.take(request, signal, options.onQueued);
    // Closed while it waited: nothing is written, and no agent starts behind the close.
    if (this.closing.signal.aborted) {
      await lease?.release();
      throw new SessionError('CLOSED', `the session manager for ${this.dir} was closed while a spawn waited for a concurrency slot`);
    }
    return lease;
  }

  /**
   * {@link execute} for a command that holds a slot: the slot is handed back if nothing was
   * written, unless the session it was for exists now (another manager made the same retry
   * first, under the same id and so the same slot: that one's agent keeps it).
   */
  private async executeHolding(lease: SlotLease | null, decide: (clock: DecisionClock) => AppendRequest): Promise<SessionEvent[]> {
    try {
      return await this.execute(decide);
    } catch (error) {
      if (lease !== null && !this.state.sessions.has(lease.holder)) await lease.release();
      throw error;
    }
  }

  /** The root of the pipeline a session is a step of, or null when it is not a pipeline's. */
  private pipelineOf(id: unknown): string | null {
    let session = typeof id === 'string' ? this.state.sessions.get(id) : undefined;
    while (session?.parentSession != null) session = this.state.sessions.get(session.parentSession);
    return session?.pipeline === undefined ? null : session.id;
  }

  /**
   * Sets the store's concurrency limit, shared by every manager process and host on the store:
   * at most `limit` agents run at once (and at most `perAgent[name]` of one name), the rest wait
   * in one queue, first come first served. Null removes it. Agents already running are counted
   * only if they started under a limit. Throws `INVALID_INPUT` (nothing is changed then), `STORAGE`.
   */
  async setConcurrencyLimit(limit: ConcurrencyLimit | null): Promise<void> {
    this.assertOpen();
    await this.slotTable.setLimit(limit === null ? null : parseConcurrencyLimit(limit));
  }

  /** The store's concurrency limit, the agents holding a slot and the queue, oldest first. */
  async concurrency(): Promise<SlotView> {
    this.assertOpen();
    return this.slotTable.view();
  }

  private copyOf(id: string): Session {
    return clonePlain(this.state.sessions.get(id)!);
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

/** Whether two states render the same sessions.json; false when the live one cannot be read whole (a damaged record). */
function sameRenderingOf(rebuilt: SessionsState, live: SessionsState): boolean {
  try {
    return sameRendering(rebuilt, live);
  } catch (error) {
    if (isSessionError(error, 'CORRUPT_CHECKPOINT')) return false;
    throw error;
  }
}
