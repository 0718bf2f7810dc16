import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionManager } from '../../src/index.js';
import type { SupervisorRecorder } from '../../src/manager/agent-supervisor.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { logEvents } from '../helpers/log-files.js';

/*
 * The end of an agent's run is recorded once. Two managers may follow one orphaned agent: each
 * decided to adopt it before the other's claim of its slot showed. Under load the first recorded
 * the agent's good end and handed the slot back; the second then found no slot free, stopped
 * what it followed (already gone) and failed the session, so the pipeline waiting to hand off
 * from it found it Failed (test/process/concurrency-limit.test.ts, red once in six runs with
 * both cores busy).
 */
describe('the record of an agent run\'s end', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let manager: SessionManager;
  let recorder: SupervisorRecorder;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    manager = await SessionManager.open(dir);
    // The recorder a supervisor (launching or adopting an agent) records through.
    recorder = (manager as unknown as { agentRecorder(): SupervisorRecorder }).agentRecorder();
  });
  afterEach(async () => {
    await manager.close();
    await cleanup();
  });

  const started = async () => {
    const session = await manager.spawnAgentSession('CodeGenAgent', 'Implement #42', contextFor());
    await recorder.started(session.id, { pid: 4242, startTime: '1', command: ['claude', '-p'], cwd: '/w' }, null, manager.logFileOf(session.id));
    return session.id;
  };

  it('a second end of the same run, a failure, is refused once its good end is in the log: the session stays Active, ready to hand off', async () => {
    const id = await started();
    await recorder.finished(id, { ok: true, result: { success: true, output: 'step done' } });
    await expect(recorder.finished(id, { ok: false, error: 'the agent lost its concurrency slot while no manager followed it, and no slot is free' })).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
      sessionId: id,
    });
    expect(await manager.getSession(id)).toMatchObject({ status: 'Active', result: { success: true, output: 'step done' } });
    expect((await logEvents(dir)).map((e) => e['type'])).toEqual(['SessionSpawned', 'SessionAgentStarted', 'SessionAgentFinished']);
    // What the pipeline does next still can.
    await manager.handoff(id, 'ReviewAgent', contextFor('Review'));
  });

  it('a second good end of the same run is refused too', async () => {
    const id = await started();
    await recorder.finished(id, { ok: true, result: { success: true, output: 'first' } });
    await expect(recorder.finished(id, { ok: true, result: { success: true, output: 'second' } })).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    expect((await manager.getSession(id))?.result?.output).toBe('first');
  });

  it('a run that ends badly while it runs fails its session, as before', async () => {
    const id = await started();
    await recorder.finished(id, { ok: false, error: 'the agent exited 1', interrupted: true });
    expect(await manager.getSession(id)).toMatchObject({ status: 'Failed', error: 'the agent exited 1' });
  });

  it('a run whose start never reached the log may still fail its session (the CLI could not start)', async () => {
    const session = await manager.spawnAgentSession('CodeGenAgent', 'Implement #42', contextFor());
    await recorder.finished(session.id, { ok: false, error: 'spawn claude ENOENT' });
    expect((await manager.getSession(session.id))?.status).toBe('Failed');
  });
});
