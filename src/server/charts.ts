import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionReads } from '../query/session-reads.js';
import { TimeSeriesCounter, type TimeSeries } from '../projections/time-series.js';

/** The overview's charts as last counted. */
export interface Charts {
  /** The last 14 days, and the last 48 hours. */
  day: TimeSeries;
  hour: TimeSeries;
  /** The store's seq they were counted at, and how long counting took. */
  seq: number;
  tookMs: number;
}

/** How often, at most, the charts are counted again while the store moves. */
export const RECOUNT_MS = 30_000;

/**
 * How long counting runs between two pauses that let requests in: a request awaits several
 * times, and each await may wait for one stretch of counting. At 4 ms, a filter answered in
 * 1.4 ms on 250,000 sessions took 5.4 ms while the charts were counted (7 s after a start, and
 * again every RECOUNT_MS on a store that moves); at 1 ms it takes 1.4–1.9, and an idle count
 * takes 3.3 s instead of 3.1.
 */
const STRETCH_MS = 1;
/** How long counting waits before it looks again whether requests are still being answered. */
const GIVE_WAY_MS = 2;

/**
 * The overview's charts, counted over every session in the background: a walk over 250,000
 * sessions takes seconds, far too long for a request, so it pauses every few milliseconds to let
 * requests in. A page gets the charts last counted; a
 * request that finds the store past them starts counting again, at most once per `intervalMs`
 * (and never twice at once), and `onCounted` tells the pages when new ones are ready.
 */
export class ChartsCounter {
  private last: Charts | null = null;
  private counting: Promise<void> | null = null;
  private startedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly read: <T>(read: (reads: SessionReads) => Promise<T>) => Promise<T>,
    private readonly onCounted: () => void,
    private readonly intervalMs = RECOUNT_MS,
    /** Whether requests are being answered: counting waits until none is. */
    private readonly busy: () => boolean = () => false,
  ) {}

  /** The charts last counted (null before the first count ends); counts again when the store moved past them and the last count is old enough. */
  current(lastSeq: number): Charts | null {
    const stale = this.last === null || this.last.seq < lastSeq;
    if (stale && this.counting === null && Date.now() - this.startedAt >= this.intervalMs) this.counting = this.count();
    return this.last;
  }

  /** Resolves when a count under way (if any) ends. */
  async settled(): Promise<void> {
    await this.counting;
  }

  private async count(): Promise<void> {
    this.startedAt = Date.now();
    try {
      this.last = await this.read(async (reads) => {
        const now = Date.now();
        const day = new TimeSeriesCounter('day', now, 14);
        const hour = new TimeSeriesCounter('hour', now, 48);
        let n = 0;
        let resumed = performance.now();
        for await (const session of reads.timeline()) {
          day.add(session);
          hour.add(session);
          if (++n % 50 === 0 && (performance.now() - resumed >= STRETCH_MS || this.busy())) {
            await new Promise((resolve) => setImmediate(resolve));
            // A request's answer waits for no stretch of counting: it gives way until none is left.
            while (this.busy()) await sleep(GIVE_WAY_MS);
            resumed = performance.now();
          }
        }
        return { day: day.result(), hour: hour.result(), seq: reads.lastSeq, tookMs: Date.now() - now };
      });
      this.onCounted();
    } catch (error) {
      process.stderr.write(`dashboard: the charts could not be counted: ${(error as Error).message}\n`);
    } finally {
      this.counting = null;
    }
  }
}
