import { z } from 'zod';
import { AgentResultSchema } from '../domain/agent-result.js';
import { TranscriptRefSchema } from '../domain/transcript-ref.js';
import { envelopeShape } from './event-envelope.js';

/** Zod schema of {@link SessionAgentFinished}. */
export const SessionAgentFinishedSchema = z.strictObject({
  ...envelopeShape,
  type: z.literal('SessionAgentFinished'),
  data: z.strictObject({
    result: AgentResultSchema,
    /** Set when a runner's agent ended: what became of its conversation. */
    transcript: TranscriptRefSchema.optional(),
  }),
});

/**
 * An agent exited cleanly with a result and its session stays Active, for the caller (or a
 * pipeline) to hand it off or complete it. A failing agent ends its session with `SessionFailed`.
 */
export type SessionAgentFinished = z.infer<typeof SessionAgentFinishedSchema>;
