import { z } from 'zod';
import { AgentResultSchema } from './agent-result.js';
import { LIMITS, boundedText } from './limits.js';
import { PhaseSchema } from './phase.js';

/**
 * Zod schema of a {@link SessionContext}; `previousResults` defaults to `[]`, `issueNumber` and
 * `worktreePath` to null (not known).
 */
export const SessionContextSchema = z.strictObject({
  // Both may be unknown, as in the original (`Option<u64>`, `Option<PathBuf>`): absent means null.
  issueNumber: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).nullable().default(null),
  currentPhase: PhaseSchema,
  worktreePath: boundedText(LIMITS.path, 'worktreePath')
    .min(1, 'worktreePath must not be empty')
    .refine((p) => !p.split(/[\\/]/).includes('..'), { message: 'worktreePath must not climb out with ".." segments' })
    .nullable()
    .default(null),
  previousResults: z.array(AgentResultSchema).max(LIMITS.previousResults).default([]),
});

/**
 * What a session works on and what it inherits: the GitHub issue (null when none), the pipeline
 * phase, the git worktree it runs in (null when none: an agent then runs in its manager's working
 * directory), and the results of the agents before it.
 */
export type SessionContext = z.infer<typeof SessionContextSchema>;

/** A {@link SessionContext} as a caller may pass it: `previousResults` may be left out. */
export type SessionContextInput = z.input<typeof SessionContextSchema>;
