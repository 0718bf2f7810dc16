/** Median, min and max of repeated measurements. */
export interface Figure {
  median: number;
  min: number;
  max: number;
  runs: number;
}

/** Runs `once` `runs` times (after one warm-up) and summarizes what it returns (e.g. events/s). */
export async function measure(runs: number, once: () => Promise<number>): Promise<Figure> {
  await once();
  const values: number[] = [];
  for (let i = 0; i < runs; i += 1) values.push(await once());
  values.sort((a, b) => a - b);
  return { median: values[Math.floor(values.length / 2)]!, min: values[0]!, max: values.at(-1)!, runs };
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
  target?: string;
  note?: string;
}

/** Formats a figure as "median (min–max)". */
export function show(f: Figure, digits = 0): string {
  const n = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return `${n(f.median)} (${n(f.min)}–${n(f.max)})`;
}
