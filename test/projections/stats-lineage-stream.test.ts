import { describe, expect, it } from 'vitest';
import { childrenOf, lineageOf, lineageTree } from '../../src/projections/lineage.js';
import { StatsCounter, computeStats, mergeStats, statsOf, subtractStats, type PrecountedSessions } from '../../src/projections/stats.js';
import { foldPipelineStream, nextStreamState, pipelineStreamRefusal } from '../../src/projections/pipeline-stream.js';
import { retryIdOf } from '../../src/domain/retry-id.js';
import { EVENT_SCHEMA_VERSION } from '../../src/events/event-envelope.js';
import type { Session } from '../../src/domain/session.js';
import type { PipelineEvent } from '../../src/events/session-event.js';
import { FIXTURE_AT, numberedId, sessionFixture } from '../helpers/fixtures.js';

/*
 * The lineage, stats and pipeline-stream projections, function by function: exact answers on
 * small hand-made inputs, including the edges (a cycle, a duration below zero, an agent whose
 * sessions all leave a precounted total, an answer by no one).
 */

const ID = (n: number) => numberedId(n);
const AT = FIXTURE_AT;
const LATER = (ms: number) => new Date(Date.parse(AT) + ms).toISOString();
const session = sessionFixture;
const mapOf = (...sessions: Session[]) => new Map(sessions.map((s) => [s.id, s]));

describe('lineage', () => {
  it('lineageOf: root first down to the session; unknown is NOT_FOUND naming it', () => {
    const sessions = mapOf(session(1, { status: 'HandedOff', childSessions: [ID(2)] }), session(2, { parentSession: ID(1) }));
    expect(lineageOf(sessions, ID(2)).map((s) => s.id)).toEqual([ID(1), ID(2)]);
    expect(lineageOf(sessions, ID(1)).map((s) => s.id)).toEqual([ID(1)]);
    expect(() => lineageOf(sessions, ID(9))).toThrow(expect.objectContaining({ code: 'NOT_FOUND', message: `no session ${ID(9)}`, sessionId: ID(9) }));
    // A parent missing from the map ends the chain; a cycle (a damaged store) ends too.
    expect(lineageOf(mapOf(session(3, { parentSession: ID(8) })), ID(3)).map((s) => s.id)).toEqual([ID(3)]);
    const cycle = mapOf(session(4, { parentSession: ID(5) }), session(5, { parentSession: ID(4) }));
    expect(lineageOf(cycle, ID(4)).map((s) => s.id)).toEqual([ID(5), ID(4)]);
  });

  it('childrenOf: the handoff children, and a Failed session’s retry; only those that name it as parent', () => {
    const failed = session(1, { status: 'Failed', childSessions: [] });
    const retry = { ...session(0, { parentSession: ID(1), retryOf: ID(1) }), id: retryIdOf(ID(1)) };
    expect(childrenOf(mapOf(failed, retry), failed)).toEqual([retry]);
    // A session that did not fail has no retry, even if a session with that id names it.
    const completed = session(2, { status: 'Completed' });
    const stray = { ...session(0, { parentSession: ID(2) }), id: retryIdOf(ID(2)) };
    expect(childrenOf(mapOf(completed, stray), completed)).toEqual([]);
    // A listed child that names another parent, or is missing, is left out.
    const parent = session(3, { status: 'HandedOff', childSessions: [ID(4), ID(5), ID(6)] });
    const kids = [session(4, { parentSession: ID(3) }), session(5, { parentSession: ID(7) })];
    expect(childrenOf(mapOf(parent, ...kids), parent)).toEqual([kids[0]]);
    expect(lineageTree(mapOf(parent, ...kids), ID(4))).toEqual({ session: parent, children: [{ session: kids[0], children: [] }] });
  });
});

describe('stats', () => {
  it('counts statuses, durations, cost and turns, by agent and phase; a mean and a longest only over sessions with a duration', () => {
    const stats = computeStats([
      session(1, { status: 'Completed', endedAt: LATER(1000), result: { success: true, output: '', totalCostUsd: 0.25, numTurns: 3 } }),
      session(2, { agentName: 'ReviewAgent', status: 'Failed', endedAt: LATER(3000), context: { issueNumber: 1, currentPhase: 'Review', worktreePath: '/w', previousResults: [] } }),
      session(3),
    ]);
    expect(stats).toMatchObject({ total: 3, active: 1, completed: 1, failed: 1, handedOff: 0, durations: { ended: 2, totalMs: 4000, meanMs: 2000, maxMs: 3000 }, totalCostUsd: 0.25, totalTurns: 3 });
    expect(stats.byAgent).toEqual({ CodeGenAgent: { total: 2, active: 1, handedOff: 0, completed: 1, failed: 0 }, ReviewAgent: { total: 1, active: 0, handedOff: 0, completed: 0, failed: 1 } });
    expect(stats.byPhase.Review).toEqual({ total: 1, active: 0, handedOff: 0, completed: 0, failed: 1 });
    expect(stats.spendByAgent).toEqual({ CodeGenAgent: { costUsd: 0.25, turns: 3 }, ReviewAgent: { costUsd: 0, turns: 0 } });
    expect(computeStats([session(1)]).durations).toEqual({ ended: 0, totalMs: 0, meanMs: null, maxMs: null });
  });

  it('a duration below zero (an end recorded before the spawn) is the longest when it is the only one', () => {
    const counter = new StatsCounter();
    counter.add(session(1, { status: 'Completed', endedAt: LATER(-5000) }));
    counter.add(session(2));
    expect(counter.result().durations).toEqual({ ended: 1, totalMs: -5000, meanMs: -5000, maxMs: -5000 });
    const merged = mergeStats(counter.result(), computeStats([session(3)]));
    expect(merged.durations).toEqual({ ended: 1, totalMs: -5000, meanMs: -5000, maxMs: -5000 });
    expect(mergeStats(computeStats([session(3)]), counter.result()).durations.maxMs).toBe(-5000);
  });

  it('mergeStats of two sets equals the stats of both; no durations give no mean and no longest', () => {
    const a = [session(1, { status: 'Completed', endedAt: LATER(1000), result: { success: true, output: '', totalCostUsd: 0.1, numTurns: 1 } }), session(2)];
    const b = [session(3, { agentName: 'TestAgent', status: 'HandedOff', endedAt: LATER(2000), result: { success: true, output: '', totalCostUsd: 0.2, numTurns: 2 } })];
    expect(mergeStats(computeStats(a), computeStats(b))).toEqual(computeStats([...a, ...b]));
    expect(mergeStats(computeStats([session(5)]), computeStats([session(6)])).durations).toEqual({ ended: 0, totalMs: 0, meanMs: null, maxMs: null });
  });

  it('subtractStats takes sessions without a duration out, agents whose sessions all leave go, and refuses durations', () => {
    // Ended without a duration: imported from the original, which kept no end times.
    const b = [session(3, { agentName: 'TestAgent', status: 'HandedOff', result: { success: true, output: '', totalCostUsd: 0.5, numTurns: 4 } }), session(4, { status: 'Completed', result: { success: true, output: '', totalCostUsd: 0.125, numTurns: 1 } }), session(5, { status: 'Failed' })];
    const a = [session(1, { status: 'Completed', endedAt: LATER(1000), result: { success: true, output: '', totalCostUsd: 0.25, numTurns: 2 } }), session(2), ...b];
    const left = subtractStats(computeStats(a), computeStats(b));
    expect(left).toEqual({ ...computeStats(a.slice(0, 2)), durations: computeStats(a).durations });
    expect(left.byAgent.TestAgent).toBeUndefined();
    expect(left.spendByAgent).toEqual({ CodeGenAgent: { costUsd: 0.25, turns: 2 } });
    expect([left.totalCostUsd, left.totalTurns, left.handedOff, left.completed, left.failed]).toEqual([0.25, 2, 0, 1, 0]);
    expect(() => subtractStats(computeStats(a), computeStats(a.slice(0, 1)))).toThrow(new RangeError('only sessions without a duration can be subtracted from stats'));
  });

  it('statsOf a map that precounted part of its sessions: the counts merged with the others, all or ended only', () => {
    const ended = [session(1, { status: 'Completed', endedAt: LATER(1000) })];
    const active = [session(2)];
    const others = [session(3, { status: 'Failed', endedAt: LATER(2000) }), session(4)];
    const precounted = (withActive: boolean) => Object.assign(new Map<string, Session>(), {
      statsParts: () => ({ ended: computeStats(ended), active: withActive ? computeStats(active) : null, others }),
    }) as Map<string, Session> & PrecountedSessions;
    expect(statsOf(precounted(true))).toEqual(computeStats([...ended, ...active, ...others]));
    expect(statsOf(precounted(true), 'ended')).toEqual(computeStats([...ended, others[0]!]));
    // No Active sessions precounted: the others hold them all.
    expect(statsOf(precounted(false))).toEqual(computeStats([...ended, ...others]));
    expect(statsOf(precounted(false), 'ended')).toEqual(computeStats([...ended, others[0]!]));
    // A plain map counts what it holds.
    expect(statsOf(new Map(others.map((s) => [s.id, s])), 'ended')).toEqual(computeStats([others[0]!]));
  });
});

describe('pipeline stream', () => {
  const ROOT = ID(1);
  let seq = 0;
  const at = (n: number) => LATER(n * 1000);
  const ev = (type: PipelineEvent['type'], data: object, extra: object = {}): PipelineEvent =>
    ({ seq: (seq += 1), id: ID(100 + seq), type, sessionId: ID(50), timestamp: at(seq), schemaVersion: EVENT_SCHEMA_VERSION, data: { rootId: ROOT, ...data }, ...extra }) as PipelineEvent;
  const waiting = () => ev('PipelineWaiting', { reason: 'budget', step: 1, sessionId: ID(2), detail: 'spent' });
  const approved = (extra: object = {}, data: object = {}) => ev('PipelineApproved', data, extra);
  const rejected = (extra: object = {}) => ev('PipelineRejected', { reason: 'no' }, extra);
  const notified = () => ev('PipelineNotified', { notification: ID(60), kind: 'pipeline.waiting', target: 'command', attempts: 1, delivered: true });
  const queued = () => ev('PipelineQueued', { step: 2, sessionId: ID(3), agentName: 'TestAgent', position: 4 });

  it('the rules: a wait only while none is open, an answer only to an open wait, nothing after a rejection but deliveries', () => {
    expect(pipelineStreamRefusal('open', waiting())).toBeNull();
    expect(pipelineStreamRefusal('waiting', waiting())).toBe('the pipeline waits already');
    expect(pipelineStreamRefusal('waiting', approved())).toBeNull();
    expect(pipelineStreamRefusal('open', approved())).toBe('the pipeline is not waiting for approval');
    expect(pipelineStreamRefusal('open', rejected())).toBe('the pipeline is not waiting for approval');
    expect(pipelineStreamRefusal('rejected', waiting())).toBe('the pipeline was rejected: its stream is closed');
    expect(pipelineStreamRefusal('rejected', notified())).toBeNull();
    expect(pipelineStreamRefusal('waiting', notified())).toBeNull();
    expect(pipelineStreamRefusal('open', queued())).toBeNull();
    expect(pipelineStreamRefusal('waiting', queued())).toBe('the pipeline waits for a person, not for a slot');
    expect(pipelineStreamRefusal('rejected', queued())).toBe('the pipeline was rejected: its stream is closed');
  });

  it('the states: deliveries and queue records change none', () => {
    for (const state of ['open', 'waiting', 'rejected'] as const) {
      expect(nextStreamState(state, notified())).toBe(state);
      expect(nextStreamState(state, queued())).toBe(state);
    }
    expect(nextStreamState('open', waiting())).toBe('waiting');
    expect(nextStreamState('waiting', approved())).toBe('open');
    expect(nextStreamState('waiting', rejected())).toBe('rejected');
  });

  it('a fold: each wait with its answer exactly (who, when, what was added), deliveries settled, queue records kept, the revision counted', () => {
    const events = [queued(), waiting(), approved({ by: 'alice' }, { addBudgetUsd: 2 }), notified(), waiting(), approved(), waiting(), rejected({ by: 'bob' })];
    const stream = foldPipelineStream(ID(50), ROOT, events);
    expect(stream.waits.map((w) => w.answer)).toStrictEqual([
      { approved: true, at: events[2]!.timestamp, by: 'alice', addBudgetUsd: 2 },
      { approved: true, at: events[5]!.timestamp },
      { approved: false, at: events[7]!.timestamp, reason: 'no', by: 'bob' },
    ]);
    expect(stream.waits[0]).toStrictEqual({ reason: 'budget', step: 1, sessionId: ID(2), detail: 'spent', since: events[1]!.timestamp, eventId: events[1]!.id, answer: stream.waits[0]!.answer });
    expect([...stream.settled]).toEqual([`${ID(60)} command`]);
    expect(stream.queued).toStrictEqual([{ step: 2, sessionId: ID(3), agentName: 'TestAgent', position: 4, since: events[0]!.timestamp }]);
    expect([stream.state, stream.revision, stream.pipelineId, stream.rootId]).toEqual(['rejected', 8, ID(50), ROOT]);
    expect(foldPipelineStream(ID(50), ROOT, [])).toStrictEqual({ pipelineId: ID(50), rootId: ROOT, waits: [], settled: new Set(), queued: [], state: 'open', revision: 0 });
    const bad = approved();
    expect(() => foldPipelineStream(ID(50), ROOT, [bad])).toThrow(`event seq ${bad.seq} (PipelineApproved) of pipeline ${ROOT}: the pipeline is not waiting for approval`);
  });
});
