import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appendSessionJson } from '../../src/checkpoint/record-json.js';
import { decodeRecord, toRecord } from '../../src/checkpoint/session-record.js';
import { renderRecord } from '../../src/checkpoint/sessions-file.js';
import { PHASES } from '../../src/domain/phase.js';
import type { AgentResult, Session } from '../../src/index.js';
import { NdjsonPieces } from '../../src/query/session-lines.js';
import { safeJson } from '../../src/domain/visible-text.js';

// What agents and users write: JSON's own punctuation, escapes, what a terminal acts on, and
// text beyond ASCII (two, three and four bytes in UTF-8, and a lone surrogate).
const hostile = fc.string({
  unit: fc.constantFrom('a', 'Z', '7', ' ', '_', '"', '\\', ':', ',', '{', '}', '[', ']', '\n', '\u001b', '\u007f', '\u0085', '\u009f', '\u00e9', '\u2014', '\u2028', '\u2029', '\u202e', '\u2066', '\u2069', '\u{1F600}', '\ud800', 'null'),
  maxLength: 12,
});
const sometimes = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
// The agent's usage keys are kept as the agent spelled them, even where they look like ours.
const usageKey = fc.oneof(fc.constantFrom('input_tokens', 'cache_read_input_tokens', 'agent_name', 'error', 'error_message', 'handoff_to', 'usage'), hostile);
const result: fc.Arbitrary<AgentResult> = fc.record(
  {
    success: fc.boolean(),
    output: hostile,
    agentName: hostile,
    sessionId: fc.uuid(),
    numTurns: fc.nat(),
    durationMs: fc.nat(),
    totalCostUsd: fc.double({ min: 0, max: 100, noNaN: true }),
    runCostUsd: fc.double({ min: 0, max: 100, noNaN: true }),
    usage: fc.dictionary(usageKey, fc.nat(), { maxKeys: 4 }),
  },
  { requiredKeys: ['success', 'output'] },
);
const processRef = fc.record({ host: hostile, pid: fc.nat(), startTime: fc.option(hostile, { nil: null }) });
const session: fc.Arbitrary<Session> = fc
  .record({
    id: fc.uuid(),
    agentName: hostile,
    purpose: hostile,
    issueNumber: fc.option(fc.nat(), { nil: null }),
    currentPhase: fc.constantFrom(...PHASES),
    worktreePath: fc.option(hostile, { nil: null }),
    previousResults: fc.array(result, { maxLength: 2 }),
    status: fc.constantFrom('Active' as const, 'HandedOff' as const, 'Completed' as const, 'Failed' as const),
    parentSession: fc.option(fc.uuid(), { nil: null }),
    childSessions: fc.array(fc.uuid(), { maxLength: 2 }),
    handoffTo: sometimes(hostile),
    endedAt: sometimes(fc.constant('2026-11-29T10:00:00.000Z')),
    result: sometimes(result),
    error: sometimes(hostile),
    interrupted: sometimes(fc.constant(true as const)),
    capped: sometimes(fc.constantFrom('budget' as const, 'turns' as const)),
    retryAfter: sometimes(fc.constant('2026-11-29T10:05:00.000Z')),
    retryOf: sometimes(fc.uuid()),
    agent: sometimes(
      fc.record(
        {
          process: processRef,
          supervisor: processRef,
          command: fc.array(hostile, { maxLength: 3 }),
          cwd: hostile,
          logFile: hostile,
          resumedFrom: fc.option(fc.uuid(), { nil: null }),
          startedAt: fc.constant('2026-11-29T10:00:00.000Z'),
          finishedAt: fc.constant('2026-11-29T10:01:00.000Z'),
          transcript: fc.oneof(fc.record({ bytes: fc.nat(), sha256: fc.constant('a'.repeat(64)) }), fc.record({ skipped: hostile })),
          stopRequest: fc.record({ by: hostile, at: fc.constant('2026-11-29T10:00:30.000Z'), reason: hostile }),
        },
        { requiredKeys: ['process', 'supervisor', 'command', 'cwd', 'logFile', 'resumedFrom', 'startedAt'] },
      ),
    ),
    pipeline: sometimes(
      fc.record(
        {
          steps: fc.array(fc.record({ agentName: hostile, phase: fc.constantFrom(...PHASES), budgetUsd: fc.double({ min: 0.01, max: 10, noNaN: true }), maxTurns: fc.nat(), approval: fc.boolean() }, { requiredKeys: ['agentName', 'phase'] }), { maxLength: 2 }),
          maxRetries: fc.nat(),
          budgetUsd: fc.double({ min: 0.01, max: 10, noNaN: true }),
          approvalTimeoutMs: fc.nat(),
          webhooks: fc.array(fc.webUrl(), { maxLength: 2 }),
        },
        { requiredKeys: ['steps'] },
      ),
    ),
    imported: sometimes(fc.constant(true as const)),
    startedBy: sometimes(hostile),
    endedBy: sometimes(hostile),
    revision: fc.nat(),
  })
  .map(({ issueNumber, currentPhase, worktreePath, previousResults, ...rest }) => {
    const s: Record<string, unknown> = { ...rest, context: { issueNumber, currentPhase, worktreePath, previousResults }, createdAt: '2026-11-29T09:00:00.000Z' };
    for (const key of Object.keys(s)) if (s[key] === undefined) delete s[key];
    const pipeline = s['pipeline'] as { maxRetries?: number } | undefined;
    if (pipeline !== undefined && pipeline.maxRetries === undefined) delete pipeline.maxRetries;
    return s as unknown as Session;
  });

/** What a terminal acts on and JSON.stringify leaves raw (see domain/visible-text.ts). */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const lineOf = (record: Buffer, id: string): string | null => {
  const out = new NdjsonPieces();
  out.line('before');
  const before = out.length;
  if (!appendSessionJson(record, id, out)) {
    expect(out.length).toBe(before);
    return null;
  }
  return out.take().subarray(before).toString('utf8');
};

describe('a session written as JSON straight from its record (list --all --json)', () => {
  it('is, for every record this library writes, the session decoded from it, made safe for a terminal', () => {
    fc.assert(
      fc.property(session, (s) => {
        const record = Buffer.from(renderRecord(s));
        const line = lineOf(record, s.id);
        expect(line).not.toBeNull();
        expect(line!.endsWith('\n')).toBe(true);
        const text = line!.slice(0, -1);
        // The same value as the decoded session's JSON, with nothing raw that a terminal acts on.
        expect(JSON.parse(text)).toEqual(JSON.parse(safeJson(decodeRecord(record, s.id, 'x'))));
        expect(text).not.toMatch(UNSAFE);
        expect(text.length).toBe(safeJson(decodeRecord(record, s.id, 'x')).length);
      }),
      { numRuns: 400 },
    );
  });

  it('leaves to the parse a record of an earlier version (`error`), or of another session, writing nothing', () => {
    const s: Session = {
      id: '550e8400-e29b-41d4-a716-446655440000', agentName: 'A', purpose: 'p', createdAt: '2026-11-29T09:00:00.000Z', status: 'Failed',
      context: { issueNumber: 1, currentPhase: 'Test', worktreePath: null, previousResults: [] }, parentSession: null, childSessions: [], revision: 3,
    };
    const { error_message: _, ...older } = toRecord({ ...s, error: 'boom' }) as unknown as Record<string, unknown>;
    expect(lineOf(Buffer.from(JSON.stringify({ ...older, error: 'boom' })), s.id)).toBeNull();
    expect(lineOf(Buffer.from(renderRecord(s)), '650e8400-e29b-41d4-a716-446655440000')).toBeNull();
    expect(lineOf(Buffer.from(JSON.stringify({ ...toRecord(s), some_new_key: 1 })), s.id)).toBeNull();
  });
});
