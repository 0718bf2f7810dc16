import { z } from 'zod';
import { AgentResultSchema } from '../domain/agent-result.js';
import { AgentNameSchema, UuidSchema } from '../domain/limits.js';
import { envelopeShape } from './event-envelope.js';

/** Zod schema of {@link SessionHandedOff}. */
export const SessionHandedOffSchema = z.strictObject({
  ...envelopeShape,
  type: z.literal('SessionHandedOff'),
  data: z.strictObject({
    toAgent: AgentNameSchema,
    childSession: UuidSchema,
    result: AgentResultSchema.optional(),
  }),
});

/** A session ended by handing its work to `toAgent`, whose session is `childSession`; `result` is what it handed over. */
export type SessionHandedOff = z.infer<typeof SessionHandedOffSchema>;
