import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SessionManager, computeStats, querySessions, type Session, type SessionQuery } from '../../src/index.js';
import { statsOf } from '../../src/projections/stats.js';
import { readStore } from '../../src/query/read-store.js';
import { readPostgresSessions } from '../../src/query/session-reads.js';
import { pipelineOf } from '../../src/projections/session-query.js';
import type { PostgresEventStore } from '../../src/store/postgres/postgres-event-store.js';
import { tempDir } from '../helpers/fixtures.js';
import { STORE_KINDS } from '../helpers/stores.js';

const AGENTS = ['CodeGenAgent', 'ReviewAgent', 'TestAgent'] as const;
const PHASES = ['CodeGeneration', 'Review', 'Test'] as const;
type Step = { agent: number; phase: number; issue: number; purpose: string; end: 'active' | 'complete' | 'fail' | 'handoff' | 'retry' | 'fail-oldest' };

const step: fc.Arbitrary<Step> = fc.record({
  agent: fc.nat({ max: 2 }),
  phase: fc.nat({ max: 2 }),
  issue: fc.integer({ min: 1, max: 4 }),
  purpose: fc.constantFrom('fix the build', 'Fix the BUILD again', 'write docs', 'review <b>', 'deploy'),
  end: fc.constantFrom('active' as const, 'complete' as const, 'fail' as const, 'handoff' as const, 'retry' as const, 'fail-oldest' as const),
});

/** Each filter in about one query of four, so that queries match many sessions and span pages. */
const sometimes = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: arb, weight: 1 });
const query: fc.Arbitrary<SessionQuery> = fc
  .record({
    status: sometimes(fc.oneof(fc.constantFrom('Active' as const, 'Completed' as const, 'Failed' as const, 'HandedOff' as const), fc.constant(['Failed', 'Completed'] as Array<'Failed' | 'Completed'>))),
    agent: sometimes(fc.constantFrom(...AGENTS)),
    phase: sometimes(fc.constantFrom(...PHASES)),
    issue: sometimes(fc.integer({ min: 1, max: 4 })),
    text: sometimes(fc.constantFrom('build', 'BUILD', 'docs', 'output 3', 'nothing like it')),
    order: fc.constantFrom('spawn' as const, 'newest' as const, 'failures-first' as const),
    limit: fc.integer({ min: 1, max: 5 }),
  })
  .map((q) => Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as SessionQuery);

/** What a query must return, found by filtering every session of a full replay. */
function expected(all: Session[], q: SessionQuery): string[] {
  const statuses = q.status === undefined ? null : [q.status].flat();
  const text = q.text?.toLowerCase();
  const kept = all.filter(
    (s) =>
      (statuses === null || statuses.includes(s.status)) &&
      (q.agent === undefined || s.agentName === q.agent) &&
      (q.phase === undefined || s.context.currentPhase === q.phase) &&
      (q.issue === undefined || s.context.issueNumber === q.issue) &&
      (text === undefined || [s.purpose, s.result?.output, s.error].some((t) => t?.toLowerCase().includes(text))),
  );
  const newest = [...kept].reverse();
  const order = q.order ?? 'spawn';
  const listed = order === 'spawn' ? kept : order === 'newest' ? newest : [...newest.filter((s) => s.status === 'Failed'), ...newest.filter((s) => s.status !== 'Failed')];
  return listed.map((s) => s.id);
}

/** Every page of a query, followed by its cursors. */
async function allPages(page: (after: string | null) => Promise<{ sessions: Session[]; next: string | null }>): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 100; pages += 1) {
    const got = await page(after);
    ids.push(...got.sessions.map((s) => s.id));
    if (got.next === null) return ids;
    after = got.next;
  }
  throw new Error('more than 100 pages');
}

/** Runs the steps (numbered from `first`). */
async function build(manager: SessionManager, steps: Step[], first = 0): Promise<void> {
  for (const [n, s] of steps.entries()) {
    const i = first + n;
    const context = { issueNumber: s.issue, currentPhase: PHASES[s.phase]!, worktreePath: null };
    const session = await manager.spawnAgentSession(AGENTS[s.agent]!, s.purpose, context);
    if (s.end === 'complete') await manager.completeSession(session.id, { success: true, output: `output ${i}`, totalCostUsd: i * 0.013, numTurns: i });
    else if (s.end === 'fail') await manager.failSession(session.id, `failed: Build ${i}`);
    else if (s.end === 'retry') {
      await manager.failSession(session.id, `failed: Build ${i}`, { success: false, output: `tried ${i}`, totalCostUsd: 0.25, numTurns: 2 });
      await manager.retrySession(session.id);
    }
    else if (s.end === 'handoff') await manager.handoff(session.id, AGENTS[(s.agent + 1) % 3]!, { ...context, currentPhase: PHASES[(s.phase + 1) % 3]! });
    else if (s.end === 'fail-oldest') {
      // A session of an earlier step ends now: past a checkpoint, its stored record is then out of date.
      const oldest = (await manager.querySessions({ status: 'Active', order: 'spawn', limit: 1 })).sessions[0]!;
      await manager.failSession(oldest.id, `failed late: Build ${i}`);
    }
  }
}

describe('a paged, filtered query (and the stats) return exactly what a full replay gives', () => {
  it('file store: a read-only view from sessions.json and its tail, and a manager reopened on it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 0, maxLength: 24 }), fc.nat({ max: 24 }), fc.array(query, { minLength: 1, maxLength: 6 }), async (steps, checkpointAt, queries) => {
        const { dir, cleanup } = await tempDir();
        try {
          // A checkpoint in place every other event: its stored stats move by what changed.
          const writer = await SessionManager.open(dir, { checkpointIdleMs: -1, checkpointEvery: 2 });
          await build(writer, steps.slice(0, checkpointAt));
          await writer.close();
          // The rest stays in the log's tail, past sessions.json, while the queries run: readers fold it.
          const tail = await SessionManager.open(dir, { checkpointIdleMs: -1, checkpointEvery: 1_000_000 });
          await build(tail, steps.slice(checkpointAt), checkpointAt);
          const replayed = [...(await readStore(dir, { seq: Number.MAX_SAFE_INTEGER })).state.sessions.values()];
          const view = await readStore(dir);
          const reopened = await SessionManager.open(dir, { checkpointIdleMs: -1 });
          try {
            // Stats from the checkpoint's stored counts and the tail equal stats over a full replay.
            expect(statsOf(view.state.sessions)).toEqual(computeStats(replayed));
            expect(await reopened.getStats()).toEqual(computeStats(replayed));
            for (const q of queries) {
              const want = expected(replayed, q);
              expect(await allPages(async (after) => querySessions(view.state.sessions, { ...q, after }))).toEqual(want);
              expect(await allPages((after) => reopened.querySessions({ ...q, after }))).toEqual(want);
            }
            // A view kept and read from (the dashboard's): every other session now in memory, the same answers.
            replayed.forEach((s, i) => i % 2 === 0 && view.state.sessions.get(s.id));
            for (const q of queries) expect(await allPages(async (after) => querySessions(view.state.sessions, { ...q, after }))).toEqual(expected(replayed, q));
          } finally {
            await reopened.close();
            await tail.close();
          }
        } finally {
          await cleanup();
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it('PostgreSQL: a manager on it, and its sessions table (two writers appended; the read folds what is new) in one snapshot', async () => {
    const kind = STORE_KINDS.find((k) => k.name === 'postgres')!;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 0, maxLength: 12 }), fc.nat({ max: 12 }), fc.array(query, { minLength: 1, maxLength: 4 }), async (steps, split, queries) => {
        const { dir, cleanup } = await tempDir();
        const { dir: otherDir, cleanup: otherCleanup } = await tempDir();
        const place = kind.place(dir);
        try {
          const manager = await SessionManager.open(dir, { store: place.open(), checkpointIdleMs: -1 });
          const other = await SessionManager.open(otherDir, { store: place.open(), checkpointIdleMs: -1 });
          try {
            // Two writers on one schema; the read folds into the table what they appended since it was last level.
            await build(manager, steps.slice(0, split));
            await other.refresh();
            await build(other, steps.slice(split), split);
            await manager.refresh();
            const all = await manager.listSessions();
            const reader = place.open() as PostgresEventStore;
            try {
              await readPostgresSessions(reader, async (table) => {
                // Stats by GROUP BY equal stats over a full replay, agents in the same order.
                expect(JSON.stringify(await table.stats())).toBe(JSON.stringify(computeStats(all)));
                for (const q of queries) {
                  const want = expected(all, q);
                  expect(await allPages((after) => table.page({ ...q, after }))).toEqual(want);
                  const { limit: _limit, ...filters } = q;
                  const streamed: string[] = [];
                  for await (const session of table.stream(filters)) streamed.push(session.id);
                  expect(streamed).toEqual(want);
                }
                const byId = new Map(all.map((s) => [s.id, s]));
                for (const root of all.filter((s) => s.parentSession === null)) {
                  const members = [...pipelineOf(byId, root.id).keys()];
                  expect([...(await table.pipeline(root.id)).keys()]).toEqual(members);
                  expect(await allPages((after) => table.page({ pipeline: root.id, limit: 2, after }))).toEqual(members);
                }
                // Every session folded from its own events is the replay's.
                expect([...(await table.getMany(all.map((s) => s.id))).values()]).toEqual(all);
              });
            } finally {
              await reader.close();
            }
            for (const q of queries) expect(await allPages((after) => manager.querySessions({ ...q, after }))).toEqual(expected(all, q));
          } finally {
            await other.close();
            await manager.close();
          }
        } finally {
          await place.drop();
          await cleanup();
          await otherCleanup();
        }
      }),
      { numRuns: 8 },
    );
  }, 180_000);
});

describe('querySessions refuses what it cannot answer', () => {
  it('a bad filter, a cursor of another order, and a made-up cursor: INVALID_INPUT', () => {
    const sessions = new Map<string, Session>();
    expect(() => querySessions(sessions, { limit: 0 })).toThrow(/query.limit/);
    expect(() => querySessions(sessions, { status: 'Sleeping' as never })).toThrow(/query.status/);
    expect(() => querySessions(sessions, { createdSince: 'yesterday' })).toThrow(/query.createdSince/);
    expect(() => querySessions(sessions, { after: 'bm90IGEgY3Vyc29y' })).toThrow(/not a cursor this library wrote/);
    const cursor = Buffer.from(JSON.stringify(['newest', 0, 3, '3f1d8a52-0000-4000-8000-000000000000'])).toString('base64url');
    expect(() => querySessions(sessions, { after: cursor })).toThrow(/order "newest"/);
  });
});
