import { runCostOf } from '../domain/agent-result.js';
import { PHASES, type Phase } from '../domain/phase.js';
import type { Session } from '../domain/session.js';

/** Sessions counted by status. */
export interface StatusCounts {
  total: number;
  active: number;
  handedOff: number;
  completed: number;
  failed: number;
}

/** Totals over the whole store, as `getStats()` returns them. */
export interface SessionStats extends StatusCounts {
  /** The same counts per agent name. */
  byAgent: Record<string, StatusCounts>;
  /** The same counts per pipeline phase (every phase present, zeros included). */
  byPhase: Record<Phase, StatusCounts>;
  /** Wall time of ended sessions, from spawn to end. */
  durations: { ended: number; totalMs: number; meanMs: number | null; maxMs: number | null };
  /** Sum of the agents' reported cost, in US dollars. */
  totalCostUsd: number;
  /** Sum of the agents' reported conversation turns. */
  totalTurns: number;
  /** What each agent's sessions cost, in US dollars, and their turns (each run once: see `runCostOf`). */
  spendByAgent: Record<string, AgentSpend>;
}

/** What one agent's sessions cost and how many turns they took. */
export interface AgentSpend {
  costUsd: number;
  turns: number;
}

const zero = (): StatusCounts => ({ total: 0, active: 0, handedOff: 0, completed: 0, failed: 0 });

/** Each status's key in {@link StatusCounts}. */
export const STATUS_COUNT_KEY = { Active: 'active', HandedOff: 'handedOff', Completed: 'completed', Failed: 'failed' } as const;

/** Counts sessions by status, agent and phase, and sums durations, cost and turns. */
export function computeStats(sessions: Iterable<Session>): SessionStats {
  const counter = new StatsCounter();
  for (const session of sessions) counter.add(session);
  return counter.result();
}

/**
 * Sessions of one agent, phase and status, counted and summed together: `ended` of them have a
 * duration, `totalMs` their sum and `maxMs` the longest (null when none); cost in nano-dollars.
 */
export interface StatsGroup {
  agentName: string;
  phase: Phase;
  status: Session['status'];
  count: number;
  ended: number;
  totalMs: number;
  maxMs: number | null;
  costNanos: number;
  turns: number;
}

/** Stats counted one session at a time, for callers that meet sessions one by one. */
export class StatsCounter {
  private readonly totals = zero();
  private readonly byAgent: Record<string, StatusCounts> = Object.create(null) as Record<string, StatusCounts>;
  private readonly byPhase = Object.fromEntries(PHASES.map((p) => [p, zero()])) as Record<Phase, StatusCounts>;
  private ended = 0;
  private totalMs = 0;
  private maxMs: number | null = null;
  // Cost is summed in whole nano-dollars: an integer sum is the same in any order, so stats
  // merged from a checkpoint equal stats recomputed from every session, to the last bit.
  private costNanos = 0;
  private totalTurns = 0;
  private readonly spend: Record<string, { nanos: number; turns: number }> = Object.create(null) as Record<string, { nanos: number; turns: number }>;

  /** Counts one more session. */
  add(session: Session): void {
    const ms = session.endedAt === undefined ? null : Date.parse(session.endedAt) - Date.parse(session.createdAt);
    this.addGroup({
      agentName: session.agentName,
      phase: session.context.currentPhase,
      status: session.status,
      count: 1,
      ended: ms === null ? 0 : 1,
      totalMs: ms ?? 0,
      maxMs: ms,
      costNanos: toNanos(runCostOf(session.result)),
      turns: session.result?.numTurns ?? 0,
    });
  }

  /** Counts a group of sessions of one agent, phase and status, summed elsewhere (a database's GROUP BY). */
  addGroup(group: StatsGroup): void {
    const key = STATUS_COUNT_KEY[group.status];
    const agent = (this.byAgent[group.agentName] ??= zero());
    for (const counts of [this.totals, agent, this.byPhase[group.phase]]) {
      counts.total += group.count;
      counts[key] += group.count;
    }
    this.ended += group.ended;
    this.totalMs += group.totalMs;
    if (group.maxMs !== null) this.maxMs = this.maxMs === null ? group.maxMs : Math.max(this.maxMs, group.maxMs);
    this.costNanos += group.costNanos;
    this.totalTurns += group.turns;
    const spend = (this.spend[group.agentName] ??= { nanos: 0, turns: 0 });
    spend.nanos += group.costNanos;
    spend.turns += group.turns;
  }

  /** The stats of every session counted so far (a copy: counting may go on). */
  result(): SessionStats {
    const copy = (c: StatusCounts): StatusCounts => ({ ...c });
    const { ended, totalMs, maxMs } = this;
    return {
      ...copy(this.totals),
      byAgent: Object.fromEntries(Object.entries(this.byAgent).map(([agent, c]) => [agent, copy(c)])),
      byPhase: Object.fromEntries(PHASES.map((p) => [p, copy(this.byPhase[p])])) as Record<Phase, StatusCounts>,
      durations: { ended, totalMs, meanMs: ended === 0 ? null : totalMs / ended, maxMs },
      totalCostUsd: this.costNanos / NANOS,
      totalTurns: this.totalTurns,
      spendByAgent: Object.fromEntries(Object.entries(this.spend).map(([agent, s]) => [agent, { costUsd: s.nanos / NANOS, turns: s.turns }])),
    };
  }
}

/** Per-agent spend of two sets of sessions, combined (`sign` -1 takes `b`'s out), summed in whole nano-dollars; agents in `keep` only, when given. */
function combineSpend(a: Record<string, AgentSpend>, b: Record<string, AgentSpend>, sign: 1 | -1, keep?: Record<string, unknown>): Record<string, AgentSpend> {
  const spend: Record<string, AgentSpend> = {};
  for (const agent of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (keep !== undefined && keep[agent] === undefined) continue;
    const x = a[agent] ?? { costUsd: 0, turns: 0 };
    const y = b[agent] ?? { costUsd: 0, turns: 0 };
    spend[agent] = { costUsd: (toNanos(x.costUsd) + sign * toNanos(y.costUsd)) / NANOS, turns: x.turns + sign * y.turns };
  }
  return spend;
}

const NANOS = 1e9;
/** US dollars as whole nano-dollars: sums of these are exact in any order. */
export const toNanos = (usd: number): number => Math.round(usd * NANOS);

/** The stats of two disjoint sets of sessions, combined: the same as computing them over both. */
export function mergeStats(a: SessionStats, b: SessionStats): SessionStats {
  const byAgent: Record<string, StatusCounts> = Object.create(null) as Record<string, StatusCounts>;
  for (const stats of [a, b]) {
    for (const [agent, counts] of Object.entries(stats.byAgent)) byAgent[agent] = addCounts(byAgent[agent] ?? zero(), counts);
  }
  const byPhase = Object.fromEntries(PHASES.map((p) => [p, addCounts(a.byPhase[p], b.byPhase[p])])) as Record<Phase, StatusCounts>;
  const ended = a.durations.ended + b.durations.ended;
  const totalMs = a.durations.totalMs + b.durations.totalMs;
  const maxes = [a.durations.maxMs, b.durations.maxMs].filter((m): m is number => m !== null);
  return {
    ...addCounts(a, b),
    byAgent: { ...byAgent },
    byPhase,
    durations: { ended, totalMs, meanMs: ended === 0 ? null : totalMs / ended, maxMs: maxes.length === 0 ? null : Math.max(...maxes) },
    totalCostUsd: (toNanos(a.totalCostUsd) + toNanos(b.totalCostUsd)) / NANOS,
    totalTurns: a.totalTurns + b.totalTurns,
    spendByAgent: combineSpend(a.spendByAgent, b.spendByAgent, 1),
  };
}

/**
 * The stats of `a` without the sessions `b` counts (a subset of them, none ended: Active
 * sessions leaving a precounted total when they are read). A longest duration cannot be taken
 * out, so `b` must hold no duration.
 */
export function subtractStats(a: SessionStats, b: SessionStats): SessionStats {
  if (b.durations.ended !== 0) throw new RangeError('only sessions without a duration can be subtracted from stats');
  const negative = (c: StatusCounts): StatusCounts => ({ total: -c.total, active: -c.active, handedOff: -c.handedOff, completed: -c.completed, failed: -c.failed });
  const byAgent: Record<string, StatusCounts> = Object.create(null) as Record<string, StatusCounts>;
  for (const [agent, counts] of Object.entries(a.byAgent)) byAgent[agent] = counts;
  for (const [agent, counts] of Object.entries(b.byAgent)) {
    const left = addCounts(byAgent[agent] ?? zero(), negative(counts));
    if (left.total === 0) delete byAgent[agent];
    else byAgent[agent] = left;
  }
  return {
    ...addCounts(a, negative(b)),
    byAgent: { ...byAgent },
    byPhase: Object.fromEntries(PHASES.map((p) => [p, addCounts(a.byPhase[p], negative(b.byPhase[p]))])) as Record<Phase, StatusCounts>,
    durations: a.durations,
    totalCostUsd: (toNanos(a.totalCostUsd) - toNanos(b.totalCostUsd)) / NANOS,
    totalTurns: a.totalTurns - b.totalTurns,
    // An agent whose sessions are all taken out goes, as in `byAgent`.
    spendByAgent: combineSpend(a.spendByAgent, b.spendByAgent, -1, byAgent),
  };
}

function addCounts(a: StatusCounts, b: StatusCounts): StatusCounts {
  return {
    total: a.total + b.total,
    active: a.active + b.active,
    handedOff: a.handedOff + b.handedOff,
    completed: a.completed + b.completed,
    failed: a.failed + b.failed,
  };
}

/**
 * A map of sessions that knows the stats of part of them without reading those (the checkpoint's
 * SessionMap: the sessions still in sessions.json are counted in the file).
 */
export interface PrecountedSessions {
  /**
   * The stats of the sessions counted already, ended and Active apart (no Active ones are
   * precounted when `active` is null), and the others; null when it knows none.
   */
  statsParts(): { ended: SessionStats; active: SessionStats | null; others: Iterable<Session> } | null;
}

/**
 * The stats of every session in `sessions`, or of the ended ones only. The sessions a map counted
 * already ({@link PrecountedSessions}) count from its stored stats, unread.
 */
export function statsOf(sessions: ReadonlyMap<string, Session>, which: 'all' | 'ended' = 'all'): SessionStats {
  const parts = 'statsParts' in sessions ? (sessions as ReadonlyMap<string, Session> & PrecountedSessions).statsParts() : null;
  const counted = (all: Iterable<Session>) => (which === 'all' ? all : endedOnly(all));
  if (parts === null) return computeStats(counted(sessions.values()));
  const precounted = which === 'all' && parts.active !== null ? mergeStats(parts.ended, parts.active) : parts.ended;
  return mergeStats(precounted, computeStats(counted(parts.others)));
}

function* endedOnly(sessions: Iterable<Session>): Generator<Session> {
  for (const session of sessions) if (session.status !== 'Active') yield session;
}
