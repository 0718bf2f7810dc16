import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionManager, pipelineIdOf } from '../../src/index.js';
import { decideApprove, decideWaiting } from '../../src/pipeline/decide-pipeline.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { logEvents } from '../helpers/log-files.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';

/*
 * A store holding a pipeline's own stream (a wait and its approval, hostile text in the wait's
 * detail) goes through every command that reads or carries events: replay, audit, at, export,
 * copy (to files and PostgreSQL), report, watch and pipeline status.
 */
describe('a pipeline stream in every reader', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let root: string;
  const store = () => join(dir, 'store');
  const hostile = 'budget \u001b[31mspent\u001b[0m <script>alert(1)</script>';
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    const manager = await SessionManager.open(store());
    try {
      const steps = [{ agentName: 'CodeGenAgent', phase: 'CodeGeneration' as const }, { agentName: 'ReviewAgent', phase: 'Review' as const }];
      const first = await manager.spawnAgentSession('CodeGenAgent', 'Resolve issue #7', { issueNumber: 7, currentPhase: 'CodeGeneration' }, { pipelineSteps: steps, pipelineGovernance: { budgetUsd: 1 } });
      root = first.id;
      await manager.failSession(root, 'Reached maximum budget', undefined);
      await manager.appendToPipeline(root, (stream, clock) => decideWaiting(stream, { reason: 'budget', step: 0, sessionId: root, detail: hostile }, clock));
      await manager.appendToPipeline(root, (stream, clock) => decideApprove(stream, { addBudgetUsd: 0.5, by: 'alice' }, clock));
      // A second approval of the same wait is refused: the stream is open again.
      await expect(manager.appendToPipeline(root, (stream, clock) => decideApprove(stream, { addBudgetUsd: 0.5 }, clock))).rejects.toThrow(/not waiting/);
    } finally {
      await manager.close();
    }
  });
  afterEach(() => cleanup());

  it('replay, audit, at, export, watch, report and status read it; copy carries it to files and PostgreSQL', async () => {
    const events = await logEvents(store());
    expect(events.map((e) => e['type'])).toEqual(['SessionSpawned', 'SessionFailed', 'PipelineWaiting', 'PipelineApproved']);
    expect(events[2]!['sessionId']).toBe(pipelineIdOf(root));
    for (const args of [['replay'], ['audit'], ['at', '3'], ['stats'], ['list']]) {
      const cli = await runCli([...args, '--dir', store()]);
      expect(cli.code, `${args.join(' ')}: ${cli.stderr}`).toBe(0);
    }
    const exported = await runCli(['export', '--format', 'ndjson', '--dir', store()]);
    expect(exported.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type)).toContain('PipelineApproved');
    const watched = await runCli(['watch', '--from-start', '--count', '4', '--dir', store()]);
    expect(watched.stdout).toMatch(/PipelineApproved by="alice" pipeline=.* add-budget=0.5/);
    // An agent's text is shown, never acted on: no escape reaches the terminal.
    expect(watched.stdout).not.toContain('\u001b');
    const report = await runCli(['report', '--out', join(dir, 'r.html'), '--dir', store()]);
    expect(report.code, report.stderr).toBe(0);
    const page = await readFile(join(dir, 'r.html'), 'utf8');
    expect(page).toMatch(/<h2>Waits for a person<\/h2>[\s\S]*budget[\s\S]*approved by alice at [^<]*, adding \$0\.5/);
    expect(page).not.toContain('<script>alert(1)');
    expect(page).toContain('&lt;script&gt;alert(1)');
    const status = await runCli(['pipeline', 'status', root, '--dir', store()]);
    expect(status.stdout).toMatch(/step 1 waited \(budget\) since .*; approved by alice at .* adding \$0.5/);
    expect(status.stdout).not.toContain('\u001b');
    const copied = await runCli(['copy', '--from', store(), '--to', join(dir, 'copy')]);
    expect(copied.code, copied.stderr).toBe(0);
    expect((await logEvents(join(dir, 'copy'))).map((e) => e['type'])).toEqual(events.map((e) => e['type']));
    const schema = freshSchema();
    try {
      const toPg = await runCli(['copy', '--from', store(), '--to', `${PG_URL}#${schema}`]);
      expect(toPg.code, toPg.stderr).toBe(0);
      const pgAudit = await runCli(['audit', '--store', `${PG_URL}#${schema}`]);
      expect(pgAudit.code, pgAudit.stdout + pgAudit.stderr).toBe(0);
      const pgStatus = await runCli(['pipeline', 'status', root, '--store', `${PG_URL}#${schema}`]);
      expect(pgStatus.stdout).toMatch(/approved by alice/);
    } finally {
      await dropSchema(schema);
    }
  }, 120_000);

  it('audit names a pipeline event out of its stream\'s order', async () => {
    const manager = await SessionManager.open(store());
    try {
      // Written past the rules by hand: an approval while nothing waits.
      const { encodeEventLine } = await import('../../src/store/file/line-codec.js');
      const { appendFile } = await import('node:fs/promises');
      const { crc: _crc, ...last } = (await logEvents(store())).at(-1)!;
      const line = encodeEventLine({ ...last, seq: 5, id: '0e7c8f8a-1a4b-4c2e-9d3f-5b6a7c8d9e0f' } as never);
      await manager.close();
      await appendFile(join(store(), 'events.ndjson'), line);
    } finally {
      await manager.close().catch(() => undefined);
    }
    const audit = await runCli(['audit', '--dir', store()]);
    expect(audit.code).toBe(1);
    expect(audit.stdout).toMatch(/PipelineApproved is not allowed: the pipeline is not waiting for approval/);
  }, 60_000);
});

describe('projectionSink', () => {
  it('answers a pipeline stream\'s revision with the events of it that it folded', async () => {
    const { projectionSink } = await import('../../src/projections/projection-sink.js');
    const { emptySessionsState } = await import('../../src/projections/sessions-projection.js');
    const { dir, cleanup } = await tempDir();
    try {
      const manager = await SessionManager.open(join(dir, 'store'));
      const root = await manager.spawnAgentSession('A', 'p', { issueNumber: 1, currentPhase: 'Review' }, { pipelineSteps: [{ agentName: 'A', phase: 'Review' }] });
      await manager.appendToPipeline(root.id, (stream, clock) => decideWaiting(stream, { reason: 'gate', step: 0, sessionId: root.id, detail: 'd' }, clock));
      await manager.appendToPipeline(root.id, (stream, clock) => decideApprove(stream, {}, clock));
      await manager.close();
      const events = await logEvents(join(dir, 'store'));
      const sink = projectionSink(emptySessionsState());
      // Fed one event at a time, as a store that commits each alone feeds it.
      for (const event of events) sink.apply([event as never]);
      expect(sink.revisionOf(pipelineIdOf(root.id))).toBe(2);
      expect(sink.revisionOf(root.id)).toBe(1);
    } finally {
      await cleanup();
    }
  });
});
