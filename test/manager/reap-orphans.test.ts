import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionManager } from '../../src/index.js';
import { decideAgentStarted, type DecisionClock } from '../../src/manager/decide.js';
import type { SupervisorRecorder } from '../../src/manager/agent-supervisor.js';
import type { AppendRequest } from '../../src/store/event-store.js';
import type { Session } from '../../src/domain/session.js';
import { hostName } from '../../src/process/process-identity.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { logEvents } from '../helpers/log-files.js';

/** What a test does while the reaper stops what is left of an orphan (another manager's doing, say). */
const whileStopping: { run: (() => Promise<void>) | null } = { run: null };

vi.mock('../../src/manager/orphans.js', async (original) => {
  const real = await original<typeof import('../../src/manager/orphans.js')>();
  return {
    ...real,
    stopOrphan: async (session: Session, graceMs: number) => {
      await whileStopping.run?.();
      return real.stopOrphan(session, graceMs);
    },
  };
});

type Internals = { execute(decide: (clock: DecisionClock) => AppendRequest): Promise<unknown>; state: { sessions: ReadonlyMap<string, Session> }; agentRecorder(): SupervisorRecorder };

/*
 * The reaper fails an orphan (an Active session whose agent's manager died) after stopping what
 * is left of it, which takes up to two seconds. A manager that adopted the agent may record the
 * agent's good end meanwhile: the session must keep that end, not be failed on what the reaper
 * saw before.
 */
describe('reapOrphans', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    whileStopping.run = null;
  });
  afterEach(async () => {
    whileStopping.run = null;
    await cleanup();
  });

  /** A session whose agent ran on another host under a manager of this host that is gone (our pid with a start time not ours). */
  const orphanIn = async (manager: SessionManager): Promise<string> => {
    const session = await manager.spawnAgentSession('CodeGenAgent', 'Implement #42', contextFor());
    const data = {
      process: { host: 'build-7', pid: 4242, startTime: '1' },
      supervisor: { host: hostName(), pid: process.pid, startTime: '1' },
      command: ['claude', '-p'],
      cwd: '/w',
      logFile: '/w/agent.log',
      resumedFrom: null,
    };
    const internals = manager as unknown as Internals;
    await internals.execute((clock) => decideAgentStarted(internals.state.sessions, { id: session.id, data }, clock));
    return session.id;
  };

  it('fails an orphan as interrupted', async () => {
    const manager = await SessionManager.open(dir);
    const id = await orphanIn(manager);
    expect(await manager.reapOrphans()).toEqual([id]);
    expect(await manager.getSession(id)).toMatchObject({ status: 'Failed', error: expect.stringMatching(/^orphaned: /) });
    await manager.close();
  });

  it('leaves it as another manager left it when that one recorded the agent\'s end while the reaper stopped what was left', async () => {
    const manager = await SessionManager.open(dir);
    const id = await orphanIn(manager);
    whileStopping.run = async () => {
      whileStopping.run = null;
      const adopter = await SessionManager.open(dir);
      await (adopter as unknown as Internals).agentRecorder().finished(id, { ok: true, result: { success: true, output: 'done while the reaper looked away' } });
      await adopter.close();
      // The reaper's manager hears of it (its state's objects change in place).
      await manager.getSession(id);
    };
    expect(await manager.reapOrphans()).toEqual([]);
    expect(await manager.getSession(id)).toMatchObject({ status: 'Active', result: { success: true, output: 'done while the reaper looked away' } });
    expect((await logEvents(dir)).map((e) => e['type'])).toEqual(['SessionSpawned', 'SessionAgentStarted', 'SessionAgentFinished']);
    await manager.close();
  });
});
