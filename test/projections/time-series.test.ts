import { describe, expect, it } from 'vitest';
import type { Session } from '../../src/index.js';
import { TimeSeriesCounter } from '../../src/projections/time-series.js';

const session = (over: Partial<Session>): Session => ({
  id: '550e8400-e29b-41d4-a716-446655440000', agentName: 'CodeGenAgent', purpose: 'p', createdAt: '2026-11-28T10:15:00.000Z', status: 'Active',
  context: { issueNumber: 1, currentPhase: 'CodeGeneration', worktreePath: null, previousResults: [] }, parentSession: null, childSessions: [], revision: 1, ...over,
});

describe('sessions over time', () => {
  it('counts a spawn in its bucket, an end in its own by how, and the cost and turns where the session ended', () => {
    const counter = new TimeSeriesCounter('day', Date.parse('2026-11-29T12:00:00Z'), 3);
    counter.add(session({}));
    counter.add(session({ status: 'Failed', endedAt: '2026-11-29T01:00:00.000Z', result: { success: false, output: 'x', totalCostUsd: 0.1, numTurns: 3 } }));
    counter.add(session({ agentName: 'ReviewAgent', status: 'Completed', endedAt: '2026-11-29T02:00:00.000Z', result: { success: true, output: 'y', totalCostUsd: 0.2, numTurns: 4 } }));
    // Before the first bucket: left out.
    counter.add(session({ createdAt: '2026-11-01T00:00:00.000Z', status: 'HandedOff', endedAt: '2026-11-01T00:01:00.000Z' }));
    const { buckets } = counter.result();
    expect(buckets.map((b) => b.start)).toEqual(['2026-11-27T00:00:00.000Z', '2026-11-28T00:00:00.000Z', '2026-11-29T00:00:00.000Z']);
    expect(buckets.map((b) => [b.spawned, b.handedOff, b.completed, b.failed])).toEqual([[0, 0, 0, 0], [3, 0, 0, 0], [0, 0, 1, 1]]);
    expect(buckets[2]!.byAgent).toEqual({ CodeGenAgent: { costNanos: 100_000_000, turns: 3 }, ReviewAgent: { costNanos: 200_000_000, turns: 4 } });
  });

  it('counts an agent still running at its spawn, by the hour', () => {
    const counter = new TimeSeriesCounter('hour', Date.parse('2026-11-28T10:59:00Z'), 2);
    counter.add(session({ result: { success: true, output: 'partial', totalCostUsd: 0.05, numTurns: 1 } }));
    expect(counter.result().buckets.map((b) => [b.start, b.spawned, b.byAgent['CodeGenAgent']?.costNanos])).toEqual([
      ['2026-11-28T09:00:00.000Z', 0, undefined],
      ['2026-11-28T10:00:00.000Z', 1, 50_000_000],
    ]);
  });
});
