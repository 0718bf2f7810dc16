import { z } from 'zod';
import { SessionAgentFinishedSchema } from './session-agent-finished.js';
import { SessionAgentStartedSchema } from './session-agent-started.js';
import { SessionCompletedSchema } from './session-completed.js';
import { SessionFailedSchema } from './session-failed.js';
import { SessionHandedOffSchema } from './session-handed-off.js';
import { SessionSpawnedSchema } from './session-spawned.js';
import { SessionStopRequestedSchema } from './session-stop-requested.js';
import { PipelineApprovedSchema, PipelineNotifiedSchema, PipelineQueuedSchema, PipelineRejectedSchema, PipelineWaitingSchema } from './pipeline-events.js';

/** Zod schema of any stored {@link SessionEvent}, discriminated by `type`: a session's, or a pipeline stream's (`Pipeline…`). */
export const SessionEventSchema = z.discriminatedUnion('type', [
  SessionSpawnedSchema,
  SessionHandedOffSchema,
  SessionCompletedSchema,
  SessionFailedSchema,
  SessionAgentStartedSchema,
  SessionAgentFinishedSchema,
  SessionStopRequestedSchema,
  PipelineWaitingSchema,
  PipelineApprovedSchema,
  PipelineRejectedSchema,
  PipelineNotifiedSchema,
  PipelineQueuedSchema,
]);

/** Any event of the log, as stored: envelope plus `type` and `data`. */
export type SessionEvent = z.infer<typeof SessionEventSchema>;

/** The name of an event type, e.g. `'SessionHandedOff'`. */
export type SessionEventType = SessionEvent['type'];

/** Every event type, in the schema's order. */
export const EVENT_TYPES: readonly SessionEventType[] = SessionEventSchema.options.map((o) => o.shape.type.value);

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event not yet appended: the store assigns `seq` (and `txSize`) when it writes it. */
export type PendingEvent = DistributiveOmit<SessionEvent, 'seq' | 'txSize'>;

/** An event of a pipeline's own stream (its `sessionId` is the pipeline's id). */
export type PipelineEvent = Extract<SessionEvent, { type: 'PipelineWaiting' | 'PipelineApproved' | 'PipelineRejected' | 'PipelineNotified' | 'PipelineQueued' }>;

/** An event of a session's stream. */
export type SessionStreamEvent = Exclude<SessionEvent, PipelineEvent>;

/** Whether an event belongs to a pipeline's stream rather than a session's. */
export function isPipelineEvent(event: SessionEvent): event is PipelineEvent {
  return event.type === 'PipelineWaiting' || event.type === 'PipelineApproved' || event.type === 'PipelineRejected' || event.type === 'PipelineNotified' || event.type === 'PipelineQueued';
}
