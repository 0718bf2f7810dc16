import { z } from 'zod';

/** The four states a session can be in; the last three are final. */
export const SESSION_STATUSES = ['Active', 'HandedOff', 'Completed', 'Failed'] as const;

/** Zod schema of a {@link SessionStatus}. */
export const SessionStatusSchema = z.enum(SESSION_STATUSES);

/** Where a session stands: `Active`, or ended as `HandedOff`, `Completed` or `Failed`. */
export type SessionStatus = z.infer<typeof SessionStatusSchema>;
