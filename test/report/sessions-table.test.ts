import { describe, expect, it } from 'vitest';
import type { Session } from '../../src/index.js';
import { sessionsTableHtml } from '../../src/report/render-report.js';

const process = { host: 'build-<b>1</b>', pid: 4242, startTime: '1' };
const base: Session = {
  id: '550e8400-e29b-41d4-a716-446655440000', agentName: 'CodeGenAgent', purpose: 'p', createdAt: '2026-11-29T10:00:00.000Z', status: 'Active',
  context: { issueNumber: 1, currentPhase: 'CodeGeneration', worktreePath: null, previousResults: [] }, parentSession: null, childSessions: [], revision: 2,
  agent: { process, supervisor: process, command: ['claude'], cwd: '/w', logFile: '/l', resumedFrom: null, startedAt: '2026-11-29T10:00:01.000Z' },
};

describe('the sessions table (report and dashboard)', () => {
  it("says which process runs an Active session's agent, and on which host (escaped); nothing once the agent finished", () => {
    const running = sessionsTableHtml([base], Date.parse('2026-11-29T10:01:00Z'));
    expect(running).toContain('agent pid 4242 on build-&lt;b&gt;1&lt;/b&gt;');
    const finished = sessionsTableHtml([{ ...base, agent: { ...base.agent!, finishedAt: '2026-11-29T10:00:30.000Z' } }], Date.parse('2026-11-29T10:01:00Z'));
    expect(finished).not.toContain('agent pid');
  });
});
