import { describe, expect } from 'vitest';
import { runPipeline } from '../../src/index.js';
import { usageLimitOf } from '../../src/runner/usage-limit.js';
import { logEvents } from '../helpers/log-files.js';
import { namedStepDone, test } from '../helpers/real-claude.js';

describe('usage limits (real CLI)', () => {
  test('a step refused by a rate limit waits until the limit resets and runs again as an interruption, not a failure', async ({ claude }) => {
    const done = namedStepDone();
    // The API's 429, as the real CLI reports it (api_error_status 429, rate_limit_error), for the first request only.
    claude.reply = (request, index) => (index === 0 ? { status: 429, error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } } : done(request, index));
    const manager = await claude.open({ runner: { usageLimitWaitMs: 2000 } });
    const result = await runPipeline(manager, { issueNumber: 26, worktreePath: claude.dir, steps: [{ agentName: 'CodeGenAgent', phase: 'CodeGeneration' }] });
    expect(result.status).toBe('Completed');
    expect(result.retried).toHaveLength(1);
    const limited = result.retried[0]!;
    expect(limited).toMatchObject({ status: 'Failed', interrupted: true });
    expect(limited.error).toMatch(/rate limit/);
    const events = await logEvents(claude.store);
    const failed = events.find((e) => e['type'] === 'SessionFailed')!;
    const retryAfter = Date.parse((failed['data'] as { retryAfter: string }).retryAfter);
    expect(retryAfter - Date.parse(failed['timestamp'] as string)).toBeGreaterThan(1000);
    // The retry was not spawned before the limit's reset.
    const retrySpawn = events.filter((e) => e['type'] === 'SessionSpawned')[1]!;
    expect(Date.parse(retrySpawn['timestamp'] as string)).toBeGreaterThanOrEqual(retryAfter);
    expect(claude.api.requests).toHaveLength(2);
  }, 120_000);
});

describe('usageLimitOf', () => {
  const line = (over: object) => ({ isError: true, result: '', errors: [], ...over });
  test('reads the API\'s 429, a rate_limit_error, and the subscription\'s limit with its reset', () => {
    expect(usageLimitOf(line({ apiErrorStatus: 429 }))).toEqual({});
    expect(usageLimitOf(line({ apiErrorType: 'rate_limit_error' }))).toEqual({});
    expect(usageLimitOf(line({ result: 'Claude AI usage limit reached|1751234567' }))).toEqual({ resetsAt: 1751234567000 });
    expect(usageLimitOf(line({ apiErrorStatus: 500 }))).toBeNull();
    expect(usageLimitOf({ ...line({ apiErrorStatus: 429 }), isError: false })).toBeNull();
  });
});
