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
  /** Cost the agent reported, in US dollars. */
  totalCostUsd: z.number().nonnegative().optional(),
  /** Token counts the agent reported (input_tokens, output_tokens, …). */
  usage: z.record(z.string().max(64), z.number().nonnegative()).optional(),
});

/** What an agent session produced: success, output text and, when known, turns, time, cost and tokens. */
export type AgentResult = z.infer<typeof AgentResultSchema>;
