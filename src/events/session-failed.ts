import { z } from 'zod';
import { CapKindSchema } from '../domain/agent-caps.js';
import { AgentResultSchema } from '../domain/agent-result.js';
import { LIMITS, boundedText } from '../domain/limits.js';
import { TranscriptRefSchema } from '../domain/transcript-ref.js';
import { envelopeShape } from './event-envelope.js';

/** Zod schema of {@link SessionFailed}. */
export const SessionFailedSchema = z.strictObject({
  ...envelopeShape,
  type: z.literal('SessionFailed'),
  data: z.strictObject({
    error: boundedText(LIMITS.errorText, 'error').min(1, 'error must not be empty'),
    result: AgentResultSchema.optional(),
    /** Set when a runner's agent ended: what became of its conversation. */
    transcript: TranscriptRefSchema.optional(),
    /**
     * Set when the work was cut short from outside the agent (its manager or machine died, it
     * was killed, it never started), not ended by the agent's own verdict or a deadline: running
     * it again as a new session may well succeed, so a pipeline does (see `maxRetries`).
     */
    interrupted: z.literal(true).optional(),
    /**
     * Set when the agent's CLI stopped the run at a cap it was started with (`--max-budget-usd`:
     * `budget`, `--max-turns`: `turns`): a governed pipeline waits for a person then, not fails.
     */
    capped: CapKindSchema.optional(),
    /** With `interrupted`: the agent was stopped by a rate or usage limit, which resets then; it runs again no earlier. */
    retryAfter: z.iso.datetime({ offset: false }).optional(),
  }),
});

/** A session ended in failure; `error` says why in words a person can act on. */
export type SessionFailed = z.infer<typeof SessionFailedSchema>;
