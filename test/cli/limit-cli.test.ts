import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionManager } from '../../src/index.js';
import { decideQueued } from '../../src/pipeline/decide-pipeline.js';
import { FileSlotTable } from '../../src/store/file/file-slots.js';
import { SlotTable } from '../../src/store/slot-store.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';

/*
 * `miyabi-sessions limit` sets, shows and removes the store's concurrency limit; bad input
 * changes nothing. `pipeline status` shows a step that waits in the store's queue, with its place.
 */
describe('miyabi-sessions limit and a queued step in pipeline status', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => cleanup());

  it('sets, shows and removes the limit; refuses 0, fractions and bad agent limits with nothing written', async () => {
    const store = join(dir, 'store');
    const none = await runCli(['limit', '--dir', store]);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toMatch(/no concurrency limit/);
    for (const bad of [['0'], ['1.5'], ['-3'], ['two'], ['2', '--agent', 'DeployAgent'], ['2', '--agent', 'Bad Name=1'], ['2', '--agent', 'DeployAgent=0'], ['off', '--agent', 'A=1']]) {
      const refused = await runCli(['limit', ...bad, '--dir', store]);
      expect(refused.code, `${bad.join(' ')}: ${refused.stdout}`).not.toBe(0);
      expect(refused.stderr.length).toBeGreaterThan(0);
      expect(existsSync(join(store, 'slots.json')), bad.join(' ')).toBe(false);
    }
    const set = await runCli(['limit', '2', '--agent', 'DeployAgent=1', '--dir', store]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/concurrency limit: 2 agents at once, 1 DeployAgent at once/);
    const shown = JSON.parse((await runCli(['limit', '--json', '--dir', store])).stdout) as { limit: unknown; running: unknown[]; queue: unknown[] };
    expect(shown).toMatchObject({ limit: { limit: 2, perAgent: { DeployAgent: 1 } }, running: [], queue: [] });
    expect((await runCli(['limit', 'off', '--dir', store])).stdout).toMatch(/no concurrency limit/);
  });

  it('pipeline status names the step waiting for a slot, its place and the session it will run as', async () => {
    const store = join(dir, 'store');
    const manager = await SessionManager.open(store);
    const steps = [
      { agentName: 'CodeGenAgent', phase: 'CodeGeneration' as const },
      { agentName: 'ReviewAgent', phase: 'Review' as const },
    ];
    const root = await manager.spawnAgentSession('CodeGenAgent', 'queued', { issueNumber: 26, currentPhase: 'CodeGeneration', worktreePath: dir }, { pipelineSteps: steps });
    await manager.setConcurrencyLimit({ limit: 1 });
    // Step 1's agent holds the one slot; step 2 waits for it, as a manager's handoff would.
    const slots = new SlotTable(new FileSlotTable(store));
    const keeper = 'vm/1/-';
    expect(await slots.enter({ holder: root.id, agent: 'CodeGenAgent', pipeline: root.id, keeper, leaseMs: 60_000 })).toMatchObject({ granted: true });
    const next = uuidv4();
    expect(await slots.enter({ holder: next, agent: 'ReviewAgent', pipeline: root.id, keeper, leaseMs: 60_000 })).toEqual({ granted: false, position: 1, waiting: 1 });
    await manager.appendToPipeline(root.id, (stream, clock) => decideQueued(stream, { step: 1, sessionId: next, agentName: 'ReviewAgent', position: 1 }, clock));
    await manager.close();

    const status = await runCli(['pipeline', 'status', root.id, '--dir', store]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`step 2 (ReviewAgent) waits for a concurrency slot since`);
    expect(status.stdout).toContain(`place 1 of 1 in the store's queue, as session ${next}`);
    const json = JSON.parse((await runCli(['pipeline', 'status', root.id, '--json', '--dir', store])).stdout) as { queued: unknown[] };
    expect(json.queued).toEqual([expect.objectContaining({ step: 1, agentName: 'ReviewAgent', sessionId: next, place: 1, of: 1 })]);
    const watched = await runCli(['watch', '--from-start', '--count', '2', '--dir', store]);
    expect(watched.stdout).toMatch(/PipelineQueued .*step=2 agent=ReviewAgent position=1/);
  });
});
