import { runCostOf } from '../domain/agent-result.js';
import type { Session } from '../domain/session.js';
import { toNanos } from './stats.js';

/** What of a session the charts read: when it was spawned and ended, how, by which agent, at what cost. */
export type TimedSession = Pick<Session, 'createdAt' | 'endedAt' | 'status' | 'agentName'> & { result?: { totalCostUsd?: number; runCostUsd?: number; numTurns?: number } };

/** How long one bar of a time series is. */
export type Bucket = 'hour' | 'day';

/** One bar: sessions spawned in it, sessions that ended in it by how, and what the agents that ended in it cost. */
export interface TimeBucket {
  /** Its start (ISO-8601, UTC). */
  start: string;
  spawned: number;
  handedOff: number;
  completed: number;
  failed: number;
  /** Cost in nano-dollars (summed as integers, as the stats are), and turns, by agent name. */
  byAgent: Record<string, { costNanos: number; turns: number }>;
}

/** Sessions over time: the last `count` buckets up to `until` (older sessions are left out). */
export interface TimeSeries {
  bucket: Bucket;
  buckets: TimeBucket[];
}

const LENGTH_MS: Record<Bucket, number> = { hour: 3_600_000, day: 86_400_000 };

/**
 * Counts sessions into the last `count` buckets of `bucket` ending with the one that holds
 * `until`: a session counts as spawned in the bucket of its spawn, as handed off, completed or
 * failed in the bucket of its end, and its agent's cost and turns there too (at its spawn while
 * it has no end). One session at a time, for a walk over a store of any size.
 */
export class TimeSeriesCounter {
  private readonly first: number;
  private readonly buckets: TimeBucket[];
  private readonly length: number;

  constructor(readonly bucket: Bucket, until: number, count: number) {
    this.length = LENGTH_MS[bucket];
    const last = Math.floor(until / this.length) * this.length;
    this.first = last - (count - 1) * this.length;
    this.buckets = Array.from({ length: count }, (_, i) => ({
      start: new Date(this.first + i * this.length).toISOString(),
      spawned: 0,
      handedOff: 0,
      completed: 0,
      failed: 0,
      byAgent: Object.create(null) as TimeBucket['byAgent'],
    }));
  }

  /** Counts one session (what of it a chart reads: {@link TimedSession}). */
  add(session: TimedSession): void {
    const spawned = this.at(session.createdAt);
    if (spawned !== undefined) spawned.spawned += 1;
    const ended = session.endedAt === undefined ? undefined : this.at(session.endedAt);
    if (ended !== undefined && session.status !== 'Active') ended[({ HandedOff: 'handedOff', Completed: 'completed', Failed: 'failed' } as const)[session.status]] += 1;
    // What cost nothing and took no turn is left out of the cost by agent (a store's sessions
    // table keeps a session's cost and turns, not whether it had a result: both stores chart alike).
    const costNanos = toNanos(runCostOf(session.result));
    const turns = session.result?.numTurns ?? 0;
    if (costNanos === 0 && turns === 0) return;
    const when = session.endedAt === undefined ? spawned : ended;
    if (when === undefined) return;
    const agent = (when.byAgent[session.agentName] ??= { costNanos: 0, turns: 0 });
    agent.costNanos += costNanos;
    agent.turns += turns;
  }

  /** The series counted so far. */
  result(): TimeSeries {
    return { bucket: this.bucket, buckets: this.buckets };
  }

  private at(time: string): TimeBucket | undefined {
    const index = Math.floor((Date.parse(time) - this.first) / this.length);
    return index >= 0 && index < this.buckets.length ? this.buckets[index] : undefined;
  }
}
