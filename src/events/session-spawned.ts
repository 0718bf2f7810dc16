import { z } from 'zod';
import { AgentNameSchema, LIMITS, UuidSchema, boundedText } from '../domain/limits.js';
import { SessionContextSchema } from '../domain/session-context.js';
import { envelopeShape } from './event-envelope.js';
import { PipelineSpecSchema } from '../domain/pipeline-steps.js';

/** Zod schema of {@link SessionSpawned}: a session started for an agent, maybe as a handoff child. */
export const SessionSpawnedSchema = z.strictObject({
  ...envelopeShape,
  type: z.literal('SessionSpawned'),
  data: z.strictObject({
    agentName: AgentNameSchema,
    purpose: boundedText(LIMITS.purpose, 'purpose').min(1, 'purpose must not be empty'),
    context: SessionContextSchema,
    parentSession: UuidSchema.nullable(),
    /** On the root session of a pipeline: its steps (and retry budget), so the pipeline can be resumed from the log. */
    pipeline: PipelineSpecSchema.optional(),
    /**
     * On a retry: the Failed session whose work this one runs again. It is also `parentSession`,
     * so the lineage reads in the order things happened: the failed attempt, then its retry.
     */
    retryOf: UuidSchema.optional(),
    /**
     * On an imported spawn: when the original says the session was created (the event's own
     * `timestamp` says when it was imported). RFC 3339 in UTC, up to nine fractional digits.
     */
    createdAt: z.iso.datetime({ offset: false }).optional(),
  }),
});

/**
 * A session was spawned. When `parentSession` is set it is the child half of a handoff, or,
 * with `retryOf`, the retry of a Failed session.
 */
export type SessionSpawned = z.infer<typeof SessionSpawnedSchema>;
