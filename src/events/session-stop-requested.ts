import { z } from 'zod';
import { ActorNameSchema, LIMITS, boundedText } from '../domain/limits.js';
import { envelopeShape } from './event-envelope.js';

/** Zod schema of {@link SessionStopRequested}. */
export const SessionStopRequestedSchema = z.strictObject({
  ...envelopeShape,
  /** Who asked: always said on a stop request. */
  by: ActorNameSchema,
  type: z.literal('SessionStopRequested'),
  data: z.strictObject({
    /** Why, in the words of whoever asked (`by` says who). */
    reason: boundedText(LIMITS.errorText, 'reason').min(1, 'reason must not be empty'),
  }),
});

/**
 * Someone asked for the running agent of an Active session to stop. The manager that runs the
 * agent, on whichever host, follows the log, stops it and fails the session with the reason;
 * until then the request is pending. The session stays Active: only its agent's end ends it.
 */
export type SessionStopRequested = z.infer<typeof SessionStopRequestedSchema>;
