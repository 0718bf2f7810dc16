/**
 * miyabi-session-manager: event-sourced sessions for AI coding agents.
 * The public API; everything else is internal.
 * @packageDocumentation
 */
export { SessionManager } from './manager/session-manager.js';
export type {
  CompleteOptions,
  EventListener,
  FailOptions,
  HandoffOptions,
  OpenReport,
  ReplayReport,
  RetryOptions,
  SessionManagerOptions,
  SpawnOptions,
  StopRequestInput,
} from './manager/session-manager.js';
export type { ActorActivation, SessionActor, SessionInspector } from './manager/session-actors.js';

export { ClaudeRunner, type ClaudeRunnerOptions } from './runner/claude-runner.js';
export type { AgentRunner, AgentRunSpec, AgentOutcome, StartedProcess } from './runner/agent-runner.js';
export type { ClaudeArgOptions } from './runner/claude-args.js';
export { buildPrompt } from './runner/build-prompt.js';
export { runPipeline, resumePipeline, DEFAULT_PIPELINE, type PipelineInput, type PipelineResult, type PipelineStepInput, type ResumeOptions } from './pipeline/run-pipeline.js';
export { approvePipeline, rejectPipeline, type ApproveOptions, type RejectOptions } from './pipeline/approve-pipeline.js';
export { prometheusMetrics, prometheusText, type MetricsInput } from './report/prometheus.js';
export type { AppendMetricsSnapshot } from './manager/append-metrics.js';
export type { AgentSpend } from './projections/stats.js';
export type { PipelineStream, RecordedQueue, RecordedWait } from './projections/pipeline-stream.js';
export { pipelineIdOf } from './domain/pipeline-id.js';
export type { AgentCaps, CapKind } from './domain/agent-caps.js';
export type { PipelineGovernanceInput } from './domain/pipeline-steps.js';
export type { PipelineWaiting, PipelineApproved, PipelineRejected, PipelineQueued, WaitReason } from './events/pipeline-events.js';
export { parseConcurrencyLimit, type ConcurrencyLimit } from './domain/concurrency-limit.js';
export type { SlotEntry } from './domain/slot-table.js';
export type { SlotView } from './store/slot-store.js';
export type { QueuedSlot } from './manager/agent-slots.js';
export { pipelineMachine } from '../machines/pipeline.machine.js';
export { DEFAULT_PIPELINE_RETRIES, type PipelineSpec } from './domain/pipeline-steps.js';
export { retryIdOf } from './domain/retry-id.js';
export { ENV_ALLOWLIST, ENV_PREFIXES, childEnv } from './runner/child-env.js';

export { PHASES, PhaseSchema, type Phase } from './domain/phase.js';
export { SESSION_STATUSES, SessionStatusSchema, type SessionStatus } from './domain/session-status.js';
export { AgentResultSchema, type AgentResult } from './domain/agent-result.js';
export { SessionContextSchema, type SessionContext, type SessionContextInput } from './domain/session-context.js';
export { LIMITS } from './domain/limits.js';
export type { Session, AgentProcess, ProcessRef, StopRequest } from './domain/session.js';

export { SessionError, isSessionError, type SessionErrorCode, type LogPosition } from './errors.js';

export { EVENT_SCHEMA_VERSION } from './events/event-envelope.js';
export { SessionSpawnedSchema, type SessionSpawned } from './events/session-spawned.js';
export { SessionHandedOffSchema, type SessionHandedOff } from './events/session-handed-off.js';
export { SessionCompletedSchema, type SessionCompleted } from './events/session-completed.js';
export { SessionFailedSchema, type SessionFailed } from './events/session-failed.js';
export { SessionAgentStartedSchema, type SessionAgentStarted } from './events/session-agent-started.js';
export { SessionAgentFinishedSchema, type SessionAgentFinished } from './events/session-agent-finished.js';
export { SessionStopRequestedSchema, type SessionStopRequested } from './events/session-stop-requested.js';
export { SessionEventSchema, type SessionEvent, type SessionEventType, type PendingEvent } from './events/session-event.js';

export { START } from './store/event-store.js';
export type { EventStore, EventSink, AppendRequest, StoreCursor, StorePosition, ConnectReport, TornTail, StoredRecord, ReadOptions, ReadFinding, ReadEnd, StoreRead } from './store/event-store.js';
export { FileEventStore, LOG_FILE, type FileEventStoreOptions, type Durability } from './store/file/file-event-store.js';
export { PostgresEventStore, type PostgresStoreCounters, type PostgresStoreOptions } from './store/postgres/postgres-event-store.js';
export { migrationSql } from './store/postgres/schema.js';

export { lineageOf, lineageTree, type LineageNode } from './projections/lineage.js';
export { computeStats, type SessionStats, type StatusCounts } from './projections/stats.js';
export { MAX_PAGE, SESSION_ORDERS, SessionQuerySchema, querySessions, streamSessions, type SessionOrder, type SessionPage, type SessionQuery } from './projections/session-query.js';
export { readFileSessions, readPostgresSessions, type SessionReads } from './query/session-reads.js';
export { exportTraces, exportTracesTo, otlpSink, type OtlpTarget, type SpanSink, type TraceExportOptions, type TraceExportReport } from './report/otlp-export.js';
export { followTraces, type TraceFollowOptions, type TraceFollower } from './report/trace-follower.js';
export { pipelineSpan, sessionSpans, spanIdOf, toolSpans, traceIdOf, type TraceSpan } from './report/trace-spans.js';
export { searchConversations, searchStore, type SearchHit, type SearchPage } from './query/conversation-search.js';
export { ConversationSearchSchema, MAX_SEARCH_PAGE, type ConversationSearch, type Excerpt } from './domain/conversation-search.js';
export { emptySessionsState, evolveSessions, type SessionsState } from './projections/sessions-projection.js';
export { renderSessionsFile, parseSessionsFile, type Checkpoint } from './checkpoint/sessions-file.js';
export { importOriginalStore, type ImportOptions, type ImportReport } from './import/import-original-store.js';
export { parseOriginalStore, type OriginalSession, type OriginalStore } from './import/original-store.js';

export { sessionMachine } from '../machines/session.machine.js';
export type { SessionMachineContext, SessionMachineEvent } from '../machines/session.machine.js';
