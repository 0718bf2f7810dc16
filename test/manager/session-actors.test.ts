import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClaudeRunner, SessionManager } from '../../src/index.js';
import { childScript, pollFor } from '../helpers/children.js';
import { tempDir } from '../helpers/fixtures.js';

/** An agent that starts and keeps running until it is stopped. */
const sleepingAgent = () =>
  new ClaudeRunner({
    command: process.execPath,
    args: ({ prompt, sessionId }) => [childScript('fake-agent'), '--session-id', sessionId, prompt],
    env: { FAKE_AGENT_MODE: 'sleep' },
    killGraceMs: 300,
  });

/** How many actors a manager has live (internal, to check what on-demand saves). */
const liveActors = (m: SessionManager) => (m as unknown as { actors: { size: number } }).actors.size;

describe('session actors, eager and on demand', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const managers: SessionManager[] = [];
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => {
    for (const m of managers.splice(0)) await m.close();
    await cleanup();
  });

  it('an on-demand actor starts when asked for, equals the eager one, and follows every later event to its end', async () => {
    const context = { issueNumber: 1, currentPhase: 'CodeGeneration' as const, worktreePath: dir };
    const eager = await SessionManager.open(dir, { actors: 'eager', runner: sleepingAgent(), checkpointIdleMs: -1 });
    managers.push(eager);
    const running = await eager.spawnAgentSession('CodeGenAgent', 'runs', context);
    await pollFor(async () => (await eager.getSession(running.id))?.agent, 10_000, 'the agent start to be recorded');
    const ended = await eager.spawnAgentSession('ReviewAgent', 'ends', context);
    await eager.failSession(ended.id, 'stopped on purpose');
    expect(liveActors(eager)).toBe(1);

    const onDemand = await SessionManager.open(dir, { checkpointIdleMs: -1 });
    managers.push(onDemand);
    expect(liveActors(onDemand)).toBe(0);
    const actor = onDemand.actorOf(running.id)!;
    expect(liveActors(onDemand)).toBe(1);
    expect(actor.getSnapshot().value).toBe('active');
    expect(actor.getSnapshot().context).toEqual(eager.actorOf(running.id)!.getSnapshot().context);
    expect(actor.getSnapshot().context.agent).toMatchObject({ finished: false });
    expect(actor.getSnapshot().can({ type: 'AGENT_STARTED', pid: 1, at: new Date().toISOString() })).toBe(false);
    expect(onDemand.actorOf(ended.id)).toBeUndefined();
    expect(onDemand.actorOf('not-a-session')).toBeUndefined();

    await eager.completeSession(running.id, { success: true, output: 'done' });
    await onDemand.refresh();
    expect(actor.getSnapshot().value).toBe('completed');
    expect(actor.getSnapshot().context.result).toEqual({ success: true, output: 'done' });
    expect(onDemand.actorOf(running.id)).toBeUndefined();
    expect(liveActors(onDemand)).toBe(0);
  });

  it('eager actors start for every Active session at open and at spawn', async () => {
    const context = { issueNumber: 1, currentPhase: 'Test' as const, worktreePath: '/w' };
    const first = await SessionManager.open(dir);
    for (let i = 0; i < 3; i += 1) await first.spawnAgentSession('A', `s${i}`, context);
    expect(liveActors(first)).toBe(0);
    await first.close();
    const eager = await SessionManager.open(dir, { actors: 'eager' });
    managers.push(eager);
    expect(liveActors(eager)).toBe(3);
    await eager.spawnAgentSession('A', 'one more', context);
    expect(liveActors(eager)).toBe(4);
  });
});
