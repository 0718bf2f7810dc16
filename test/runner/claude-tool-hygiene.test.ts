import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClaudeRunner, SessionManager, type ClaudeRunnerOptions } from '../../src/index.js';
import { pidAlive } from '../../src/store/file/process-identity.js';
import { claudeTestEnv } from '../../examples/claude-env.js';
import { startScriptedApi } from '../../examples/scripted-api-server.js';
import { pollFor, startChild, waitFor } from '../helpers/children.js';
import { tempDir } from '../helpers/fixtures.js';

/*
 * The real CLI runs its Bash tool in a shell of its own session (setsid), outside the agent's
 * process group. These tests make the scripted model ask for a Bash call that records its pid
 * and sleeps, then stop the agent every way a user can, and require that the tool is gone.
 */
describe('the real Claude Code CLI\'s tools never outlive the agent', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let api: Awaited<ReturnType<typeof startScriptedApi>>;
  const toolPidFile = () => join(dir, 'tool.pid');
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    api = await startScriptedApi((_, i) => (i === 0
      ? { toolUse: { name: 'Bash', input: { command: `echo $$ > ${toolPidFile()}; exec sleep 300`, description: 'a long tool' } } }
      : { text: 'done' }));
  });
  afterEach(async () => {
    // A failing run must not leave its five-minute sleep behind.
    const leaked = Number(await readFile(toolPidFile(), 'utf8').catch(() => ''));
    if (leaked > 0 && pidAlive(leaked)) process.kill(leaked, 'SIGKILL');
    await api.close();
    await cleanup();
  });

  const context = () => ({ issueNumber: 8, currentPhase: 'Test' as const, worktreePath: dir });
  const home = () => join(dir, 'home');
  async function open(options: ClaudeRunnerOptions = {}) {
    const runner = new ClaudeRunner({ inheritEnv: false, env: await claudeTestEnv(home(), api.url), allowedTools: ['Bash'], killGraceMs: 2000, ...options });
    return SessionManager.open(join(dir, 'store'), { runner });
  }
  /** The pid of the tool's `sleep`, once the CLI has started it. */
  const toolPid = () => pollFor(async () => {
    const text = await readFile(toolPidFile(), 'utf8').catch(() => '');
    return /^\d+\n$/.test(text) ? Number(text) : undefined;
  }, 30_000, 'the Bash tool to start');
  const gone = (pid: number) => pollFor(async () => (pidAlive(pid) ? undefined : true), 10_000, `tool pid ${pid} to be gone`);

  it('close() stops the agent and its tool', async () => {
    const manager = await open();
    const session = await manager.spawnAgentSession('ToolAgent', 'run the tool', context());
    const tool = await toolPid();
    expect(pidAlive(tool)).toBe(true);
    await manager.close();
    expect(pidAlive(tool)).toBe(false);
    const reopened = await SessionManager.open(join(dir, 'store'));
    expect(await reopened.getSession(session.id)).toMatchObject({ status: 'Failed', error: expect.stringMatching(/session manager was closed/) });
    await reopened.close();
  });

  it('an abort stops the agent and its tool', async () => {
    const manager = await open();
    const controller = new AbortController();
    const session = await manager.spawnAgentSession('ToolAgent', 'run the tool', context(), { signal: controller.signal });
    const tool = await toolPid();
    controller.abort(new Error('stop'));
    expect(await manager.waitForAgent(session.id)).toMatchObject({ status: 'Failed', error: 'aborted: stop' });
    expect(pidAlive(tool)).toBe(false);
    await manager.close();
  });

  it('a timeout stops the agent and its tool', async () => {
    const manager = await open({ timeoutMs: 8000 });
    const session = await manager.spawnAgentSession('ToolAgent', 'run the tool', context());
    const tool = await toolPid();
    expect(await manager.waitForAgent(session.id)).toMatchObject({ status: 'Failed', error: expect.stringMatching(/timed out after 8000 ms/) });
    expect(pidAlive(tool)).toBe(false);
    await manager.close();
  });

  it('an agent killed from outside does not leave its tool running (init adopted it)', async () => {
    const manager = await open();
    const session = await manager.spawnAgentSession('ToolAgent', 'run the tool', context());
    const tool = await toolPid();
    process.kill((await manager.getSession(session.id))!.agent!.process.pid, 'SIGKILL');
    expect(await manager.waitForAgent(session.id)).toMatchObject({ status: 'Failed', error: expect.stringContaining('SIGKILL') });
    expect(pidAlive(tool)).toBe(false);
    await manager.close();
  });

  it('a manager ended by SIGTERM takes the agent and its tool with it', async () => {
    const { child, lines, exited } = startChild('run-claude-agent', [join(dir, 'store'), dir, home(), api.url]);
    await waitFor(() => lines.some((l) => l.startsWith('started ')), 30_000, 'the manager to start an agent');
    const tool = await toolPid();
    child.kill('SIGTERM');
    expect((await exited).signal).toBe('SIGTERM');
    await gone(tool);
  });
});
