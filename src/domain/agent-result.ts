import { z } from 'zod';
import { AgentNameSchema, LIMITS, UuidSchema, boundedText } from './limits.js';

/** Zod schema of an {@link AgentResult}. Unknown keys are refused. */
export const AgentResultSchema = z.strictObject({
  /** Whether the agent reached its goal. */
  success: z.boolean(),
  /** The agent's final answer or summary. */
  output: boundedText(LIMITS.resultOutput, 'result output'),
  /** Which agent produced it (filled in when carried to the next agent). */
  agentName: AgentNameSchema.optional(),
  /** Which session produced it. */
  sessionId: UuidSchema.optional(),
  /** Conversation turns the agent took. */
  numTurns: z.number().int().nonnegative().optional(),
  /** Wall time the agent reported, in milliseconds. */
  durationMs: z.number().nonnegative().optional(),
  /** Cost the agent reported, in US dollars (the CLI's `total_cost_usd`, kept as it said it). */
  totalCostUsd: z.number().nonnegative().optional(),
  /**
   * What this run cost on its own, where that differs from `totalCostUsd`: a run that resumed a
   * conversation (a handoff's fork, a retry, a continuation) reports in `total_cost_usd` what
   * that conversation had cost before too. Set by the manager when it records the run.
   */
  runCostUsd: z.number().nonnegative().optional(),
  /** Token counts the agent reported (input_tokens, output_tokens, …). */
  usage: z.record(z.string().max(64), z.number().nonnegative()).optional(),
});

/** What an agent session produced: success, output text and, when known, turns, time, cost and tokens. */
export type AgentResult = z.infer<typeof AgentResultSchema>;

/**
 * What the run that produced `result` cost on its own, in US dollars: `runCostUsd` where the
 * manager worked it out (a run that resumed a conversation), else the reported total. What
 * stats, charts and budgets add up, so a handed-off conversation is not counted at every step.
 */
export function runCostOf(result: Pick<AgentResult, 'totalCostUsd' | 'runCostUsd'> | undefined): number {
  return result?.runCostUsd ?? result?.totalCostUsd ?? 0;
}

/**
 * The cost of a run that resumed a conversation, out of the total its CLI reported: that total
 * includes what the conversation had cost before (checked on the CLI), which is the reported total
 * of the session it resumed from. In whole nano-dollars, as the stats count: no float residue.
 */
export function costSinceResume(totalCostUsd: number, resumedFromTotalUsd: number): number {
  return Math.max(0, Math.round((totalCostUsd - resumedFromTotalUsd) * 1e9) / 1e9);
}
