import { z } from 'zod';
import { SessionAgentFinishedSchema } from './session-agent-finished.js';
import { SessionAgentStartedSchema } from './session-agent-started.js';
import { SessionCompletedSchema } from './session-completed.js';
import { SessionFailedSchema } from './session-failed.js';
import { SessionHandedOffSchema } from './session-handed-off.js';
import { SessionSpawnedSchema } from './session-spawned.js';
import { SessionStopRequestedSchema } from './session-stop-requested.js';

/** Zod schema of any stored {@link SessionEvent}, discriminated by `type`. */
export const SessionEventSchema = z.discriminatedUnion('type', [
  SessionSpawnedSchema,
  SessionHandedOffSchema,
  SessionCompletedSchema,
  SessionFailedSchema,
  SessionAgentStartedSchema,
  SessionAgentFinishedSchema,
  SessionStopRequestedSchema,
]);

/** Any event of the log, as stored: envelope plus `type` and `data`. */
export type SessionEvent = z.infer<typeof SessionEventSchema>;

/** The name of an event type, e.g. `'SessionHandedOff'`. */
export type SessionEventType = SessionEvent['type'];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event not yet appended: the store assigns `seq` (and `txSize`) when it writes it. */
export type PendingEvent = DistributiveOmit<SessionEvent, 'seq' | 'txSize'>;
