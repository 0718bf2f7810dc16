import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClaudeRunner, SessionManager, type ClaudeRunnerOptions } from '../../src/index.js';
import { pidAlive } from '../../src/process/process-identity.js';
import { useProcessBackend } from '../../src/process/process-backend.js';
import { childScript, pollFor, startChild, waitFor } from '../helpers/children.js';
import { tempDir } from '../helpers/fixtures.js';

const alive = pidAlive;

/** The fake agent CLI (prints stream-json like Claude Code), run with node. */
function fakeAgent(mode: string, extra: ClaudeRunnerOptions = {}): ClaudeRunner {
  return new ClaudeRunner({
    command: process.execPath,
    args: ({ prompt, sessionId }) => [childScript('fake-agent'), '--session-id', sessionId, prompt],
    env: { FAKE_AGENT_MODE: mode },
    killGraceMs: 300,
    ...extra,
  });
}

/** The pid of the grandchild the sleeping fake agent reports in its log. */
function grandchildOf(manager: SessionManager, id: string): Promise<number> {
  return pollFor(async () => {
    const text = await readFile(manager.logFileOf(id), 'utf8').catch(() => '');
    const pid = /grandchild (\d+)/.exec(text)?.[1];
    return pid === undefined ? undefined : Number(pid);
  }, 10_000, 'the agent to start its grandchild');
}

// Every case on both process backends: /proc, and ps (what macOS and the BSDs use), forced here.
for (const backend of ['proc', 'ps'] as const) describe(`agent processes (${backend} backend)`, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let manager: SessionManager | null = null;
  let restoreBackend: () => void;
  const context = () => ({ issueNumber: 7, currentPhase: 'Test' as const, worktreePath: dir });
  beforeEach(async () => {
    restoreBackend = useProcessBackend(backend);
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await manager?.close();
    manager = null;
    restoreBackend();
    await cleanup();
  });

  it('runs 8 agents with a limit of 4: never more than 4 at once, all completed', async () => {
    const runner = fakeAgent('ok', { maxConcurrent: 4, completeOnSuccess: true });
    manager = await SessionManager.open(join(dir, 'store'), { runner });
    const sessions = await Promise.all(Array.from({ length: 8 }, (_, i) => manager!.spawnAgentSession(`Agent${i}`, `task ${i}`, context())));
    const ended = await Promise.all(sessions.map((s) => manager!.waitForAgent(s.id)));
    expect(runner.slots.highWater).toBe(4);
    for (const [i, s] of ended.entries()) {
      expect(s.status).toBe('Completed');
      expect(s.result?.output).toBe(`You are Agent${i}, working on GitHub issue #7 in the Test phase.`);
    }
  });

  it('passes only allowlisted variables and the ones given, so the manager\'s secrets stay home', async () => {
    process.env['MIYABI_TEST_SECRET'] = 'hunter2';
    try {
      manager = await SessionManager.open(join(dir, 'store'), { runner: fakeAgent('env') });
      const s = await manager.spawnAgentSession('EnvAgent', 'print env', context());
      const names = (await manager.waitForAgent(s.id)).result!.output.split(',');
      expect(names).toContain('PATH');
      expect(names).toContain('FAKE_AGENT_MODE');
      expect(names).not.toContain('MIYABI_TEST_SECRET');
    } finally {
      delete process.env['MIYABI_TEST_SECRET'];
    }
  });

  it('a command that does not exist fails the session with "command not found"', async () => {
    manager = await SessionManager.open(join(dir, 'store'), { runner: new ClaudeRunner({ command: join(dir, 'no-such-agent') }) });
    const s = await manager.spawnAgentSession('Ghost', 'p', context());
    expect(await manager.waitForAgent(s.id)).toMatchObject({ status: 'Failed', error: expect.stringContaining('command not found') });
  });

  it('a worktree that does not exist fails the session before anything starts', async () => {
    manager = await SessionManager.open(join(dir, 'store'), { runner: fakeAgent('ok') });
    const s = await manager.spawnAgentSession('A', 'p', { ...context(), worktreePath: join(dir, 'missing') });
    expect(await manager.waitForAgent(s.id)).toMatchObject({ status: 'Failed', error: expect.stringContaining('does not exist') });
  });

  it('an agent announcing another session id is stopped and its session failed', async () => {
    manager = await SessionManager.open(join(dir, 'store'), { runner: fakeAgent('wrong-id') });
    const s = await manager.spawnAgentSession('A', 'p', context());
    expect(await manager.waitForAgent(s.id)).toMatchObject({ status: 'Failed', error: expect.stringContaining('announced session id') });
  });

  it('an agent killed from outside fails its session with the signal', async () => {
    manager = await SessionManager.open(join(dir, 'store'), { runner: fakeAgent('sleep') });
    const s = await manager.spawnAgentSession('A', 'p', context());
    const running = await pollFor(async () => (await manager!.getSession(s.id))?.agent, 10_000, 'the agent to start');
    await grandchildOf(manager, s.id);
    process.kill(running.process.pid, 'SIGKILL');
    expect(await manager.waitForAgent(s.id)).toMatchObject({ status: 'Failed', error: expect.stringContaining('SIGKILL') });
  });

  it('closing the manager stops every running agent and its children, and fails their sessions', async () => {
    const store = join(dir, 'store');
    manager = await SessionManager.open(store, { runner: fakeAgent('sleep') });
    const sessions = await Promise.all([1, 2, 3].map((i) => manager!.spawnAgentSession(`A${i}`, 'p', context())));
    const pids: number[] = [];
    for (const s of sessions) pids.push(await grandchildOf(manager, s.id));
    await manager.close();
    manager = null;
    for (const pid of pids) expect(alive(pid), `grandchild ${pid} is gone`).toBe(false);
    const reopened = await SessionManager.open(store);
    for (const s of sessions) {
      const ended = (await reopened.getSession(s.id))!;
      expect(ended.status).toBe('Failed');
      expect(ended.error).toMatch(/session manager was closed/);
      expect(alive(ended.agent!.process.pid)).toBe(false);
    }
    await reopened.close();
  });

  it('an AbortSignal stops the agent and fails its session as aborted', async () => {
    manager = await SessionManager.open(join(dir, 'store'), { runner: fakeAgent('sleep') });
    const controller = new AbortController();
    const s = await manager.spawnAgentSession('A', 'p', context(), { signal: controller.signal });
    const grandchild = await grandchildOf(manager, s.id);
    controller.abort(new Error('user pressed stop'));
    expect(await manager.waitForAgent(s.id)).toMatchObject({ status: 'Failed', error: 'aborted: user pressed stop' });
    expect(alive(grandchild)).toBe(false);
  });

  it('a manager process ended by SIGTERM takes its agents with it', async () => {
    const { child, lines, exited } = startChild('run-agent', [join(dir, 'store'), dir]);
    await waitFor(() => lines.some((l) => l.startsWith('started ')), 20_000, 'the manager to start an agent');
    const agentPid = Number(lines.find((l) => l.startsWith('started '))!.split(' ')[2]);
    child.kill('SIGTERM');
    expect((await exited).signal).toBe('SIGTERM');
    await pollFor(async () => (alive(agentPid) ? undefined : true), 5000, `agent ${agentPid} to be gone`);
  });

  /** A manager process that started a sleeping agent (and its grandchild), killed with SIGKILL. */
  async function crashedManager(store: string): Promise<{ sessionId: string; agentPid: string }> {
    const { child, lines } = startChild('run-agent', [store, dir]);
    await waitFor(() => lines.some((l) => l.startsWith('started ')), 20_000, 'the manager to start an agent');
    const [, sessionId, agentPid] = lines.find((l) => l.startsWith('started '))!.split(' ') as [string, string, string];
    await pollFor(async () => ((await readFile(join(store, 'logs', `${sessionId}.log`), 'utf8').catch(() => '')).includes('grandchild') ? true : undefined), 10_000, 'the agent to be running');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    return { sessionId, agentPid };
  }

  it('a manager killed with SIGKILL leaves its agent running: the next manager with a runner adopts it, and its close() stops it', async () => {
    const store = join(dir, 'store');
    const { sessionId, agentPid } = await crashedManager(store);
    expect(alive(Number(agentPid))).toBe(true);
    manager = await SessionManager.open(store, { runner: fakeAgent('ok') });
    expect(manager.openReport).toMatchObject({ orphaned: [], adopted: [sessionId] });
    expect(alive(Number(agentPid))).toBe(true);
    expect((await manager.getSession(sessionId!))?.status).toBe('Active');
    await manager.close();
    manager = null;
    expect(alive(Number(agentPid))).toBe(false);
    const reopened = await SessionManager.open(store);
    expect(await reopened.getSession(sessionId!)).toMatchObject({ status: 'Failed', error: expect.stringMatching(/session manager was closed/) });
    await reopened.close();
  });

  it('a runner that cannot adopt stops the orphaned agent and fails its session', async () => {
    const store = join(dir, 'store');
    const { sessionId, agentPid } = await crashedManager(store);
    const runner = fakeAgent('ok');
    const noAdoption = { forksOnHandoff: runner.forksOnHandoff, completeOnSuccess: runner.completeOnSuccess, run: runner.run.bind(runner) };
    manager = await SessionManager.open(store, { runner: noAdoption });
    expect(manager.openReport.orphaned).toEqual([sessionId]);
    expect(await manager.getSession(sessionId!)).toMatchObject({ status: 'Failed', error: expect.stringMatching(/^orphaned: .*the agent was stopped/) });
    expect(alive(Number(agentPid))).toBe(false);
  });
});
