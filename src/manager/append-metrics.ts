/** Upper bounds of the append latency buckets, in seconds (a durable append takes a few ms; a contended one, more). */
export const APPEND_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

/** The appends a process made and how long they took, as a Prometheus histogram reads them. */
export interface AppendMetricsSnapshot {
  /** Appends made (each a durable append of one command's events). */
  count: number;
  /** Their total time, in seconds. */
  sumSeconds: number;
  /** How many took at most each bound of {@link APPEND_BUCKETS_SECONDS} (cumulative, as Prometheus wants). */
  buckets: number[];
}

/** Counts a manager's appends and their latency, from the call to the store until it acknowledged them. */
export class AppendMetrics {
  private count = 0;
  private sumSeconds = 0;
  private readonly perBucket = APPEND_BUCKETS_SECONDS.map(() => 0);

  /** Records one append that took `ms`. */
  observe(ms: number): void {
    const seconds = ms / 1000;
    this.count += 1;
    this.sumSeconds += seconds;
    const bucket = APPEND_BUCKETS_SECONDS.findIndex((bound) => seconds <= bound);
    if (bucket !== -1) this.perBucket[bucket]! += 1;
  }

  /** The counts so far, buckets cumulative. */
  snapshot(): AppendMetricsSnapshot {
    let running = 0;
    return { count: this.count, sumSeconds: this.sumSeconds, buckets: this.perBucket.map((n) => (running += n)) };
  }
}
