import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionManager, type QueuedSlot } from '../../src/index.js';
import { FileSlotTable } from '../../src/store/file/file-slots.js';
import { SlotTable } from '../../src/store/slot-store.js';
import { keeperKey } from '../../src/domain/slot-table.js';
import { currentProcess } from '../../src/process/process-identity.js';
import { pollFor } from '../helpers/children.js';
import { fakeAgentRunner } from '../helpers/fake-runner.js';
import { tempDir } from '../helpers/fixtures.js';

/*
 * A manager under the store's concurrency limit: a spawn waits in the queue before anything is
 * written, gets the slot its turn brings, hands it back when its agent's end is recorded, and
 * stops an agent whose slot another holder took over (fencing).
 */
describe('the store concurrency limit in one manager', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const opened: SessionManager[] = [];
  const open = async (options: Parameters<typeof SessionManager.open>[1] = {}) => {
    const manager = await SessionManager.open(join(dir, 'store'), { runner: fakeAgentRunner('sleep'), slotPollMs: 50, ...options });
    opened.push(manager);
    return manager;
  };
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  const contextFor = (currentPhase: 'CodeGeneration' | 'Review' = 'CodeGeneration') => ({ issueNumber: 26, currentPhase, worktreePath: dir });
  afterEach(async () => {
    for (const manager of opened.splice(0)) await manager.close();
    await cleanup();
  });

  it('a spawn past the limit waits unwritten in the queue, and starts once the running agent ends', async () => {
    const manager = await open();
    await manager.setConcurrencyLimit({ limit: 1 });
    const first = await manager.spawnAgentSession('CodeGenAgent', 'first', contextFor());
    await pollFor(async () => (await manager.getSession(first.id))?.agent !== undefined || undefined, 20_000, 'the first agent to start');
    const secondId = uuidv4();
    const told: QueuedSlot[] = [];
    const second = manager.spawnAgentSession('ReviewAgent', 'second', contextFor('Review'), { sessionId: secondId, onQueued: (q) => void told.push(q) });
    await pollFor(async () => told.length === 1 || undefined, 10_000, 'the second spawn to queue');
    expect(told).toEqual([{ position: 1, waiting: 1 }]);
    // Waiting, it has not spawned: nothing of it is in the log.
    expect(await manager.getSession(secondId)).toBeUndefined();
    const view = await manager.concurrency();
    expect(view.limit).toEqual({ limit: 1 });
    expect(view.running.map((e) => e.holder)).toEqual([first.id]);
    expect(view.queue.map((e) => [e.holder, e.agent])).toEqual([[secondId, 'ReviewAgent']]);
    await manager.completeSession(first.id, { success: true, output: 'done' });
    const started = await second;
    expect(started.id).toBe(secondId);
    await pollFor(async () => (await manager.getSession(secondId))?.agent !== undefined || undefined, 20_000, 'the second agent to start');
    expect((await manager.concurrency()).running.map((e) => e.holder)).toEqual([secondId]);
    await manager.failSession(secondId, 'enough');
    // Its end recorded, its slot is free.
    await pollFor(async () => (await manager.concurrency()).running.length === 0 || undefined, 10_000, 'the slot to be handed back');
  });

  it('an agent whose slot was taken over by a newer token is stopped, its session failed as interrupted', async () => {
    const manager = await open({ slotLeaseMs: 300 });
    await manager.setConcurrencyLimit({ limit: 1 });
    const session = await manager.spawnAgentSession('CodeGenAgent', 'fenced', contextFor());
    await pollFor(async () => (await manager.getSession(session.id))?.agent !== undefined || undefined, 20_000, 'the agent to start');
    // Another manager (a host that judged the agent's manager gone) takes the slot over.
    const other = new SlotTable(new FileSlotTable(join(dir, 'store')));
    const here = keeperKey(currentProcess());
    expect(await other.claim({ holder: session.id, agent: 'CodeGenAgent', pipeline: null, keeper: 'elsewhere/1/-', leaseMs: 10_000 }, here)).toMatchObject({ token: expect.any(Number) });
    const ended = await manager.waitForAgent(session.id);
    expect(ended.status).toBe('Failed');
    expect(ended.interrupted).toBe(true);
    expect(ended.error).toMatch(/lost its concurrency slot \(token \d+\) ran out or was taken over.*the agent was stopped/);
  });

  it('a spawn still waiting when its manager closes is refused CLOSED, with nothing written and its place given up', async () => {
    const holder = await open();
    await holder.setConcurrencyLimit({ limit: 2 });
    await holder.spawnAgentSession('CodeGenAgent', 'holds a slot', contextFor());
    // The closing manager runs an agent of its own, so its close takes a while (it stops it): the wait must not outrun it.
    const waiter = await open();
    const own = await waiter.spawnAgentSession('CodeGenAgent', 'holds the other slot', contextFor());
    await pollFor(async () => (await waiter.getSession(own.id))?.agent !== undefined || undefined, 20_000, 'its own agent to start');
    const id = uuidv4();
    const told: QueuedSlot[] = [];
    const waiting = waiter.spawnAgentSession('ReviewAgent', 'waits', contextFor('Review'), { sessionId: id, onQueued: (q) => void told.push(q) });
    await pollFor(async () => told.length === 1 || undefined, 10_000, 'the spawn to queue');
    const refused = waiting.then(() => null, (error: unknown) => error);
    await waiter.close();
    expect(await refused).toMatchObject({ code: 'CLOSED' });
    expect(await holder.getSession(id)).toBeUndefined();
    expect((await holder.concurrency()).queue).toHaveLength(0);
  });

  it('refuses a bad lease or poll time before anything is created', async () => {
    for (const bad of [{ slotLeaseMs: 10 }, { slotLeaseMs: 1.5e9 }, { slotLeaseMs: '30000' }, { slotPollMs: 0 }, { slotPollMs: -5 }]) {
      await expect(SessionManager.open(join(dir, 'refused'), bad as never), JSON.stringify(bad)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
    expect(existsSync(join(dir, 'refused'))).toBe(false);
  });

  it('an aborted wait gives up its place and starts nothing', async () => {
    const manager = await open();
    await manager.setConcurrencyLimit({ limit: 1 });
    const first = await manager.spawnAgentSession('CodeGenAgent', 'first', contextFor());
    const controller = new AbortController();
    const told: QueuedSlot[] = [];
    const second = manager.spawnAgentSession('ReviewAgent', 'second', contextFor('Review'), { signal: controller.signal, onQueued: (q) => void told.push(q) });
    await pollFor(async () => told.length === 1 || undefined, 10_000, 'the second spawn to queue');
    controller.abort();
    const aborted = await manager.waitForAgent((await second).id);
    expect(aborted.status).toBe('Failed');
    expect(aborted.agent).toBeUndefined();
    const view = await manager.concurrency();
    expect(view.queue).toHaveLength(0);
    expect(view.running.map((e) => e.holder)).toEqual([first.id]);
  });
});
