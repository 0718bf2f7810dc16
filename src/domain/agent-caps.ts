import { z } from 'zod';
import { parseInput } from './parse-input.js';

/** Most US dollars a cap, a budget or an addition to one may name: a typo's guard, not a policy. */
export const MAX_BUDGET_USD = 100_000;

/** A positive amount of US dollars, at most {@link MAX_BUDGET_USD}. */
export const BudgetUsdSchema = z.number().positive('a budget must be more than 0 USD').max(MAX_BUDGET_USD).refine(Number.isFinite, 'a budget must be a finite number');

/** A positive whole number of turns, at most 10 000. */
export const MaxTurnsSchema = z.number().int('turns must be a whole number').min(1, 'a turn cap must be at least 1').max(10_000);

/** Zod schema of {@link AgentCaps}. */
export const AgentCapsSchema = z.strictObject({ maxBudgetUsd: BudgetUsdSchema.optional(), maxTurns: MaxTurnsSchema.optional() });

/**
 * What one agent run may spend, enforced by the agent's CLI itself (`--max-budget-usd`,
 * `--max-turns`): at a cap the CLI stops the run and says so, and the session fails `capped`
 * (a pipeline then waits for a person instead of failing).
 */
export interface AgentCaps {
  /** Most US dollars the run may cost. */
  maxBudgetUsd?: number;
  /** Most conversation turns the run may take. */
  maxTurns?: number;
}

/** Which cap stopped a run. */
export type CapKind = 'budget' | 'turns';

/** Zod schema of a {@link CapKind}. */
export const CapKindSchema = z.enum(['budget', 'turns']);

/** The CLI's result subtypes for a run stopped at a cap, and which cap each names. */
const CAP_SUBTYPES: Readonly<Record<string, CapKind>> = { error_max_budget_usd: 'budget', error_max_turns: 'turns' };

/** Which cap a result line's subtype says stopped the run, if one did. */
export function capOfSubtype(subtype: string | undefined): CapKind | undefined {
  return subtype === undefined ? undefined : CAP_SUBTYPES[subtype];
}

const OptionalCaps = AgentCapsSchema.optional();

/** Caps as given by a caller, checked: `INVALID_INPUT` for a negative, zero, non-numeric or unknown cap. */
export function parseCaps(caps: unknown): AgentCaps | undefined {
  const parsed = parseInput(OptionalCaps, caps, 'caps');
  return parsed === undefined || (parsed.maxBudgetUsd === undefined && parsed.maxTurns === undefined) ? undefined : parsed;
}

/** A plain amount of US dollars as people type it (`2`, `0.50`): no sign, no exponent, no currency. */
const USD_TEXT = /^\d+(\.\d+)?$/;

/**
 * An amount of US dollars typed by a person (a CLI flag, a dashboard field), as a number; null
 * when the text is not a plain decimal (`-1`, `1e3`, `$2`, `0x10` are refused, not read). The
 * amount's own bounds are the schemas' to check.
 */
export function usdOfText(text: string): number | null {
  return USD_TEXT.test(text) ? Number(text) : null;
}
