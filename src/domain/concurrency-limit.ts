import { z } from 'zod';
import { AgentNameSchema } from './limits.js';
import { parseInput } from './parse-input.js';

/** The most agents a limit may allow at once (store-wide or per agent name). */
export const MAX_CONCURRENCY = 10_000;

const CountSchema = z.number().int('must be a whole number').min(1, 'must be at least 1 (remove the limit instead)').max(MAX_CONCURRENCY);

/**
 * One concurrency limit of a store, kept in the store itself so every manager process and host
 * on it obeys the same one: at most `limit` agents run at once, and at most `perAgent[name]`
 * of one agent name. Either may be left out, not both.
 */
export const ConcurrencyLimitSchema = z
  .strictObject({
    /** Most agents running at once across the whole store. */
    limit: CountSchema.optional(),
    /** Most agents of one name running at once (for example `{ DeployAgent: 1 }`). */
    perAgent: z.record(AgentNameSchema, CountSchema).optional(),
  })
  .refine((value) => value.limit !== undefined || Object.keys(value.perAgent ?? {}).length > 0, { message: 'give a limit, a per-agent limit, or both' });

/** A store's concurrency limit (see {@link ConcurrencyLimitSchema}). */
export type ConcurrencyLimit = z.infer<typeof ConcurrencyLimitSchema>;

/** Checks a limit given by a caller; throws `INVALID_INPUT` naming what is wrong. */
export function parseConcurrencyLimit(value: unknown): ConcurrencyLimit {
  return parseInput(ConcurrencyLimitSchema, value, 'concurrency limit');
}

/** How long a slot lasts unless renewed, in ms: bounds of the manager option `slotLeaseMs`. */
export const SlotLeaseSchema = z.number().int().min(200).max(3_600_000);

/** The default lease of a slot: renewed every third of it by whichever manager follows the agent. */
export const DEFAULT_SLOT_LEASE_MS = 30_000;

/** A limit in words, as the CLI and the dashboard show it ("2 agents at once, 1 DeployAgent at once"); "no limit" for null. */
export function limitInWords(limit: ConcurrencyLimit | null): string {
  if (limit === null) return 'no limit';
  const parts = [limit.limit === undefined ? null : `${limit.limit} agent${limit.limit === 1 ? '' : 's'} at once`, ...Object.entries(limit.perAgent ?? {}).map(([name, n]) => `${n} ${name} at once`)];
  return parts.filter((p) => p !== null).join(', ');
}
