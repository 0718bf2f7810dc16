import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { test } from '../helpers/real-claude.js';
import { SessionManager, runPipeline } from '../../src/index.js';
import { pollFor } from '../helpers/children.js';
import { tempDir } from '../helpers/fixtures.js';

describe('miyabi-sessions pipeline run|resume|status (real CLI agents, scripted API)', () => {
  test('runs a pipeline, names its root first, shows where it stands, resumes a finished one without running anything, refuses bad input', async ({ claude }) => {
    const { dir, api, store } = claude;
    claude.reply = () => ({ text: 'step done' });
    // The agents' environment from nothing: this test's HOME and API, no developer login.
    const env = { PATH: process.env['PATH'] ?? '', ...(await claude.env()) };
    const run = await runCli(['pipeline', 'run', '--issue', '9', '--worktree', dir, '--steps', 'CodeGenAgent:CodeGeneration,ReviewAgent:Review', '--dir', store], { env });
    expect(run.code, run.stderr).toBe(0);
    const root = /^root ([0-9a-f-]{36})$/m.exec(run.stdout.split('\n')[0]!)?.[1];
    expect(root).toBeDefined();
    expect(run.stdout).toMatch(/pipeline Completed[\s\S]*CodeGenAgent\s+HandedOff[\s\S]*ReviewAgent\s+Completed/);
    expect(api.requests).toHaveLength(2);

    const status = await runCli(['pipeline', 'status', root!, '--dir', store], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/pipeline Completed[\s\S]*1\s+CodeGenAgent\s+CodeGeneration\s+HandedOff[\s\S]*2\s+ReviewAgent\s+Review\s+Completed/);
    expect(JSON.parse((await runCli(['pipeline', 'status', root!, '--json', '--dir', store], { env })).stdout)).toMatchObject({ status: 'Completed' });

    const resumed = await runCli(['pipeline', 'resume', root!, '--dir', store], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/pipeline Completed/);
    expect(api.requests).toHaveLength(2);

    const child = (JSON.parse((await runCli(['list', '--json', '--dir', store], { env })).stdout) as Array<{ id: string; agentName: string }>).find((s) => s.agentName === 'ReviewAgent')!;
    expect((await runCli(['pipeline', 'status', child.id, '--dir', store], { env })).code).toBe(4);
    expect((await runCli(['pipeline', 'resume', '6f3d9a21-0000-4000-8000-000000000000', '--dir', store], { env })).code).toBe(3);
    expect((await runCli(['pipeline', 'bogus', root!, '--dir', store], { env })).code).toBe(2);
    expect((await runCli(['pipeline', 'run', '--worktree', dir, '--dir', store], { env })).code).toBe(2);
    expect((await runCli(['pipeline', 'run', '--issue', '1', '--worktree', dir, '--steps', 'X:Nowhere', '--dir', store], { env })).code).toBe(2);
  }, 60_000);

  test('pipeline approve --resume answers a pipeline whose manager is gone and runs it on to its end', async ({ claude }) => {
    const { dir, api, store } = claude;
    const env = { PATH: process.env['PATH'] ?? '', ...(await claude.env()) };
    const manager = await claude.open();
    let root = '';
    const run = runPipeline(manager, { issueNumber: 5, worktreePath: dir, steps: [{ agentName: 'CodeGenAgent', phase: 'CodeGeneration' }, { agentName: 'DeployAgent', phase: 'CICD', approval: true }], onRoot: (id) => (root = id) });
    await pollFor(async () => ((await manager.pipelineStream(root).catch(() => undefined))?.state === 'waiting' ? true : undefined), 60_000, 'the gate');
    // Its manager goes away while it waits (the run ends with CLOSED; the wait stays in the log).
    // The run's end is taken before the close, so its rejection is never unhandled for a moment.
    const ended = run.then(() => null, (error: unknown) => error);
    await manager.close();
    expect(String(await ended)).toMatch(/closed/);
    const waiting = await runCli(['pipeline', 'status', root, '--dir', store], { env });
    expect(waiting.stdout).toMatch(/^pipeline Waiting: step 2 \(DeployAgent\) requires approval/);
    const approved = await runCli(['pipeline', 'approve', root, '--resume', '--by', 'zoe', '--dir', store], { env });
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(/approved by zoe[\s\S]*pipeline Completed[\s\S]*DeployAgent\s+Completed/);
    expect(api.requests).toHaveLength(2);
    // Answered already: a second answer is refused (exit 4).
    expect((await runCli(['pipeline', 'reject', root, '--dir', store], { env })).code).toBe(4);
  }, 120_000);

  it('status shows a step run again: its interrupted attempt marked retried, the run Running while retries are left, Failed past them', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const store = join(dir, 'store');
      const steps = [{ agentName: 'CodeGenAgent', phase: 'CodeGeneration' as const }, { agentName: 'ReviewAgent', phase: 'Review' as const }];
      const manager = await SessionManager.open(store);
      const root = await manager.spawnAgentSession('CodeGenAgent', 'Resolve issue #3', { issueNumber: 3, currentPhase: 'CodeGeneration', worktreePath: dir }, { pipelineSteps: steps, pipelineRetries: 1 });
      await manager.failSession(root.id, 'the agent was killed by SIGKILL', undefined, { interrupted: true });
      await manager.close();
      const waiting = await runCli(['pipeline', 'status', root.id, '--dir', store]);
      expect(waiting.code, waiting.stderr).toBe(0);
      expect(waiting.stdout).toMatch(/^pipeline Running/);
      const reopened = await SessionManager.open(store);
      const retry = await reopened.retrySession(root.id);
      await reopened.failSession(retry.id, 'killed again', undefined, { interrupted: true });
      await reopened.close();
      const failed = await runCli(['pipeline', 'status', root.id, '--dir', store]);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toMatch(/^pipeline Failed: killed again/);
      expect(failed.stdout).toMatch(new RegExp(`1\\s+CodeGenAgent\\s+CodeGeneration\\s+Failed \\(retried\\)\\s+${root.id}[\\s\\S]*1\\s+CodeGenAgent\\s+CodeGeneration\\s+Failed\\s+${retry.id}[\\s\\S]*2\\s+ReviewAgent\\s+Review\\s+—`));
    } finally {
      await cleanup();
    }
  });
});
