import { z } from 'zod';
import { LIMITS, UuidSchema, boundedText } from '../domain/limits.js';
import { envelopeShape } from './event-envelope.js';

/** The process that runs an agent, or supervises one: enough to tell later whether it still lives. */
export const ProcessRefSchema = z.strictObject({
  host: z.string().max(255),
  pid: z.number().int().positive(),
  /** The kernel's start time of the process (Linux); null where unknown. */
  startTime: z.string().max(32).nullable(),
});

/** Zod schema of {@link SessionAgentStarted}. */
export const SessionAgentStartedSchema = z.strictObject({
  ...envelopeShape,
  type: z.literal('SessionAgentStarted'),
  data: z.strictObject({
    /** The agent's process. */
    process: ProcessRefSchema,
    /** The manager process that started and supervises it. */
    supervisor: ProcessRefSchema,
    /** The program and its arguments, with the prompt left out (it may be long or private). */
    command: z.array(boundedText(LIMITS.path, 'command argument')).min(1).max(256),
    cwd: boundedText(LIMITS.path, 'cwd'),
    /** The file the agent's output goes to. */
    logFile: boundedText(LIMITS.path, 'logFile'),
    /** The session whose conversation this agent continues (a forked transcript), if any. */
    resumedFrom: UuidSchema.nullable(),
  }),
});

/** An agent process was started for an Active session. */
export type SessionAgentStarted = z.infer<typeof SessionAgentStartedSchema>;
