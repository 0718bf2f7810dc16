import { z } from 'zod';
import { ActorNameSchema, UuidSchema } from '../domain/limits.js';

/**
 * The schema version new events are written with. Older versions are upcast on read.
 * - 1: the first.
 * - 2: an event may be marked `imported`; an imported `SessionSpawned` carries the original's
 *   `createdAt`; a context's `issueNumber` and `worktreePath` may be null. Every version-1 event
 *   is a valid version-2 event.
 * - 3: an event a person's action appended (from the dashboard, or a caller that names one) says
 *   who in `by`; a session's running agent may be asked to stop (`SessionStopRequested`). Every
 *   version-2 event is a valid version-3 event.
 * - 4: governed pipelines: a pipeline's own stream (`PipelineWaiting`, `PipelineApproved`,
 *   `PipelineRejected`, keyed by the pipeline's id), budgets and gates in a pipeline's spec, and
 *   `capped` on a failure stopped at a cap. Every version-3 event is a valid version-4 event.
 */
export const EVENT_SCHEMA_VERSION = 4;

/**
 * Fields every stored event carries besides `type` and `data`:
 * a global gap-free `seq`, a unique event `id`, the stream it belongs to (`sessionId`: a session's
 * id, or a pipeline's for a `Pipeline…` event),
 * an ISO `timestamp`, the `schemaVersion`, and on the first event of a multi-event
 * append its `txSize`, so a reader can tell a transaction cut short by a crash, on an event
 * that `importOriginalStore` wrote (from another tool's records, not observed here) `imported`,
 * and on an event a person's action appended (a retry, a stop, a resume) `by`: who.
 */
export const envelopeShape = {
  seq: z.number().int().positive(),
  id: UuidSchema,
  sessionId: UuidSchema,
  timestamp: z.iso.datetime({ offset: false }),
  schemaVersion: z.literal(EVENT_SCHEMA_VERSION),
  txSize: z.number().int().min(2).optional(),
  imported: z.literal(true).optional(),
  by: ActorNameSchema.optional(),
};
