import { z } from 'zod';
import { validate as isUuid } from 'uuid';

/** Upper bounds on free text, so a runaway caller cannot bloat the log (a 10 MB purpose is refused). */
export const LIMITS = {
  agentName: 128,
  purpose: 64 * 1024,
  path: 4096,
  errorText: 64 * 1024,
  resultOutput: 1024 * 1024,
  previousResults: 256,
} as const;

/** An instant a query or a search is bounded by: any date or time `Date.parse` reads (ISO 8601). */
export const InstantSchema = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'must be a date or time (ISO 8601)' });

/** A session or event id: an RFC 4122 UUID, lower or upper case. */
export const UuidSchema = z.string().refine((s) => isUuid(s), { message: 'must be a UUID' });

/**
 * An agent name. It ends up in prompts, process arguments and (in the runner) file names,
 * so it is restricted to a conservative, traversal-free alphabet.
 */
export const AgentNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(LIMITS.agentName)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'may hold only letters, digits, ".", "_" and "-", and must start with a letter or digit');

/**
 * Who acted, as an event's `by` records it: the name bound to a dashboard token, an OS user
 * name, or what a library caller passes. Shown on pages and terminals, so it is escaped there.
 */
export const ActorNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'is longer than 200 characters')
  .refine((s) => !s.includes('\0'), { message: 'must not contain NUL bytes' });

/** Text without NUL bytes, bounded in length. */
export function boundedText(max: number, what: string) {
  return z
    .string()
    .max(max, `${what} is longer than ${max} characters`)
    .refine((s) => !s.includes('\0'), { message: `${what} must not contain NUL bytes` });
}
