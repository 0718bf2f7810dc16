/** Median, min and max of repeated measurements. */
export interface Figure {
  median: number;
  min: number;
  max: number;
  runs: number;
}

/**
 * Runs `once` `runs` times (after one warm-up) and summarizes what it returns (e.g. events/s).
 * With `collect`, a full garbage collection runs before each run (untimed), so a run that builds
 * a large heap is not billed for collecting the one before it.
 */
export async function measure(runs: number, once: () => Promise<number>, options: { collect?: boolean } = {}): Promise<Figure> {
  const run = async () => {
    if (options.collect === true) collectGarbage();
    return once();
  };
  await run();
  const values: number[] = [];
  for (let i = 0; i < runs; i += 1) values.push(await run());
  return summarize(values);
}

/** A full collection when the bench runs with --expose-gc (npm run bench does); otherwise nothing. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Measures ours and its baseline in alternation, after `warmups` unmeasured rounds of both:
 * a shared disk's speed drifts over minutes, and alternating puts both sides under the same
 * drift; the warm-up rounds let V8 finish optimizing both before anything counts.
 */
export async function measurePair(
  runs: number,
  warmups: number,
  ours: () => Promise<number>,
  baseline: () => Promise<number>,
): Promise<{ ours: Figure; baseline: Figure }> {
  for (let i = 0; i < warmups; i += 1) {
    await ours();
    await baseline();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    a.push(await ours());
    b.push(await baseline());
  }
  return { ours: summarize(a), baseline: summarize(b) };
}

/** Median, min and max of some values. */
export function summarize(values: number[]): Figure {
  const sorted = [...values].sort((x, y) => x - y);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted.at(-1)!, runs: sorted.length };
}

/** Events per second for `count` events done in `ms`. */
export const perSecond = (count: number, ms: number) => (count * 1000) / ms;

/** A row of the results table. */
export interface Row {
  name: string;
  unit: string;
  ours: Figure;
  baseline: Figure;
  baselineName: string;
  /** ours / baseline for throughputs, baseline / ours for times (higher is better either way). */
  ratio: number;
  /** True for a figure where less is better (write amplification): the ratio is then the figure itself. */
  lowerIsBetter?: boolean;
  target?: string;
  note?: string;
}

/** Formats a figure as "median (min–max)". */
export function show(f: Figure, digits = 0): string {
  const n = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return `${n(f.median)} (${n(f.min)}–${n(f.max)})`;
}
