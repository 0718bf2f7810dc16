import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { approvePipeline, type SessionEvent } from '../../src/index.js';
import { auditStore } from '../../src/audit/audit-log.js';
import { storeFromSpec } from '../../src/cli/open-store.js';
import { pollFor, startChild } from '../helpers/children.js';
import { realClaude, type ScriptedApi } from '../helpers/real-claude.js';
import { STORE_SPECS, eventsOfSpec, openSpec } from '../helpers/stores.js';
import { lastUserText } from '../helpers/claude-env.js';

/*
 * A $0.05 pipeline of two steps whose agents each cost $0.03 (the scripted API reports 1,500
 * output tokens a reply, which the real CLI prices at $0.030048): step 2 runs with its CLI's cap
 * set to what is left ($0.019952), the CLI stops it there, and the pipeline waits, not Failed.
 * Its manager is killed with SIGKILL while it waits; a new one resumes it still waiting; an
 * approval adding $0.10 lets step 2 go on from its own conversation, and the pipeline completes.
 */
describe.each(STORE_SPECS)('a budget that pauses instead of failing ($name store, real CLI)', (kind) => {
  let claude: Awaited<ReturnType<typeof realClaude>>;
  let api: ScriptedApi;
  let store: { spec: string; drop: () => Promise<void> };
  beforeEach(async () => {
    claude = await realClaude();
    api = claude.api;
    claude.reply = (request) => ({ text: `${/You are (\w+)/.exec(lastUserText(request.body))?.[1] ?? 'agent'}: step done`, outputTokens: 1500 });
    store = kind.spec(claude.dir);
  });
  afterEach(async () => {
    await claude.teardown();
    await store.drop();
  });

  const host = (...args: string[]) => startChild('governed-host', [store.spec, join(claude.dir, 'cache'), claude.dir, claude.home(), api.url, ...args]);
  const openManager = () => openSpec(store.spec, join(claude.dir, 'cache-test'));
  const logEvents = () => eventsOfSpec(store.spec);
  const ofType = (events: SessionEvent[], type: SessionEvent['type']) => events.filter((e) => e.type === type);

  it('step 2 stops at its cap and the pipeline waits; killed and resumed it still waits; approving $0.10 more completes it', async () => {
    const first = host('run');
    const root = await pollFor(async () => first.lines.find((l) => l.startsWith('root '))?.slice(5), 60_000, 'the root');
    const waiting = await pollFor(async () => ofType(await logEvents(), 'PipelineWaiting')[0], 90_000, 'the pipeline to wait');
    first.child.kill('SIGKILL');
    await first.exited;

    // Waiting, not Failed: step 2 failed `capped` at its CLI's budget, nothing was rejected.
    expect(waiting).toMatchObject({ type: 'PipelineWaiting', data: { rootId: root, reason: 'budget', step: 1 } });
    let events = await logEvents();
    const capped = ofType(events, 'SessionFailed');
    expect(capped).toHaveLength(1);
    expect(capped[0]).toMatchObject({ sessionId: waiting.type === 'PipelineWaiting' ? waiting.data.sessionId : '', data: { capped: 'budget' } });
    expect(capped[0]!.type === 'SessionFailed' && capped[0]!.data.error).toMatch(/Reached maximum budget/);
    expect(ofType(events, 'PipelineRejected')).toHaveLength(0);
    const starts = ofType(events, 'SessionAgentStarted');
    // Step 1 ran with the pipeline's $0.05, step 2 with what was left of it.
    const capOf = (e: SessionEvent) => (e.type === 'SessionAgentStarted' ? Number(e.data.command[e.data.command.indexOf('--max-budget-usd') + 1]) : NaN);
    expect(starts.map(capOf)).toEqual([0.05, expect.closeTo(0.019952, 5)]);
    expect(api.requests).toHaveLength(2);

    // A manager resuming it finds it waiting and runs nothing.
    const resumed = host('resume', root);
    await new Promise((r) => setTimeout(r, 1500));
    expect(api.requests).toHaveLength(2);
    expect(ofType(await logEvents(), 'PipelineWaiting')).toHaveLength(1);

    const manager = await openManager();
    try {
      const answered = await approvePipeline(manager, root, { addBudgetUsd: 0.1, by: 'alice' });
      expect(answered.answer).toMatchObject({ approved: true, by: 'alice', addBudgetUsd: 0.1 });
    } finally {
      await manager.close();
    }
    const end = await resumed.exited;
    expect(end.code, end.stderr).toBe(0);
    const result = JSON.parse(resumed.lines.find((l) => l.startsWith('result '))!.slice(7)) as { status: string };
    expect(result).toEqual({ status: 'Completed', sessions: [['CodeGenAgent', 'HandedOff'], ['ReviewAgent', 'Completed']], retried: [['ReviewAgent', 'Failed', 'budget']] });

    events = await logEvents();
    const approved = ofType(events, 'PipelineApproved');
    expect(approved).toEqual([expect.objectContaining({ by: 'alice', data: { rootId: root, addBudgetUsd: 0.1 } })]);
    // The continuation is a new session linked to the stopped one, forked from its conversation, with what is left: 0.15 − 0.060096.
    const continued = ofType(events, 'SessionSpawned').at(-1)!;
    const stoppedId = capped[0]!.sessionId;
    expect(continued.type === 'SessionSpawned' && continued.data.retryOf).toBe(stoppedId);
    const lastStart = ofType(events, 'SessionAgentStarted').at(-1)!;
    expect(lastStart.type === 'SessionAgentStarted' && lastStart.data.resumedFrom).toBe(stoppedId);
    expect(capOf(lastStart)).toBeCloseTo(0.089904, 5);
    // The continuation's request carries the stopped step's conversation.
    expect(JSON.stringify(api.requests[2]!.body['messages'])).toContain('ReviewAgent: step done');
    expect(api.requests).toHaveLength(3);
    // Each run's own cost is counted once: the CLI's totals of forked runs (0.060096, 0.090144) include their conversation's past.
    const reading = await openManager();
    try {
      expect((await reading.getStats()).totalCostUsd).toBeCloseTo(3 * 0.030048, 6);
      expect((await reading.getSession(continued.sessionId))?.result).toMatchObject({ totalCostUsd: expect.closeTo(0.090144, 6), runCostUsd: expect.closeTo(0.030048, 6) });
    } finally {
      await reading.close();
    }
    // Every event fits the rules: the audit reads the pipeline's stream too.
    const audited = storeFromSpec(store.spec);
    try {
      expect((await auditStore(audited)).findings).toEqual([]);
    } finally {
      await audited.close();
    }
  }, 180_000);
});
