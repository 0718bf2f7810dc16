import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { SessionManager, approvePipeline, isSessionError, rejectPipeline, runPipeline, type PipelineResult } from '../../src/index.js';
import { auditLog } from '../../src/audit/audit-log.js';
import { pollFor } from '../helpers/children.js';
import { logEvents } from '../helpers/log-files.js';
import { runCli } from '../helpers/cli.js';
import { test } from '../helpers/real-claude.js';

const gated = [
  { agentName: 'CodeGenAgent', phase: 'CodeGeneration' as const },
  { agentName: 'DeployAgent', phase: 'CICD' as const, approval: true },
];
const noManagerYet = (store: string) => SessionManager.open(store);
const waitingOf = async (store: string) => (await logEvents(store)).find((e) => e['type'] === 'PipelineWaiting');

describe('approval gates (real CLI)', () => {
  test('no request of the gated step reaches the API before approval; an approval then runs it and the pipeline completes', async ({ claude }) => {
    const manager = await claude.open();
    let root = '';
    const run = runPipeline(manager, { issueNumber: 26, worktreePath: claude.dir, steps: gated, onRoot: (id) => (root = id) });
    const waiting = await pollFor(() => waitingOf(claude.store), 60_000, 'the gate');
    expect(waiting).toMatchObject({ data: { rootId: root, reason: 'gate', step: 1 } });
    // Held at the gate: the step before it stays Active (its agent finished), the gated one was never spawned.
    await new Promise((r) => setTimeout(r, 700));
    expect(claude.api.requests).toHaveLength(1);
    expect((await manager.getSession(root))?.status).toBe('Active');
    expect((await manager.listSessions()).length).toBe(1);
    const other = await noManagerYet(claude.store);
    try {
      await approvePipeline(other, root, { by: 'carol' });
    } finally {
      await other.close();
    }
    const result: PipelineResult = await run;
    expect(result.status).toBe('Completed');
    expect(result.sessions.map((s) => [s.agentName, s.status])).toEqual([['CodeGenAgent', 'HandedOff'], ['DeployAgent', 'Completed']]);
    expect(claude.api.requests).toHaveLength(2);
    const events = await logEvents(claude.store);
    const approvedAt = events.findIndex((e) => e['type'] === 'PipelineApproved');
    expect(events[approvedAt]).toMatchObject({ by: 'carol' });
    // The gated step's session came after the approval.
    expect(events.findIndex((e) => e['type'] === 'SessionSpawned' && (e['data'] as { agentName: string }).agentName === 'DeployAgent')).toBeGreaterThan(approvedAt);
    expect((await auditLog(claude.store)).findings).toEqual([]);
  }, 120_000);

  test('a rejection ends the pipeline Failed with the reason, and the gated step never runs', async ({ claude }) => {
    const manager = await claude.open();
    let root = '';
    const run = runPipeline(manager, { issueNumber: 26, worktreePath: claude.dir, steps: gated, onRoot: (id) => (root = id) });
    await pollFor(() => waitingOf(claude.store), 60_000, 'the gate');
    // From the CLI, as a person would.
    const cli = await runCli(['pipeline', 'reject', root, '--reason', 'not before the freeze ends', '--by', 'dave', '--dir', claude.store]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/rejected by dave .*: not before the freeze ends/);
    const result = await run;
    expect(result).toMatchObject({ status: 'Failed', error: 'the pipeline was rejected: not before the freeze ends' });
    const codegen = await manager.getSession(root);
    expect(codegen).toMatchObject({ status: 'Failed', error: 'the pipeline was rejected: not before the freeze ends' });
    expect(claude.api.requests).toHaveLength(1);
    expect((await logEvents(claude.store)).find((e) => e['type'] === 'PipelineRejected')).toMatchObject({ by: 'dave', data: { reason: 'not before the freeze ends' } });
    // Answered once: a second answer is refused.
    await expect(approvePipeline(manager, root)).rejects.toSatisfy((e: unknown) => isSessionError(e, 'INVALID_TRANSITION'));
    const status = await runCli(['pipeline', 'status', root, '--dir', claude.store]);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/pipeline Failed: the pipeline was rejected: not before the freeze ends/);
    expect(status.stdout).toMatch(/step 2 waited \(gate\) since .*; rejected by dave/);
  }, 120_000);

  test('a gate nobody answers within approvalTimeoutMs is rejected by itself', async ({ claude }) => {
    const manager = await claude.open();
    const result = await runPipeline(manager, { issueNumber: 26, worktreePath: claude.dir, steps: gated, approvalTimeoutMs: 300 });
    expect(result.status).toBe('Failed');
    expect(result.error).toMatch(/^the pipeline was rejected: no answer within 300 ms \(approvalTimeoutMs\) to: step 2 \(DeployAgent\) requires approval$/);
    const rejected = (await logEvents(claude.store)).find((e) => e['type'] === 'PipelineRejected');
    expect(rejected).toBeDefined();
    expect(rejected!['by']).toBeUndefined();
    expect(claude.api.requests).toHaveLength(1);
  }, 120_000);

  test('bad input is a clear error and writes nothing', async ({ claude }) => {
    const manager = await claude.open();
    const bad: Array<[string, Parameters<typeof runPipeline>[1]]> = [
      ['negative budget', { purpose: 'x', budgetUsd: -1 }],
      ['non-numeric budget', { purpose: 'x', budgetUsd: 'ten' as unknown as number }],
      ['a step budget of 0', { purpose: 'x', steps: [{ agentName: 'A', phase: 'Review', budgetUsd: 0 }] }],
      ['turns of 0', { purpose: 'x', steps: [{ agentName: 'A', phase: 'Review', maxTurns: 0 }] }],
      ['a gate on the first step', { purpose: 'x', steps: [{ agentName: 'A', phase: 'Review', approval: true }] }],
      ['an unknown step option', { purpose: 'x', steps: [{ agentName: 'A', phase: 'Review', gate: true } as never] }],
      ['a webhook that is not http(s)', { purpose: 'x', webhooks: ['ftp://example.com/hook'] }],
      ['a webhook with credentials', { purpose: 'x', webhooks: ['https://user:secret@example.com/hook'] }],
      ['a zero approval timeout', { purpose: 'x', approvalTimeoutMs: 0 }],
    ];
    for (const [what, input] of bad) {
      await expect(runPipeline(manager, input), what).rejects.toSatisfy((e: unknown) => isSessionError(e, 'INVALID_INPUT'));
    }
    await expect(manager.spawnAgentSession('A', 'x', { issueNumber: 1, currentPhase: 'Review' }, { caps: { maxBudgetUsd: -0.5 } })).rejects.toSatisfy((e: unknown) => isSessionError(e, 'INVALID_INPUT'));
    await expect(manager.spawnAgentSession('A', 'x', { issueNumber: 1, currentPhase: 'Review' }, { caps: { maxTurns: 1.5 } })).rejects.toSatisfy((e: unknown) => isSessionError(e, 'INVALID_INPUT'));
    expect(await logEvents(claude.store)).toEqual([]);
    for (const args of [['--budget', '-1'], ['--budget', 'abc'], ['--steps', 'A:Review:gate'], ['--steps', 'A:Review:budget=-2']]) {
      const cli = await runCli(['pipeline', 'run', '--purpose', 'x', ...args, '--dir', claude.store]);
      expect(cli.code, args.join(' ')).toBe(2);
    }
    const web = await runCli(['pipeline', 'run', '--purpose', 'x', '--webhook', 'file:///etc/passwd', '--dir', claude.store]);
    // Checked by the library (INVALID_INPUT: refused), before anything is written.
    expect(web.code).toBe(4);
    expect(web.stderr).toMatch(/http\(s\) URL/);
    expect(await logEvents(claude.store)).toEqual([]);
    // Answers to a pipeline that does not wait, or to a session that is no pipeline's root.
    const lone = await manager.spawnAgentSession('A', 'x', { issueNumber: 1, currentPhase: 'Review' });
    await expect(approvePipeline(manager, lone.id)).rejects.toSatisfy((e: unknown) => isSessionError(e, 'INVALID_INPUT'));
    await expect(rejectPipeline(manager, join('nope'))).rejects.toSatisfy((e: unknown) => isSessionError(e, 'INVALID_INPUT'));
    const cli = await runCli(['pipeline', 'approve', lone.id, '--add-budget', '-3', '--dir', claude.store]);
    expect(cli.code).toBe(2);
  }, 120_000);
});
