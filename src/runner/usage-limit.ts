import type { ResultLine } from './stream-json.js';

/** How long a step stopped by a usage limit waits when the CLI does not say when the limit resets. */
export const DEFAULT_USAGE_LIMIT_WAIT_MS = 60_000;

/** "Claude AI usage limit reached|1751234567": the subscription's limit, with its reset in epoch seconds. */
const SUBSCRIPTION_LIMIT = /usage limit reached\|(\d{9,11})/i;

/**
 * Whether a failed run was stopped by a rate or usage limit, and when that resets (epoch ms)
 * when the CLI says: the API's 429 (`api_error_status`, `rate_limit_error`), or the
 * subscription's "usage limit reached|<reset>". Such a run was cut short from outside the
 * agent: it is an interruption, run again after the reset.
 */
export function usageLimitOf(line: ResultLine): { resetsAt?: number } | null {
  if (!line.isError) return null;
  const text = [line.result, ...line.errors].join('\n');
  const subscription = SUBSCRIPTION_LIMIT.exec(text);
  if (subscription !== null) return { resetsAt: Number(subscription[1]) * 1000 };
  if (line.apiErrorStatus === 429 || line.apiErrorType === 'rate_limit_error' || /usage limit reached/i.test(text)) return {};
  return null;
}
