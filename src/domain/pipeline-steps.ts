import { z } from 'zod';
import { BudgetUsdSchema, MaxTurnsSchema } from './agent-caps.js';
import { AgentNameSchema } from './limits.js';
import { PhaseSchema, type Phase } from './phase.js';

/** One step of a pipeline: the agent, the phase it works in, and how it is governed. */
export interface PipelineStepInput {
  agentName: string;
  phase: Phase;
  /** Most US dollars the step may cost, over all its attempts (its agent runs with the CLI's `--max-budget-usd` set to what is left). */
  budgetUsd?: number;
  /** Most turns one run of the step's agent may take (the CLI's `--max-turns`). */
  maxTurns?: number;
  /** The pipeline waits for a person's approval before the step starts (not on the first step). */
  approval?: boolean;
}

/** Zod schema of one {@link PipelineStepInput}. */
export const PipelineStepSchema = z.strictObject({
  agentName: AgentNameSchema,
  phase: PhaseSchema,
  budgetUsd: BudgetUsdSchema.optional(),
  maxTurns: MaxTurnsSchema.optional(),
  approval: z.boolean().optional(),
});

/** A pipeline's steps: 1 to 64 of them; the first cannot wait for approval (the run starts when someone runs it). */
export const PipelineStepsSchema = z
  .array(PipelineStepSchema)
  .min(1)
  .max(64)
  .refine((steps) => steps[0]?.approval !== true, { message: 'the first step cannot wait for approval: the run itself starts when someone starts it', path: [0, 'approval'] });

/** The default retry budget of a pipeline step whose work was interrupted (see {@link PipelineSpec}). */
export const DEFAULT_PIPELINE_RETRIES = 2;

/** Most time a wait for approval may be given before it rejects by itself: 30 days. */
const MAX_APPROVAL_TIMEOUT_MS = 30 * 24 * 3_600_000;

/** A webhook address: http or https only. */
export const WebhookUrlSchema = z
  .string()
  .max(2048)
  .refine((text) => {
    try {
      const url = new URL(text);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL without credentials (secrets come from the manager, never the log)');

/** Zod schema of the governance part of a {@link PipelineSpec}. */
export const PipelineGovernanceSchema = z.strictObject({
  budgetUsd: BudgetUsdSchema.optional(),
  approvalTimeoutMs: z.number().int().min(1).max(MAX_APPROVAL_TIMEOUT_MS).optional(),
  webhooks: z.array(WebhookUrlSchema).max(8).optional(),
});

/** How a pipeline is governed as a whole (its steps carry their own budgets and gates). */
export interface PipelineGovernanceInput {
  /** Most US dollars the whole pipeline may cost; at it the pipeline waits for a person. */
  budgetUsd?: number;
  /** A wait for approval (a gate, a budget) not answered within this many ms is rejected. */
  approvalTimeoutMs?: number;
  /** Where this pipeline's notifications go besides the manager's own webhooks (http(s) URLs; the signing secret comes from the manager). */
  webhooks?: string[];
}

/** Zod schema of a {@link PipelineSpec}. */
export const PipelineSpecSchema = z.strictObject({
  steps: PipelineStepsSchema,
  maxRetries: z.number().int().min(0).max(10).optional(),
  ...PipelineGovernanceSchema.shape,
});

/**
 * What a pipeline's root session records of it: its steps (with their budgets and gates), per
 * step how many times a step whose work was interrupted runs again as a new session (absent:
 * {@link DEFAULT_PIPELINE_RETRIES}), and its governance.
 */
export interface PipelineSpec extends PipelineGovernanceInput {
  steps: PipelineStepInput[];
  maxRetries?: number;
}

/** Whether a pipeline can ever wait for a person (a budget, a turn cap or a gate): only then has its stream any wait to read. */
export function canWait(spec: PipelineSpec): boolean {
  return spec.budgetUsd !== undefined || spec.steps.some((step) => step.budgetUsd !== undefined || step.maxTurns !== undefined || step.approval === true);
}
