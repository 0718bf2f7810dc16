import { describe, expect, it } from 'vitest';
import type { Session } from '../../src/index.js';
import { resumable } from '../../src/server/steering.js';

const at = '2026-11-29T00:00:00.000Z';
const agent = { process: { host: 'h', pid: 1, startTime: null }, supervisor: { host: 'h', pid: 2, startTime: null }, command: ['claude'], cwd: '/w', logFile: '/w/l', resumedFrom: null, startedAt: at };
const session = (over: Partial<Session>): Session => ({
  id: '6f1c2f0e-3b7a-4d52-9a51-0f4d8c2e7b13', agentName: 'CodeGenAgent', purpose: 'p', context: { issueNumber: 1, currentPhase: 'CodeGeneration', worktreePath: null, previousResults: [] },
  createdAt: at, status: 'Active', parentSession: null, childSessions: [], revision: 3, pipeline: { steps: [{ agentName: 'CodeGenAgent', phase: 'CodeGeneration' }] }, ...over,
});

describe('resumable', () => {
  it('offers Resume for a pipeline whose last step finished but was never completed (its manager died in between)', async () => {
    const root = session({ agent: { ...agent, finishedAt: at }, result: { success: true, output: 'done' } });
    expect(await resumable(new Map([[root.id, root]]), root)).toBe(true);
  });

  it('does not for one that ended', async () => {
    const root = session({ status: 'Completed', endedAt: at, agent: { ...agent, finishedAt: at }, result: { success: true, output: 'done' } });
    expect(await resumable(new Map([[root.id, root]]), root)).toBe(false);
  });
});
