import { z } from 'zod';

/**
 * The pipeline phases an agent session can be working in, in pipeline order
 * (the original design's `Phase` enum).
 */
export const PHASES = [
  'IssueAnalysis',
  'TaskDecomposition',
  'WorktreeCreation',
  'CodeGeneration',
  'Review',
  'Test',
  'PullRequest',
  'CICD',
  'Merge',
] as const;

/** Zod schema of a {@link Phase}; rejects any name not in {@link PHASES}. */
export const PhaseSchema = z.enum(PHASES);

/** A pipeline phase, e.g. `'CodeGeneration'`. */
export type Phase = z.infer<typeof PhaseSchema>;
