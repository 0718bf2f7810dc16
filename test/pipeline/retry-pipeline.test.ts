import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { retryIdOf, runPipeline, type SessionManager } from '../../src/index.js';
import { auditLog } from '../../src/audit/audit-log.js';
import { pidAlive } from '../../src/process/process-identity.js';
import { pollFor, startChild } from '../helpers/children.js';
import { logEvents } from '../helpers/log-files.js';
import { namedStepDone, realClaude, type ScriptedApi } from '../helpers/real-claude.js';

const steps = [
  { agentName: 'CodeGenAgent', phase: 'CodeGeneration' as const },
  { agentName: 'ReviewAgent', phase: 'Review' as const },
];

/*
 * Real Claude Code agents against a scripted API that answers after a while. A step's agent is
 * killed from outside (alone, or with its manager: a machine gone); the step must run again as
 * a new session, never a second agent under the same session id.
 */
describe('a step whose work was interrupted runs again as a new session (real CLI)', () => {
  let claude: Awaited<ReturnType<typeof realClaude>>;
  let dir: string;
  let api: ScriptedApi;
  let manager: SessionManager | null = null;
  const store = () => join(dir, 'store');
  beforeEach(async () => {
    claude = await realClaude();
    claude.reply = namedStepDone(1500);
    ({ dir, api } = claude);
  });
  afterEach(async () => {
    manager = null;
    await claude.teardown();
  });

  const agentStarts = async () => (await logEvents(store())).filter((e) => e['type'] === 'SessionAgentStarted') as Array<{ sessionId: string; data: { process: { pid: number } } }>;
  /** Waits for agent start number `n` and for that agent to ask the API; resolves with its pid. */
  async function agentAsking(n: number): Promise<number> {
    const started = await pollFor(async () => (await agentStarts())[n - 1], 60_000, `agent start #${n}`);
    await pollFor(async () => (api.requests.length >= n ? true : undefined), 60_000, `agent #${n} to ask the API`);
    return started.data.process.pid;
  }
  const open = async () => (manager = await claude.open());

  it('an agent killed with SIGKILL: its step runs again as a new session, from the same conversation, and the pipeline completes', async () => {
    await open();
    const run = runPipeline(manager!, { issueNumber: 7, worktreePath: dir, steps });
    process.kill(await agentAsking(2), 'SIGKILL');
    const result = await run;
    expect(result.status, result.error).toBe('Completed');
    expect(result.sessions.map((s) => [s.agentName, s.status])).toEqual([['CodeGenAgent', 'HandedOff'], ['ReviewAgent', 'Completed']]);
    expect(result.retried.map((s) => [s.agentName, s.status, s.interrupted])).toEqual([['ReviewAgent', 'Failed', true]]);
    expect(result.retried[0]!.error).toMatch(/killed by SIGKILL/);
    const [failed, retry] = [result.retried[0]!, result.sessions[1]!];
    expect(retry).toMatchObject({ id: retryIdOf(failed.id), retryOf: failed.id, parentSession: failed.id, context: failed.context });
    expect((await manager!.getSessionLineage(retry.id)).map((s) => s.id)).toEqual([result.sessions[0]!.id, failed.id, retry.id]);
    // Never two agents under one session id; the retry continues the conversation the failed attempt continued.
    const starts = await agentStarts();
    expect(starts.map((e) => e.sessionId)).toEqual([result.sessions[0]!.id, failed.id, retry.id]);
    expect(retry.agent?.resumedFrom).toBe(result.sessions[0]!.id);
    const assistant = (api.requests.at(-1)!.body['messages'] as Array<{ role: string; content: unknown }>).filter((m) => m.role === 'assistant');
    expect(JSON.stringify(assistant)).toContain('CodeGenAgent: step done');
    expect(api.requests).toHaveLength(3);
    expect((await auditLog(store())).findings).toEqual([]);
  }, 120_000);

  it('with maxRetries 0 the interrupted step fails the pipeline, and nothing runs again', async () => {
    await open();
    const run = runPipeline(manager!, { issueNumber: 7, worktreePath: dir, steps, maxRetries: 0 });
    process.kill(await agentAsking(1), 'SIGKILL');
    const result = await run;
    expect(result).toMatchObject({ status: 'Failed', retried: [], error: expect.stringMatching(/killed by SIGKILL/) });
    expect(await agentStarts()).toHaveLength(1);
    expect((await logEvents(store())).filter((e) => e['type'] === 'SessionSpawned')).toHaveLength(1);
  }, 120_000);

  it('its machine gone (manager and agent killed): the resumed pipeline runs the step again as a new session', async () => {
    const host = (...args: string[]) => startChild('pipeline-host', [store(), dir, join(dir, 'home'), api.url, ...args]);
    const first = host('run');
    const agent = await agentAsking(2);
    first.child.kill('SIGKILL');
    process.kill(agent, 'SIGKILL');
    await new Promise((r) => first.child.once('close', r));
    await pollFor(async () => (pidAlive(agent) ? undefined : true), 10_000, 'the agent to be gone');
    const root = first.lines.find((l) => l.startsWith('root '))!.slice(5);
    const resumed = host('resume', root);
    const { code, stderr } = await resumed.exited;
    expect(code, stderr).toBe(0);
    const result = JSON.parse(resumed.lines.find((l) => l.startsWith('result '))!.slice(7)) as Record<string, unknown>;
    expect(result).toMatchObject({
      status: 'Completed',
      sessions: [['CodeGenAgent', 'HandedOff'], ['ReviewAgent', 'HandedOff'], ['TestAgent', 'Completed']],
      retried: [['ReviewAgent', 'Failed']],
    });
    const starts = (await agentStarts()).map((e) => e.sessionId);
    expect(new Set(starts).size).toBe(starts.length);
    expect(starts).toHaveLength(4);
    expect(api.requests).toHaveLength(4);
    expect((await logEvents(store())).find((e) => e['type'] === 'SessionFailed')?.['data']).toMatchObject({ interrupted: true, error: expect.stringMatching(/^orphaned: .*the agent is gone|ended without a result line/) });
    expect((await auditLog(store())).findings).toEqual([]);
  }, 120_000);
});
