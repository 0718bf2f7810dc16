import { z } from 'zod';
import { AgentResultSchema } from '../domain/agent-result.js';
import { TranscriptRefSchema } from '../domain/transcript-ref.js';
import { envelopeShape } from './event-envelope.js';

/** Zod schema of {@link SessionCompleted}. */
export const SessionCompletedSchema = z.strictObject({
  ...envelopeShape,
  type: z.literal('SessionCompleted'),
  data: z.strictObject({
    result: AgentResultSchema.optional(),
    /** Set when a runner's agent ended: what became of its conversation. */
    transcript: TranscriptRefSchema.optional(),
  }),
});

/** A session ended successfully, with the agent's result when known. */
export type SessionCompleted = z.infer<typeof SessionCompletedSchema>;
