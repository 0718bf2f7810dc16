import { z } from 'zod';
import { LIMITS, boundedText } from './limits.js';

/**
 * What became of an agent's conversation (its Claude Code transcript) when the agent ended:
 * stored with the session (its size and SHA-256, which `audit` checks), or not stored, and why
 * (storing turned off, over the size limit, not found).
 */
export const TranscriptRefSchema = z.union([
  z.strictObject({ bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256') }),
  z.strictObject({ skipped: boundedText(LIMITS.errorText, 'skipped').min(1) }),
]);

/** See {@link TranscriptRefSchema}. */
export type TranscriptRef = z.infer<typeof TranscriptRefSchema>;
