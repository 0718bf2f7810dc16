import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resumePipeline } from '../../src/index.js';
import { auditLog } from '../../src/audit/audit-log.js';
import { pollFor, startChild, waitFor } from '../helpers/children.js';
import { logEvents } from '../helpers/log-files.js';
import { namedStepDone, realClaude, type ScriptedApi } from '../helpers/real-claude.js';

/*
 * Real Claude Code agents, a scripted API that answers after 2 s, and a manager process that
 * is killed with SIGKILL while each step's agent runs (and once between a step's end and its
 * handoff); each time a new process resumes the pipeline from the log.
 */
describe('a pipeline survives its manager being killed, and resumes from the log (real CLI)', () => {
  let claude: Awaited<ReturnType<typeof realClaude>>;
  let dir: string;
  let api: ScriptedApi;
  const store = () => join(dir, 'store');
  const home = () => claude.home();
  beforeEach(async () => {
    claude = await realClaude();
    claude.reply = namedStepDone(2000);
    ({ dir, api } = claude);
  });
  afterEach(() => claude.teardown());

  const host = (...args: string[]) => startChild('pipeline-host', [store(), dir, home(), api.url, ...args]);
  const agentStarts = async () => (await logEvents(store())).filter((e) => e['type'] === 'SessionAgentStarted').length;
  /** Kills the host with SIGKILL once the log shows the agent start number `starts`. */
  async function killWhenStarted(host: ReturnType<typeof startChild>, starts: number): Promise<void> {
    await pollFor(async () => ((await agentStarts()) >= starts ? true : undefined), 60_000, `agent start #${starts}`);
    host.child.kill('SIGKILL');
    await new Promise((r) => host.child.once('close', r));
  }

  /** A manager whose first step's agent finished, killed before it could hand off; resolves with the root's id. */
  async function crashedAfterFirstStep(): Promise<string> {
    const first = host('first-step');
    await waitFor(() => first.lines.includes('finished'), 60_000, 'the first step to finish');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('close', r));
    return first.lines.find((l) => l.startsWith('root '))!.slice(5);
  }

  it('killed while each of three steps runs: it completes, one session and one agent start per step, nothing failed', async () => {
    const first = host('run');
    await waitFor(() => first.lines.some((l) => l.startsWith('root ')), 30_000, 'the root to exist');
    const root = first.lines.find((l) => l.startsWith('root '))!.slice(5);
    await killWhenStarted(first, 1);
    let last = host('resume', root);
    await killWhenStarted(last, 2);
    last = host('resume', root);
    await killWhenStarted(last, 3);
    last = host('resume', root);
    const { code, stderr } = await last.exited;
    expect(code, stderr).toBe(0);
    const result = JSON.parse(last.lines.find((l) => l.startsWith('result '))!.slice(7)) as { status: string; sessions: string[][] };
    expect(result).toMatchObject({ status: 'Completed', sessions: [['CodeGenAgent', 'HandedOff'], ['ReviewAgent', 'HandedOff'], ['TestAgent', 'Completed']] });
    const events = await logEvents(store());
    expect(events.filter((e) => e['type'] === 'SessionAgentStarted')).toHaveLength(3);
    expect(events.filter((e) => e['type'] === 'SessionFailed')).toHaveLength(0);
    expect(events.filter((e) => e['type'] === 'SessionSpawned')).toHaveLength(3);
    expect(api.requests).toHaveLength(3);
    expect((await auditLog(store())).findings).toEqual([]);
  }, 120_000);

  it('killed between a step\'s end and its handoff: the resume hands off, and starts no agent twice', async () => {
    const root = await crashedAfterFirstStep();
    const resumed = host('resume', root);
    const { code, stderr } = await resumed.exited;
    expect(code, stderr).toBe(0);
    expect(resumed.lines.at(-1)).toMatch(/"status":"Completed".*\["CodeGenAgent","HandedOff"\],\["ReviewAgent","Completed"\]/);
    expect(await agentStarts()).toBe(2);
    expect(api.requests).toHaveLength(2);
  }, 120_000);

  it('two managers resuming it at once: one moves it on, the other follows or is told CONFLICT; still one agent per step', async () => {
    const root = await crashedAfterFirstStep();
    const ends = await Promise.all([host('resume', root), host('resume', root)].map((h) => h.exited.then((end) => ({ ...end, lines: h.lines }))));
    // Each either follows the other to the end, or loses a race for a move and is told so.
    for (const end of ends) {
      if (end.code === 0) expect(end.lines.at(-1)).toMatch(/"status":"Completed"/);
      else expect(end.stderr).toMatch(/another manager moved the pipeline of .* on first/);
    }
    expect(ends.some((end) => end.code === 0)).toBe(true);
    expect(await agentStarts()).toBe(2);
    expect(api.requests).toHaveLength(2);
  }, 120_000);

  it('bad input: an unknown root is NOT_FOUND, a session that is no pipeline root is INVALID_INPUT, a finished pipeline returns its result and runs nothing', async () => {
    const manager = await claude.open();
    await expect(resumePipeline(manager, '6f3d9a21-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(resumePipeline(manager, 'not-a-uuid')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const plain = await manager.spawnAgentSession('CodeGenAgent', 'not a pipeline', { issueNumber: 1, currentPhase: 'CodeGeneration', worktreePath: dir });
    await expect(resumePipeline(manager, plain.id)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await manager.waitForAgent(plain.id);
    await manager.close();

    const done = host('run');
    expect((await done.exited).code).toBe(0);
    const root = done.lines.find((l) => l.startsWith('root '))!.slice(5);
    const requests = api.requests.length;
    const again = host('resume', root);
    expect((await again.exited).code).toBe(0);
    expect(again.lines.at(-1)).toMatch(/"status":"Completed"/);
    expect(api.requests.length).toBe(requests);
  }, 120_000);
});
