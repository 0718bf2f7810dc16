import { z } from 'zod';
import { AgentNameSchema } from './limits.js';
import { PhaseSchema, type Phase } from './phase.js';

/** One step of a pipeline: the agent and the phase it works in. */
export interface PipelineStepInput {
  agentName: string;
  phase: Phase;
}

/** A pipeline's steps: 1 to 64 of them. */
export const PipelineStepsSchema = z.array(z.strictObject({ agentName: AgentNameSchema, phase: PhaseSchema })).min(1).max(64);

/** The default retry budget of a pipeline step whose work was interrupted (see {@link PipelineSpec}). */
export const DEFAULT_PIPELINE_RETRIES = 2;

/** Zod schema of a {@link PipelineSpec}. */
export const PipelineSpecSchema = z.strictObject({
  steps: PipelineStepsSchema,
  maxRetries: z.number().int().min(0).max(10).optional(),
});

/**
 * What a pipeline's root session records of it: its steps and, per step, how many times a step
 * whose work was interrupted runs again as a new session (absent: {@link DEFAULT_PIPELINE_RETRIES}).
 */
export interface PipelineSpec {
  steps: PipelineStepInput[];
  maxRetries?: number;
}
