import { spawn } from 'node:child_process';
import { describe, expect } from 'vitest';
import type { ClaudeRunnerOptions, SessionManager } from '../../src/index.js';
import { pidAlive } from '../../src/process/process-identity.js';
import { auditLog } from '../../src/audit/audit-log.js';
import type { ScriptedReply } from '../helpers/claude-env.js';
import { pollFor, startChild, waitFor } from '../helpers/children.js';
import { logEvents } from '../helpers/log-files.js';
import { test, type RealClaude } from '../helpers/real-claude.js';

/** A store whose manager was killed while its real agent ran, and what a test does with it. */
interface Orphaned {
  claude: RealClaude;
  /** The agent's pid, once {@link crashedManager} started it. */
  agentPid(): number;
  /** Starts a manager (a child process) with a real agent, waits for the agent to ask the API, kills the manager; resolves with the session id. */
  crashedManager(reply: ScriptedReply): Promise<string>;
  /** The next manager, which adopts what it finds. */
  adopter(options?: ClaudeRunnerOptions): Promise<SessionManager>;
  /** The log's event types, in order. */
  types(): Promise<unknown[]>;
}

/*
 * A manager (a child process) starts a real Claude Code agent against a scripted API that
 * answers slowly, and is killed with SIGKILL while the agent waits for its answer. The agent
 * writes its output to its log file itself, so it runs on; the next manager adopts it.
 */
describe('an agent outlives a manager killed with SIGKILL, and the next manager adopts it (real CLI)', () => {
  const it = test.extend<{ orphaned: Orphaned }>({
    orphaned: async ({ claude }, use) => {
      let agentPid = 0;
      try {
        await use({
          claude,
          agentPid: () => agentPid,
          crashedManager: async (reply) => {
            claude.reply = () => reply;
            const { child, lines } = startChild('run-claude-agent', [claude.store, claude.dir, claude.home(), claude.api.url]);
            await waitFor(() => lines.some((l) => l.startsWith('started ')), 30_000, 'the manager to start an agent');
            const [, sessionId, pid] = lines.find((l) => l.startsWith('started '))!.split(' ');
            agentPid = Number(pid);
            await waitFor(() => claude.api.requests.length > 0, 30_000, 'the agent to ask the API');
            child.kill('SIGKILL');
            await new Promise((r) => child.once('close', r));
            expect(pidAlive(agentPid), 'the agent runs on without its manager').toBe(true);
            return sessionId!;
          },
          adopter: (options = {}) => claude.open({ runner: { allowedTools: ['Bash'], killGraceMs: 1000, ...options } }),
          types: async () => (await logEvents(claude.store)).map((e) => e['type']),
        });
      } finally {
        if (agentPid > 0 && pidAlive(agentPid)) process.kill(agentPid, 'SIGKILL');
      }
    },
  });

  it('its answer is recorded once, by the adopter, with nothing started twice', async ({ orphaned: { claude, crashedManager, adopter, types } }) => {
    const id = await crashedManager({ text: 'ADOPTED-RESULT: done while the manager was dead', delayMs: 4000 });
    const manager = await adopter();
    expect(manager.openReport).toMatchObject({ adopted: [id], orphaned: [] });
    const ended = await manager.waitForAgent(id);
    expect(ended).toMatchObject({ status: 'Active', result: { success: true, output: 'ADOPTED-RESULT: done while the manager was dead' } });
    expect(ended.agent?.transcript).toMatchObject({ sha256: expect.any(String) });
    expect(await types()).toEqual(['SessionSpawned', 'SessionAgentStarted', 'SessionAgentFinished']);
    expect(claude.api.requests.length).toBe(1);
    expect((await auditLog(claude.store)).findings).toEqual([]);
    await manager.close();
  });

  it('two managers adopting the same agent at once record its end once', async ({ orphaned: { claude, crashedManager, adopter, types } }) => {
    const id = await crashedManager({ text: 'ONE END', delayMs: 4000 });
    const [a, b] = await Promise.all([adopter(), adopter()]);
    expect([...a.openReport.adopted, ...b.openReport.adopted]).toEqual([id, id]);
    await Promise.all([a.waitForAgent(id), b.waitForAgent(id)]);
    await pollFor(async () => ((await types()).includes('SessionAgentFinished') ? true : undefined), 10_000, 'the end to be recorded');
    expect((await types()).filter((t) => t === 'SessionAgentFinished')).toHaveLength(1);
    expect(claude.api.requests.length).toBe(1);
    await a.close();
    await b.close();
  });

  it('an agent that finished while no manager watched: the next manager reads its answer from its log and records it', async ({ orphaned: { claude, crashedManager, adopter, types, agentPid } }) => {
    const id = await crashedManager({ text: 'DONE-WHILE-NOBODY-WATCHED', delayMs: 500 });
    await pollFor(async () => (pidAlive(agentPid()) ? undefined : true), 30_000, 'the agent to finish');
    const manager = await adopter();
    const ended = await manager.waitForAgent(id);
    expect(ended).toMatchObject({ status: 'Active', result: { success: true, output: 'DONE-WHILE-NOBODY-WATCHED' } });
    expect(await types()).toEqual(['SessionSpawned', 'SessionAgentStarted', 'SessionAgentFinished']);
    expect(claude.api.requests.length).toBe(1);
    await manager.close();
  });

  it('an agent whose pid now belongs to another process is not adopted: that process is left alone, the session fails at once as interrupted', async ({ orphaned: { claude, adopter } }) => {
    claude.reply = () => ({ text: 'unused' });
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const { child, lines } = startChild('reused-pid-agent', [claude.store, claude.dir, String(stranger.pid)]);
      await waitFor(() => lines.some((l) => l.startsWith('started ')), 30_000, 'the manager to record its agent');
      const id = lines.find((l) => l.startsWith('started '))!.split(' ')[1]!;
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
      const manager = await adopter();
      const startedAt = Date.now();
      const ended = await manager.waitForAgent(id);
      expect(Date.now() - startedAt, 'not followed as if it were the agent').toBeLessThan(5000);
      expect(ended).toMatchObject({ status: 'Failed', interrupted: true, error: expect.stringMatching(/ended without a result line while its manager was gone/) });
      expect(pidAlive(stranger.pid!), 'the other process is never signalled').toBe(true);
      await manager.close();
      expect(pidAlive(stranger.pid!)).toBe(true);
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  it('an adopted agent keeps its deadline: past timeoutMs from its start it is stopped and its session failed', async ({ orphaned: { crashedManager, adopter, agentPid } }) => {
    const id = await crashedManager({ hang: true });
    const manager = await adopter({ timeoutMs: 6000 });
    const ended = await manager.waitForAgent(id);
    expect(ended.status).toBe('Failed');
    expect(ended.error).toMatch(/timed out after 6000 ms and was stopped \(adopted after its manager died\)/);
    expect(pidAlive(agentPid())).toBe(false);
    await manager.close();
  });
});
