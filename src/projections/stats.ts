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
}

const zero = (): StatusCounts => ({ total: 0, active: 0, handedOff: 0, completed: 0, failed: 0 });

const KEY = { Active: 'active', HandedOff: 'handedOff', Completed: 'completed', Failed: 'failed' } as const;

/** Counts sessions by status, agent and phase, and sums durations, cost and turns. */
export function computeStats(sessions: Iterable<Session>): SessionStats {
  const totals = zero();
  const byAgent: Record<string, StatusCounts> = Object.create(null) as Record<string, StatusCounts>;
  const byPhase = Object.fromEntries(PHASES.map((p) => [p, zero()])) as Record<Phase, StatusCounts>;
  let ended = 0;
  let totalMs = 0;
  let maxMs: number | null = null;
  let totalCostUsd = 0;
  let totalTurns = 0;
  for (const session of sessions) {
    const key = KEY[session.status];
    const agent = (byAgent[session.agentName] ??= zero());
    for (const counts of [totals, agent, byPhase[session.context.currentPhase]]) {
      counts.total += 1;
      counts[key] += 1;
    }
    if (session.endedAt !== undefined) {
      const ms = Date.parse(session.endedAt) - Date.parse(session.createdAt);
      ended += 1;
      totalMs += ms;
      maxMs = maxMs === null ? ms : Math.max(maxMs, ms);
    }
    totalCostUsd += session.result?.totalCostUsd ?? 0;
    totalTurns += session.result?.numTurns ?? 0;
  }
  return {
    ...totals,
    byAgent: { ...byAgent },
    byPhase,
    durations: { ended, totalMs, meanMs: ended === 0 ? null : totalMs / ended, maxMs },
    totalCostUsd,
    totalTurns,
  };
}
