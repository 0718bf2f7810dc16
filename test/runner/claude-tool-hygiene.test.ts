import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { SessionManager, type ClaudeRunnerOptions } from '../../src/index.js';
import { pidAlive } from '../../src/process/process-identity.js';
import { pollFor, startChild, waitFor } from '../helpers/children.js';
import { test as realClaudeTest, type RealClaude } from '../helpers/real-claude.js';

/*
 * The real CLI runs its Bash tool in a shell of its own session (setsid), outside the agent's
 * process group. These tests make the scripted model ask for a Bash call that records its pid
 * and sleeps, then stop the agent every way a user can, and require that the tool is gone.
 */
describe('the real Claude Code CLI\'s tools never outlive the agent', () => {
  const toolPidFile = (claude: RealClaude) => join(claude.dir, 'tool.pid');
  /** The real-CLI fixture, its model scripted to run a long Bash tool first, its tool killed if a test leaves it. */
  const it = realClaudeTest.extend<{ tools: RealClaude }>({
    tools: async ({ claude }, use) => {
      claude.reply = (_, i) => (i === 0
        ? { toolUse: { name: 'Bash', input: { command: `echo $$ > ${toolPidFile(claude)}; exec sleep 300`, description: 'a long tool' } } }
        : { text: 'done' });
      await use(claude);
      // A failing run must not leave its five-minute sleep behind.
      const leaked = Number(await readFile(toolPidFile(claude), 'utf8').catch(() => ''));
      if (leaked > 0 && pidAlive(leaked)) process.kill(leaked, 'SIGKILL');
    },
  });

  const context = (claude: RealClaude) => ({ issueNumber: 8, currentPhase: 'Test' as const, worktreePath: claude.dir });
  const open = (claude: RealClaude, options: ClaudeRunnerOptions = {}) => claude.open({ runner: { allowedTools: ['Bash'], killGraceMs: 2000, ...options } });
  /** The pid of the tool's `sleep`, once the CLI has started it. */
  const toolPid = (claude: RealClaude) => pollFor(async () => {
    const text = await readFile(toolPidFile(claude), 'utf8').catch(() => '');
    return /^\d+\n$/.test(text) ? Number(text) : undefined;
  }, 30_000, 'the Bash tool to start');
  const gone = (pid: number) => pollFor(async () => (pidAlive(pid) ? undefined : true), 10_000, `tool pid ${pid} to be gone`);

  it('close() stops the agent and its tool', async ({ tools: claude }) => {
    const manager = await open(claude);
    const session = await manager.spawnAgentSession('ToolAgent', 'run the tool', context(claude));
    const tool = await toolPid(claude);
    expect(pidAlive(tool)).toBe(true);
    await manager.close();
    expect(pidAlive(tool)).toBe(false);
    const reopened = await SessionManager.open(claude.store);
    expect(await reopened.getSession(session.id)).toMatchObject({ status: 'Failed', error: expect.stringMatching(/session manager was closed/) });
    await reopened.close();
  });

  it('an abort stops the agent and its tool', async ({ tools: claude }) => {
    const manager = await open(claude);
    const controller = new AbortController();
    const session = await manager.spawnAgentSession('ToolAgent', 'run the tool', context(claude), { signal: controller.signal });
    const tool = await toolPid(claude);
    controller.abort(new Error('stop'));
    expect(await manager.waitForAgent(session.id)).toMatchObject({ status: 'Failed', error: 'aborted: stop' });
    expect(pidAlive(tool)).toBe(false);
    await manager.close();
  });

  it('a timeout stops the agent and its tool', async ({ tools: claude }) => {
    const manager = await open(claude, { timeoutMs: 8000 });
    const session = await manager.spawnAgentSession('ToolAgent', 'run the tool', context(claude));
    const tool = await toolPid(claude);
    expect(await manager.waitForAgent(session.id)).toMatchObject({ status: 'Failed', error: expect.stringMatching(/timed out after 8000 ms/) });
    expect(pidAlive(tool)).toBe(false);
    await manager.close();
  });

  it('an agent killed from outside does not leave its tool running (init adopted it)', async ({ tools: claude }) => {
    const manager = await open(claude);
    const session = await manager.spawnAgentSession('ToolAgent', 'run the tool', context(claude));
    const tool = await toolPid(claude);
    process.kill((await manager.getSession(session.id))!.agent!.process.pid, 'SIGKILL');
    expect(await manager.waitForAgent(session.id)).toMatchObject({ status: 'Failed', error: expect.stringContaining('SIGKILL') });
    expect(pidAlive(tool)).toBe(false);
    await manager.close();
  });

  it('a manager ended by SIGTERM takes the agent and its tool with it', async ({ tools: claude }) => {
    const { child, lines, exited } = startChild('run-claude-agent', [claude.store, claude.dir, claude.home(), claude.api.url]);
    await waitFor(() => lines.some((l) => l.startsWith('started ')), 30_000, 'the manager to start an agent');
    const tool = await toolPid(claude);
    child.kill('SIGTERM');
    expect((await exited).signal).toBe('SIGTERM');
    await gone(tool);
  });
});
