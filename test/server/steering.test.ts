import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionManager, runPipeline, type Session } from '../../src/index.js';
import type { DashboardActions } from '../../src/server/actions.js';
import type { Dashboard } from '../../src/server/dashboard.js';
import { pollFor, startChild, waitFor } from '../helpers/children.js';
import { dashboardOn, fetchFrom, HOSTILE, postAction, storeWithRunningAgent } from '../helpers/dashboard.js';
import { fakeAgentRunner } from '../helpers/fake-runner.js';
import { tempDir } from '../helpers/fixtures.js';
import { logEvents } from '../helpers/log-files.js';

const STEPS = [
  { agentName: 'CodeGenAgent', phase: 'CodeGeneration' as const },
  { agentName: 'ReviewAgent', phase: 'Review' as const },
  { agentName: 'TestAgent', phase: 'Test' as const },
];

/** The events of the file store at `dir`, as stored. */
async function eventsOf(dir: string): Promise<Array<Record<string, unknown> & { type: string; sessionId: string; data: Record<string, unknown> }>> {
  return logEvents(dir);
}

describe("the dashboard's buttons: stop, retry, resume", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let dashboard: Dashboard | null = null;
  const managers: SessionManager[] = [];
  const open = async (options: Parameters<typeof SessionManager.open>[1] = {}) => {
    const manager = await SessionManager.open(dir, options);
    managers.push(manager);
    return manager;
  };
  const actionsOf = (manager: SessionManager, agents: boolean): DashboardActions => ({ manager: async () => manager, agents, localUser: 'local-tester' });
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await dashboard?.close();
    dashboard = null;
    for (const manager of managers.splice(0)) await manager.close();
    await cleanup();
  });

  /** A pipeline whose ReviewAgent failed by its own verdict (its error text hostile), its manager closed. */
  async function failedPipeline(): Promise<Session[]> {
    const manager = await SessionManager.open(dir, { runner: fakeAgentRunner('ok', { FAKE_AGENT_FAIL: 'ReviewAgent' }) });
    const run = await runPipeline(manager, { issueNumber: 31, worktreePath: dir, steps: STEPS, purpose: `fix ${HOSTILE}` });
    await manager.close();
    expect(run.status).toBe('Failed');
    return run.sessions;
  }

  it('read-only: no button on any page, and every POST is refused, writing nothing', async () => {
    const [, review] = await failedPipeline();
    const before = await readFile(join(dir, 'events.ndjson'), 'utf8');
    dashboard = await dashboardOn(dir);
    const page = await fetchFrom(dashboard.url, `/pipeline/${review!.id}`);
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('<form class="action"');
    for (const kind of ['retry', 'stop', 'resume']) expect((await postAction(dashboard.url, `/action/${kind}/${review!.id}`)).status).toBe(405);
    expect(await readFile(join(dir, 'events.ndjson'), 'utf8')).toBe(before);
  });

  it('an action must come from a page of this dashboard: no Origin, another origin, a null one, another form are refused', async () => {
    const [, review] = await failedPipeline();
    const before = await readFile(join(dir, 'events.ndjson'), 'utf8');
    dashboard = await dashboardOn(dir, { actions: actionsOf(await open({ runner: fakeAgentRunner('ok') }), true) });
    const path = `/action/retry/${review!.id}`;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect((await fetchFrom(dashboard.url, path, { method: 'POST', headers: form, body: '' })).status).toBe(403);
    expect((await fetchFrom(dashboard.url, path, { method: 'POST', headers: { ...form, origin: 'http://evil.example' }, body: '' })).status).toBe(403);
    expect((await fetchFrom(dashboard.url, path, { method: 'POST', headers: { ...form, origin: 'null' }, body: '' })).status).toBe(403);
    expect((await fetchFrom(dashboard.url, path, { method: 'POST', headers: { ...form, origin: `https://evil.example` }, body: '' })).status).toBe(403);
    expect((await fetchFrom(dashboard.url, path, { method: 'POST', headers: { ...form, origin: `ftp://${new URL(dashboard.url).host}` }, body: '' })).status).toBe(403);
    expect((await fetchFrom(dashboard.url, path, { method: 'POST', headers: { ...form, 'sec-fetch-site': 'cross-site' }, body: '' })).status).toBe(403);
    expect((await postAction(dashboard.url, path, {}, { 'content-type': 'application/json' })).status).toBe(400);
    expect((await postAction(dashboard.url, path, { reason: 'x'.repeat(5000) })).status).toBe(400);
    // A GET of an action's address acts on nothing.
    expect((await fetchFrom(dashboard.url, path)).status).toBe(405);
    expect(await readFile(join(dir, 'events.ndjson'), 'utf8')).toBe(before);
  });

  it('with tokens, an action needs one, and is recorded as done by the token\'s name', async () => {
    const [, review] = await failedPipeline();
    dashboard = await dashboardOn(dir, { tokens: ['alice=alice-secret-0123456789'], actions: actionsOf(await open({ runner: fakeAgentRunner('ok') }), true) });
    expect((await postAction(dashboard.url, `/action/retry/${review!.id}`)).status).toBe(401);
    // Behind a proxy that ends TLS, the page's origin is https on the same host.
    const done = await postAction(dashboard.url, `/action/retry/${review!.id}`, {}, { authorization: 'Bearer alice-secret-0123456789', origin: `https://${new URL(dashboard.url).host}` });
    expect(done.status).toBe(303);
    const retry = (await eventsOf(dir)).find((e) => e.type === 'SessionSpawned' && e.data['retryOf'] === review!.id);
    expect(retry?.['by']).toBe('alice');
  });

  it('retry: two posts at once make one retry session; the pipeline goes on after it to Completed', async () => {
    const [root, review] = await failedPipeline();
    const manager = await open({ runner: fakeAgentRunner('ok') });
    dashboard = await dashboardOn(dir, { actions: actionsOf(manager, true) });
    const page = await fetchFrom(dashboard.url, `/pipeline/${root!.id}`);
    expect(page.body).toContain(`action="/action/retry/${review!.id}"`);
    // A pipeline that failed by its agent's verdict is not resumed as it stands: only a retry moves it.
    expect(page.body).not.toContain('/action/resume/');
    const answers = await Promise.all([postAction(dashboard.url, `/action/retry/${review!.id}`), postAction(dashboard.url, `/action/retry/${review!.id}`)]);
    expect(answers.map((a) => a.status)).toEqual([303, 303]);
    expect(answers.map((a) => a.headers['location']).sort()).toEqual([`/pipeline/${root!.id}?acted=retried#steer`, `/pipeline/${root!.id}?acted=retried-already#steer`]);
    const done = await pollFor(async () => {
      const events = await eventsOf(dir);
      return events.some((e) => e.type === 'SessionCompleted') ? events : undefined;
    }, 20_000, 'the pipeline to complete after its retried step');
    const retries = done.filter((e) => e.type === 'SessionSpawned' && e.data['retryOf'] !== undefined);
    expect(retries.map((e) => [e.data['retryOf'], e['by']])).toEqual([[review!.id, 'local-tester']]);
    expect(done.filter((e) => e.type === 'SessionSpawned').map((e) => e.data['agentName'])).toEqual(['CodeGenAgent', 'ReviewAgent', 'ReviewAgent', 'TestAgent']);
    const after = await fetchFrom(dashboard.url, `/pipeline/${root!.id}?acted=retried`);
    expect(after.body).toContain('Retried: the new session runs its agent on this server');
    expect(after.body).toContain('started by <strong>local-tester</strong>');
    expect(after.body).not.toContain('<form class="action"');
  });

  it('a failed session of no pipeline is retried alone: nothing says a pipeline goes on', async () => {
    const recorder = await open();
    const lone = await recorder.spawnAgentSession('FixAgent', 'fix the flaky test', { issueNumber: 33, currentPhase: 'Test', worktreePath: dir });
    await recorder.failSession(lone.id, 'flaky');
    dashboard = await dashboardOn(dir, { actions: actionsOf(await open({ runner: fakeAgentRunner('ok') }), true) });
    const page = await fetchFrom(dashboard.url, `/pipeline/${lone.id}`);
    expect(page.body).toContain(`data-confirm="Run FixAgent (${lone.id.slice(0, 8)}) again as a new session?"`);
    expect((await postAction(dashboard.url, `/action/retry/${lone.id}`)).headers['location']).toBe(`/pipeline/${lone.id}?acted=retried-alone#steer`);
  });

  it('a notice is named by a code, never taken from the address', async () => {
    const [root] = await failedPipeline();
    dashboard = await dashboardOn(dir, { actions: actionsOf(await open(), false) });
    const page = await fetchFrom(dashboard.url, `/pipeline/${root!.id}?acted=${encodeURIComponent(HOSTILE)}`);
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('id="notice"');
    // Without agents on this server: no retry is offered, and one asked for is refused.
    expect(page.body).not.toContain('/action/retry/');
    expect((await postAction(dashboard.url, `/action/retry/${root!.id}`)).status).toBe(400);
  });

  it('resume: a pipeline whose manager closed between a step\'s end and its handoff is moved on to Completed, once', async () => {
    const first = await SessionManager.open(dir, { runner: fakeAgentRunner('ok') });
    const root = await first.spawnAgentSession('CodeGenAgent', 'Resolve issue #32', { issueNumber: 32, currentPhase: 'CodeGeneration', worktreePath: dir }, { pipelineSteps: STEPS.slice(0, 2) });
    await first.waitForAgent(root.id);
    await first.close();
    const manager = await open({ runner: fakeAgentRunner('ok') });
    dashboard = await dashboardOn(dir, { actions: actionsOf(manager, true) });
    expect((await fetchFrom(dashboard.url, `/pipeline/${root.id}`)).body).toContain(`action="/action/resume/${root.id}"`);
    const answers = await Promise.all([postAction(dashboard.url, `/action/resume/${root.id}`), postAction(dashboard.url, `/action/resume/${root.id}`)]);
    expect(answers.map((a) => a.headers['location']).sort()).toEqual([`/pipeline/${root.id}?acted=resuming#steer`, `/pipeline/${root.id}?acted=resuming-already#steer`]);
    const done = await pollFor(async () => {
      const events = await eventsOf(dir);
      return events.some((e) => e.type === 'SessionCompleted') ? events : undefined;
    }, 20_000, 'the resumed pipeline to complete');
    expect(done.filter((e) => e.type === 'SessionAgentStarted')).toHaveLength(2);
    expect(done.filter((e) => e['by'] === 'local-tester').map((e) => e.type)).toEqual(['SessionHandedOff', 'SessionSpawned', 'SessionCompleted']);
    // The server's run may still be in its last round when the completion is in the log: until it
    // ends a click is told it runs already (and starts nothing); then that the pipeline has ended.
    const after = await pollFor(async () => {
      const location = (await postAction(dashboard!.url, `/action/resume/${root.id}`)).headers['location'];
      return location === `/pipeline/${root.id}?acted=resuming-already#steer` ? undefined : location;
    }, 20_000, 'the server to finish moving the pipeline');
    expect(after).toBe(`/pipeline/${root.id}?acted=not-resumable#steer`);
    expect((await eventsOf(dir)).filter((e) => e.type === 'SessionAgentStarted')).toHaveLength(2);
  });

  it('a stop request no manager has carried out yet shows pending, with who asked, and no second button', async () => {
    const id = await storeWithRunningAgent(dir, 'working\n');
    dashboard = await dashboardOn(dir, { actions: actionsOf(await open(), false) });
    expect((await postAction(dashboard.url, `/action/stop/${id}`, { reason: `loops ${HOSTILE}` })).status).toBe(303);
    const page = await fetchFrom(dashboard.url, `/pipeline/${id}?acted=stop-requested`);
    expect(page.body).toContain('Stop requested: the manager running the agent stops it');
    expect(page.body).toMatch(/data-pending="stop">stop requested by <strong>local-tester<\/strong> at \S+ \(loops &lt;script&gt;alert\(1\)&lt;\/script&gt; .*\\u202eexe.txt\): pending until its agent has stopped/);
    expect(page.body).not.toContain(`action="/action/stop/${id}"`);
  });

  it('stop: the page asks the manager process running the agent, shows the request pending, then the session failed by whoever asked', async () => {
    const host = startChild('run-agent', [dir, dir]);
    try {
      await waitFor(() => host.lines.some((l) => l.startsWith('started ')), 20_000, 'the other manager to start its agent');
      const id = host.lines.find((l) => l.startsWith('started '))!.split(' ')[1]!;
      // This server runs no agents: it only appends the request.
      dashboard = await dashboardOn(dir, { actions: actionsOf(await open(), false) });
      expect((await fetchFrom(dashboard.url, `/pipeline/${id}`)).body).toContain(`action="/action/stop/${id}"`);
      const asked = await postAction(dashboard.url, `/action/stop/${id}`, { reason: `loops ${HOSTILE}` });
      expect(asked.headers['location']).toBe(`/pipeline/${id}?acted=stop-requested#steer`);
      const failed = await pollFor(async () => {
        const page = await fetchFrom(dashboard!.url, `/pipeline/${id}`);
        return page.body.includes('ended by <strong>local-tester</strong>') ? page.body : undefined;
      }, 20_000, 'the page to show the agent stopped');
      expect(failed).not.toContain(`action="/action/stop/${id}"`);
      expect(failed).not.toContain('<script>alert');
      const ended = (await eventsOf(dir)).filter((e) => e.sessionId === id).at(-1)!;
      expect(ended).toMatchObject({ type: 'SessionFailed', by: 'local-tester' });
      expect(String(ended.data['error'])).toMatch(/stopped at the request of local-tester: loops <script>/);
      // A second request finds no running agent.
      expect((await postAction(dashboard.url, `/action/stop/${id}`)).headers['location']).toBe(`/pipeline/${id}?acted=stop-refused#steer`);
    } finally {
      host.child.kill('SIGKILL');
      await host.exited;
    }
  }, 60_000);
});
