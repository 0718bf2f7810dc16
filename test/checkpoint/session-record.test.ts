import { describe, expect, it } from 'vitest';
import { decodeRecord, toRecord } from '../../src/checkpoint/session-record.js';
import type { Session } from '../../src/index.js';

const FAILED: Session = {
  id: '550e8400-e29b-41d4-a716-446655440000',
  agentName: 'CodeGenAgent',
  purpose: 'p',
  context: { issueNumber: null, currentPhase: 'Test', worktreePath: null, previousResults: [] },
  createdAt: '2025-10-25T10:30:00.123456789Z',
  status: 'Failed',
  parentSession: null,
  childSessions: [],
  error: 'tests failed',
  revision: 2,
};

describe('a session record in sessions.json', () => {
  it("carries the original's keys in its order, null where it has none, and the failure as error_message", () => {
    const record = toRecord(FAILED);
    expect(Object.keys(record).slice(0, 10)).toEqual(['id', 'agent_name', 'purpose', 'context', 'created_at', 'status', 'parent_session', 'child_sessions', 'handoff_to', 'error_message']);
    expect(record).toMatchObject({ handoff_to: null, error_message: 'tests failed', context: { issue_number: null, worktree_path: null } });
    expect(record).not.toHaveProperty('error');
    expect(decodeRecord(Buffer.from(JSON.stringify(record)), FAILED.id, 'x')).toEqual(FAILED);
  });

  it('keeps who started and ended a session and a pending stop request, as a live session holds them', () => {
    const agent = {
      process: { host: 'h', pid: 7, startTime: '1' },
      supervisor: { host: 'h', pid: 6, startTime: '1' },
      command: ['claude', '-p'],
      cwd: '/w',
      logFile: '/w/l.log',
      resumedFrom: null,
      startedAt: '2026-11-29T10:00:00.000Z',
      stopRequest: { by: 'alice', at: '2026-11-29T10:00:05.000Z', reason: 'runaway loop' },
    };
    const steered: Session = { ...FAILED, status: 'Active', startedBy: 'bob', endedBy: 'alice', agent };
    delete steered.error;
    const record = toRecord(steered);
    expect(record).toMatchObject({ started_by: 'bob', ended_by: 'alice', agent: { stop_request: agent.stopRequest } });
    expect(decodeRecord(Buffer.from(JSON.stringify(record)), FAILED.id, 'x')).toEqual(steered);
  });

  it('reads a record of an earlier version, which said `error` and had no null keys', () => {
    const { error_message: _, handoff_to: __, ...older } = toRecord(FAILED) as unknown as Record<string, unknown>;
    const decoded = decodeRecord(Buffer.from(JSON.stringify({ ...older, error: 'tests failed' })), FAILED.id, 'x');
    expect(decoded).toEqual(FAILED);
  });
});
