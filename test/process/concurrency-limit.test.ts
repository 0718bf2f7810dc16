import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pollFor, startChild } from '../helpers/children.js';
import { realClaude, type ScriptedApi } from '../helpers/real-claude.js';
import { STORE_SPECS, eventsOfSpec, openSpec } from '../helpers/stores.js';
import { lastUserText } from '../helpers/claude-env.js';

/*
 * One concurrency limit across manager processes: two managers on one store, a limit of 2, six
 * pipelines of two steps each (real CLI, scripted API). One manager is killed with SIGKILL while
 * its agents run; the other adopts them and they keep their slots; the killed one is restarted
 * and resumes its pipelines. The API never has more than 2 conversations in flight, the log
 * never shows more than 2 agents running at once, every pipeline that began completes with
 * each step run once, and no slot is left held once the last lease runs out.
 */
/** How long a request takes the scripted model: long enough for agents to overlap if the limit let them. */
const REPLY_MS = 1200;
const LEASE_MS = 4000;

describe.each(STORE_SPECS)('one concurrency limit across manager processes ($name store, real CLI)', (kind) => {
  let claude: Awaited<ReturnType<typeof realClaude>>;
  let api: ScriptedApi;
  let store: { spec: string; drop: () => Promise<void> };
  let inFlight = 0;
  let mostInFlight = 0;
  beforeEach(async () => {
    claude = await realClaude();
    api = claude.api;
    inFlight = 0;
    mostInFlight = 0;
    claude.reply = (request) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      setTimeout(() => (inFlight -= 1), REPLY_MS);
      return { text: `${/You are (\w+)/.exec(lastUserText(request.body))?.[1] ?? 'agent'}: step done`, delayMs: REPLY_MS };
    };
    store = kind.spec(claude.dir);
  });
  afterEach(async () => {
    await claude.teardown();
    await store.drop();
  });

  const host = (...args: string[]) => startChild('limited-host', [store.spec, join(claude.dir, `cache-${args[0]}-${Math.random()}`), claude.dir, claude.home(), api.url, String(LEASE_MS), ...args]);
  const openManager = () => openSpec(store.spec, join(claude.dir, 'cache-test'));
  const logEvents = () => eventsOfSpec(store.spec);

  it('2 managers, a limit of 2, 6 pipelines, one manager killed mid-run: never more than 2 agents, each step once, all complete', async () => {
    const setup = await openManager();
    await setup.setConcurrencyLimit({ limit: 2 });
    await setup.close();

    const a = host('run', '3');
    const b = host('run', '3');
    // Kill A once one of its agents runs: its agents run on, holding their slots.
    const rootsOf = (lines: string[]) => lines.filter((l) => l.startsWith('root ')).map((l) => l.slice(5));
    await pollFor(async () => {
      const started = (await logEvents()).filter((e) => e.type === 'SessionAgentStarted').map((e) => e.sessionId);
      return rootsOf(a.lines).some((root) => started.includes(root)) || undefined;
    }, 90_000, 'an agent of manager A to start');
    a.child.kill('SIGKILL');
    await a.exited;
    const aRoots = rootsOf(a.lines);
    // Restarted, A adopts what B has not and resumes its pipelines.
    await sleep(500);
    const again = host('resume', ...aRoots);
    const bDone = b.exited;
    const [bEnd, againEnd] = await Promise.all([bDone, again.exited]);
    expect(bEnd.code, bEnd.stderr).toBe(0);
    expect(againEnd.code, againEnd.stderr).toBe(0);

    const results = [...b.lines, ...again.lines].filter((l) => l.startsWith('result ')).map((l) => JSON.parse(l.split(' ').slice(2).join(' ')) as { status: string; retried: string[]; sessions: string[][] });
    expect(results).toHaveLength(3 + aRoots.length);
    for (const result of results) expect(result, JSON.stringify(result)).toMatchObject({ status: 'Completed', sessions: [['CodeGenAgent', 'HandedOff'], ['ReviewAgent', 'Completed']] });
    // A step runs again only if A died between its spawn and its agent's start: its agent never ran, so no work ran twice.
    for (const result of results) for (const attempt of result.retried) expect(attempt, attempt).toBe("never started");

    // The API never had more than 2 conversations at once.
    expect(mostInFlight).toBeGreaterThanOrEqual(1);
    expect(mostInFlight).toBeLessThanOrEqual(2);
    // Nor did the log: from each agent's start to its recorded end, at most 2 overlap.
    const events = await logEvents();
    const marks = events.flatMap((e) => (e.type === 'SessionAgentStarted' ? [[Date.parse(e.timestamp), 1]] : e.type === 'SessionAgentFinished' ? [[Date.parse(e.timestamp), -1]] : []));
    marks.sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!);
    let running = 0;
    let most = 0;
    for (const [, step] of marks) most = Math.max(most, (running += step!));
    expect(most).toBeLessThanOrEqual(2);
    // Each step's agent ran once: one agent per session, one per step of each pipeline.
    const starts = events.filter((e) => e.type === 'SessionAgentStarted');
    expect(new Set(starts.map((e) => e.sessionId)).size).toBe(starts.length);
    expect(starts).toHaveLength(2 * results.length);
    // Steps that waited for a slot are on their pipelines' streams, and started as the sessions they named.
    const queued = events.filter((e) => e.type === 'PipelineQueued');
    const spawned = new Set(events.filter((e) => e.type === 'SessionSpawned').map((e) => e.sessionId));
    expect(queued.filter((e) => e.type === 'PipelineQueued' && spawned.has(e.data.sessionId)).length).toBeGreaterThan(0);
    for (const failed of events.filter((e) => e.type === 'SessionFailed')) expect(failed.type === 'SessionFailed' && failed.data.error).toMatch(/never started/);

    // What A held or waited for when it died (a root queued, never spawned) runs out with its lease.
    const check = await openManager();
    try {
      await pollFor(async () => {
        const view = await check.concurrency();
        return (view.running.length === 0 && view.queue.length === 0) || undefined;
      }, LEASE_MS + 5_000, 'every slot to be free');
    } finally {
      await check.close();
    }
  }, 300_000);
});
