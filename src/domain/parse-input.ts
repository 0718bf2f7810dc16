import type { z } from 'zod';
import { SessionError } from '../errors.js';

/**
 * Validates caller input against a schema, throwing `INVALID_INPUT` naming `what` and each failing path.
 * Nothing is written before this passes.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => {
    const path = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return `${path}${issue.message}`;
  });
  throw new SessionError('INVALID_INPUT', `invalid ${what}: ${issues.join('; ')}`, { issues });
}
