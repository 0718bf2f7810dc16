import { getSimplePaths } from '@xstate/graph';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pipelineMachine, type PipelineMachineEvent } from '../../machines/pipeline.machine.js';
import { ClaudeRunner, SessionManager, resumePipeline, runPipeline, type PipelineStepInput } from '../../src/index.js';
import { childScript } from '../helpers/children.js';
import { tempDir } from '../helpers/fixtures.js';
import { logEvents } from '../helpers/log-files.js';

const steps = [
  { agentName: 'CodeGenAgent', phase: 'CodeGeneration' },
  { agentName: 'ReviewAgent', phase: 'Review' },
];

describe('pipeline machine', () => {
  it('every path ends completed only after every step succeeded, or failed at the first failure or the interruption past its retries', () => {
    const events: PipelineMachineEvent[] = [
      { type: 'STEP_STARTED', sessionId: 's' },
      { type: 'STEP_SUCCEEDED' },
      { type: 'STEP_FAILED', error: 'boom' },
      { type: 'STEP_INTERRUPTED', error: 'killed' },
      { type: 'STEP_RETRIED' },
    ];
    const maxRetries = 1;
    const paths = getSimplePaths(pipelineMachine, { events, input: { steps, maxRetries } });
    const endings = paths.filter((p) => p.state.status === 'done');
    expect(endings.length).toBeGreaterThan(0);
    expect(endings.some((p) => p.state.value === 'completed' && p.steps.some((s) => s.event.type === 'STEP_INTERRUPTED'))).toBe(true);
    // A person's retry is not counted against maxRetries: past the budget, it still runs the step again.
    const retriedPastBudget = endings.find((p) => p.state.value === 'completed' && p.steps.filter((s) => s.event.type === 'STEP_INTERRUPTED' || s.event.type === 'STEP_RETRIED').length > maxRetries);
    expect(retriedPastBudget).toBeDefined();
    for (const path of endings) {
      const types = path.steps.map((s) => s.event.type);
      const succeeded = types.filter((t) => t === 'STEP_SUCCEEDED').length;
      // An interruption within the budget is followed by the step's new session (or the failure to start it), never by a move on.
      types.forEach((t, i) => {
        if ((t === 'STEP_INTERRUPTED' || t === 'STEP_RETRIED') && i < types.length - 1) expect(['STEP_STARTED', 'STEP_FAILED']).toContain(types[i + 1]);
      });
      if (path.state.value === 'completed') {
        expect(succeeded).toBe(steps.length);
        expect(types).not.toContain('STEP_FAILED');
        expect(path.state.context.sessionIds).toHaveLength(steps.length);
      } else {
        expect(path.state.value).toBe('failed');
        const last = types.at(-1);
        if (last === 'STEP_INTERRUPTED') {
          // Only past the budget: the step's interruptions since its last success exceed maxRetries.
          const sinceSuccess = types.slice(types.lastIndexOf('STEP_SUCCEEDED') + 1);
          expect(sinceSuccess.filter((t) => t === 'STEP_INTERRUPTED').length).toBe(maxRetries + 1);
          expect(path.state.context.error).toBe('killed');
        } else {
          expect(last).toBe('STEP_FAILED');
          expect(path.state.context.error).toBe('boom');
        }
      }
    }
  });
});

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
