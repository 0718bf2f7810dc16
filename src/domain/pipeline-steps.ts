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
