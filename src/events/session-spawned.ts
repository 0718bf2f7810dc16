import { z } from 'zod';
import { AgentNameSchema, LIMITS, UuidSchema, boundedText } from '../domain/limits.js';
import { SessionContextSchema } from '../domain/session-context.js';
import { envelopeShape } from './event-envelope.js';
import { PipelineStepsSchema } from '../domain/pipeline-steps.js';

/** Zod schema of {@link SessionSpawned}: a session started for an agent, maybe as a handoff child. */
export const SessionSpawnedSchema = z.strictObject({
  ...envelopeShape,
  type: z.literal('SessionSpawned'),
  data: z.strictObject({
    agentName: AgentNameSchema,
    purpose: boundedText(LIMITS.purpose, 'purpose').min(1, 'purpose must not be empty'),
    context: SessionContextSchema,
    parentSession: UuidSchema.nullable(),
    /** On the root session of a pipeline: its steps, so the pipeline can be resumed from the log. */
    pipeline: z.strictObject({ steps: PipelineStepsSchema }).optional(),
  }),
});

/** A session was spawned. When `parentSession` is set it is the child half of a handoff. */
export type SessionSpawned = z.infer<typeof SessionSpawnedSchema>;
