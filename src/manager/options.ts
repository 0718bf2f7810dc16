import type { NotifyOptions } from '../domain/notify-options.js';
import type { AgentCaps } from '../domain/agent-caps.js';
import type { PipelineGovernanceInput } from '../domain/pipeline-steps.js';
import type { PipelineStepInput } from '../domain/pipeline-steps.js';
import type { AgentResult } from '../domain/agent-result.js';
import type { SessionEvent } from '../events/session-event.js';
import type { AgentRunner } from '../runner/agent-runner.js';
import type { EventStore, TornTail } from '../store/event-store.js';
import type { FileEventStoreOptions } from '../store/file/file-event-store.js';
import type { CheckpointVerdict } from '../checkpoint/checkpointer.js';
import type { ActorActivation, SessionInspector } from './session-actors.js';
import type { QueuedSlot } from './agent-slots.js';

/** Options of {@link SessionManager.open}. */
export interface SessionManagerOptions extends FileEventStoreOptions {
  /** Where the pipelines this manager runs send their notifications (webhooks, a command hook): see {@link NotifyOptions}. */
  notify?: NotifyOptions;
  /**
   * sessions.json is kept up to date in place, at a cost bounded by what changed. It is written
   * at the latest once the log holds this many events past it, whatever that costs (default
   * 10 000): the most an open replays on top of it.
   */
  checkpointEvery?: number;
  /**
   * How long appends must pause before a checkpoint is considered, in ms (default 250; at the
   * latest 8 × this after new events; -1 = only by count and on close). It is written then if
   * it costs at most `checkpointCostRatio`.
   */
  checkpointIdleMs?: number;
  /**
   * The most bytes a considered checkpoint may write per byte of events appended since the last
   * one (default 1): a trickle of events on a large store waits until the checkpoint is worth it.
   */
  checkpointCostRatio?: number;
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
   * When a session's XState actor is started: `'on-demand'` (the default) the first time
   * `actorOf` asks for it, `'eager'` at spawn and at open for every Active session (the default
   * when `inspect` is given, so the inspector sees every session). Either way every transition is
   * decided by the session machine before it is written; eager actors cost ~10 µs and ~4 KB per
   * Active session, which on a busy store is about 40% of an append's CPU.
   */
  actors?: ActorActivation;
  /**
   * Where the events live (default: the file store in `dir`). Pass a `PostgresEventStore` to share
   * one record across hosts; `dir` then holds only this host's sessions.json cache and agent logs.
   */
  store?: EventStore;
  /**
   * Whether an agent's conversation (its Claude Code transcript, which can hold secrets) is
   * stored with its session when the agent ends (default true): in `<dir>/transcripts` (0600
   * files in a 0700 folder) with the file store, in the `transcripts` table with PostgreSQL.
   * A handoff on another host forks it from there. With false, nothing is stored and each
   * session records that it was not.
   */
  storeTranscripts?: boolean;
  /** Transcripts larger than this many bytes are not stored; the session records why (default 50 MiB). */
  maxTranscriptBytes?: number;
  /**
   * With a runner, under a store concurrency limit ({@link SessionManager.setConcurrencyLimit}):
   * how long an agent's slot lasts unless renewed, in ms (default 30 000; 200–3 600 000). The
   * manager following the agent renews it every third of that; a slot nobody renews (its
   * manager died, on any host) is free again once it runs out. Keep it above the time a
   * restarted or surviving manager takes to adopt an orphaned agent.
   */
  slotLeaseMs?: number;
  /** How often a spawn waiting in the store's queue for a slot looks again, in ms (default 250). */
  slotPollMs?: number;
}

/** Told once when a spawn has to wait in the store's queue for a concurrency slot. */
export type QueuedListener = (queued: QueuedSlot) => Promise<void> | void;

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
  /**
   * Sessions whose manager had died while their agent ran on (same host, same pid and start
   * time): this manager adopted those agents and records their ends (only with a runner).
   */
  adopted: string[];
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
  /** Makes it the root of a pipeline of these steps, recorded in its spawn event (`runPipeline` sets it). */
  pipelineSteps?: readonly PipelineStepInput[];
  /** With `pipelineSteps`: how many times each step whose work was interrupted runs again (0–10; default 2). */
  pipelineRetries?: number;
  /** With `pipelineSteps`: the pipeline's governance (budgets, gates), recorded with its steps. */
  pipelineGovernance?: PipelineGovernanceInput;
  /**
   * With a runner: what the agent may spend, enforced by its CLI (`--max-budget-usd`,
   * `--max-turns`). At a cap the session fails `capped` (see `Session.capped`). Checked before
   * anything is written: a bad cap is `INVALID_INPUT`.
   */
  caps?: AgentCaps;
  /**
   * With a runner, under a store concurrency limit: called once if the agent has to wait in the
   * store's queue for a slot (nothing is written until it has one), with its place.
   */
  onQueued?: QueuedListener;

  /** Who does this, when a person does (recorded on the event as `by`: a name, up to 200 characters). */
  by?: string;
}

/** Options of {@link SessionManager.retrySession}. */
export interface RetryOptions {
  /** With a runner: continue the conversation the failed attempt continued (`--resume --fork-session`); default: the runner's setting. */
  fork?: boolean;
  /** Aborts the retry's agent. */
  signal?: AbortSignal;
  /**
   * With a runner: continue the failed attempt's own conversation (forked) instead of running
   * the step again from its handoff: a step stopped at its cap that a person let go on.
   */
  continueAttempt?: boolean;
  /**
   * With a runner: what the agent may spend, enforced by its CLI (`--max-budget-usd`,
   * `--max-turns`). At a cap the session fails `capped` (see `Session.capped`). Checked before
   * anything is written: a bad cap is `INVALID_INPUT`.
   */
  caps?: AgentCaps;
  /**
   * With a runner, under a store concurrency limit: called once if the agent has to wait in the
   * store's queue for a slot (nothing is written until it has one), with its place.
   */
  onQueued?: QueuedListener;
  /** Who does this, when a person does (recorded on the event as `by`: a name, up to 200 characters). */
  by?: string;
}

/** Options of {@link SessionManager.failSession}. */
export interface FailOptions {
  /**
   * The work was cut short from outside the agent (its manager or machine died, it was killed,
   * it never started) rather than ended by the agent's own verdict: a pipeline runs such a
   * step again as a new session. Recorded as `interrupted` on the failure.
   */
  interrupted?: boolean;
  /** Who does this, when a person does (recorded on the event as `by`: a name, up to 200 characters). */
  by?: string;
  /**
   * Fail it only if it is still at this revision (`Session.revision`, as the caller read it):
   * for a failure decided on what the caller saw (an agent that never started, an orphan), which
   * must not land once the session has moved on (its agent's start or end recorded meanwhile).
   * Else `CONFLICT`, and nothing is written.
   */
  expectedRevision?: number;
}

/** Options of {@link SessionManager.completeSession}. */
export interface CompleteOptions {
  /** Who does this, when a person does (recorded on the event as `by`: a name, up to 200 characters). */
  by?: string;
}

/** What {@link SessionManager.requestStop} records: who asks, and why. */
export interface StopRequestInput {
  /** Who asks (required: a stop request always says who). */
  by: string;
  /** Why (default "stop requested"); the session fails with it. */
  reason?: string;
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
  /**
   * With a runner: what the agent may spend, enforced by its CLI (`--max-budget-usd`,
   * `--max-turns`). At a cap the session fails `capped` (see `Session.capped`). Checked before
   * anything is written: a bad cap is `INVALID_INPUT`.
   */
  caps?: AgentCaps;
  /**
   * With a runner, under a store concurrency limit: called once if the agent has to wait in the
   * store's queue for a slot (nothing is written until it has one), with its place.
   */
  onQueued?: QueuedListener;

  /** Who does this, when a person does (recorded on the event as `by`: a name, up to 200 characters). */
  by?: string;
}

/** Receives every event the manager learns of, its own and other processes', in `seq` order. */
export type EventListener = (event: SessionEvent) => void;

