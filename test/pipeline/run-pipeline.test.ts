import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClaudeRunner, SessionManager, resumePipeline, runPipeline, type PipelineStepInput } from '../../src/index.js';
import { childScript } from '../helpers/children.js';
import { tempDir } from '../helpers/fixtures.js';
import { logEvents } from '../helpers/log-files.js';

const steps = [
  { agentName: 'CodeGenAgent', phase: 'CodeGeneration' },
  { agentName: 'ReviewAgent', phase: 'Review' },
];

describe('runPipeline', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let manager: SessionManager | null = null;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => {
    await manager?.close();
    manager = null;
    await cleanup();
  });

  const runner = (env: Record<string, string> = {}) =>
    new ClaudeRunner({ command: process.execPath, args: ({ prompt, sessionId }) => [childScript('fake-agent'), '--session-id', sessionId, prompt], env: { FAKE_AGENT_MODE: 'ok', ...env } });

  it('hands off along every step and completes the last', async () => {
    manager = await SessionManager.open(join(dir, 'store'), { runner: runner() });
    const run = await runPipeline(manager, { issueNumber: 5, worktreePath: dir });
    expect(run.status).toBe('Completed');
    expect(run.sessions.map((s) => [s.agentName, s.status])).toEqual([
      ['CodeGenAgent', 'HandedOff'], ['ReviewAgent', 'HandedOff'], ['TestAgent', 'HandedOff'], ['DeployAgent', 'Completed'],
    ]);
    expect(run.sessions[3]!.context.previousResults.map((r) => r.agentName)).toEqual(['CodeGenAgent', 'ReviewAgent', 'TestAgent']);
  });

  it('stops at the first failing step: that session fails and no later agent starts', async () => {
    manager = await SessionManager.open(join(dir, 'store'), { runner: runner({ FAKE_AGENT_FAIL: 'ReviewAgent' }) });
    const run = await runPipeline(manager, { issueNumber: 5, worktreePath: dir });
    expect(run.status).toBe('Failed');
    expect(run.error).toMatch(/tests are red/);
    expect(run.sessions.map((s) => [s.agentName, s.status])).toEqual([['CodeGenAgent', 'HandedOff'], ['ReviewAgent', 'Failed']]);
    const spawned = (await logEvents(join(dir, 'store'))).filter((e) => e['type'] === 'SessionSpawned');
    expect(spawned).toHaveLength(2);
  });

  it('a step that failed by its own verdict and was retried by a person goes on: the resumed pipeline completes, each move recorded as theirs', async () => {
    manager = await SessionManager.open(join(dir, 'store'), { runner: runner({ FAKE_AGENT_FAIL: 'ReviewAgent' }) });
    const failed = await runPipeline(manager, { issueNumber: 6, worktreePath: dir, steps: [...steps, { agentName: 'TestAgent', phase: 'Test' }] as PipelineStepInput[] });
    expect(failed.status).toBe('Failed');
    const root = failed.sessions[0]!.id;
    // Without a retry the pipeline stays as it ended.
    expect((await resumePipeline(manager, root)).status).toBe('Failed');
    await manager.close();
    manager = await SessionManager.open(join(dir, 'store'), { runner: runner() });
    const retry = await manager.retrySession(failed.sessions[1]!.id, { by: 'alice' });
    expect(retry.startedBy).toBe('alice');
    const run = await resumePipeline(manager, root, { by: 'alice' });
    expect(run.status).toBe('Completed');
    expect(run.sessions.map((s) => [s.agentName, s.status])).toEqual([['CodeGenAgent', 'HandedOff'], ['ReviewAgent', 'HandedOff'], ['TestAgent', 'Completed']]);
    expect(run.retried.map((s) => s.id)).toEqual([failed.sessions[1]!.id]);
    const byAlice = (await logEvents(join(dir, 'store'))).filter((e) => e['by'] === 'alice').map((e) => e['type']);
    expect(byAlice).toEqual(['SessionSpawned', 'SessionHandedOff', 'SessionSpawned', 'SessionCompleted']);
  });

  it('refuses a manager without a runner, or whose runner completes sessions itself, and bad steps', async () => {
    manager = await SessionManager.open(join(dir, 'store'));
    await expect(runPipeline(manager, { issueNumber: 1, worktreePath: dir })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await manager.close();
    manager = await SessionManager.open(join(dir, 'store'), { runner: runner() });
    await expect(runPipeline(manager, { issueNumber: 1, worktreePath: dir, steps: [] })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(runPipeline(manager, { issueNumber: 1, worktreePath: dir, steps: [{ agentName: 'A', phase: 'Nap' as never }] })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
