import { z } from 'zod';
import { UuidSchema } from '../domain/limits.js';

/** The schema version new events are written with. Older versions are upcast on read. */
export const EVENT_SCHEMA_VERSION = 1;

/**
 * Fields every stored event carries besides `type` and `data`:
 * a global gap-free `seq`, a unique event `id`, the `sessionId` it belongs to,
 * an ISO `timestamp`, the `schemaVersion`, and on the first event of a multi-event
 * append its `txSize`, so a reader can tell a transaction cut short by a crash.
 */
export const envelopeShape = {
  seq: z.number().int().positive(),
  id: UuidSchema,
  sessionId: UuidSchema,
  timestamp: z.iso.datetime({ offset: false }),
  schemaVersion: z.literal(EVENT_SCHEMA_VERSION),
  txSize: z.number().int().min(2).optional(),
};
