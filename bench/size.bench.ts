import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { measure, measurePair, type Figure, type Row } from './measure.js';
import { originalTransitionMs } from './original-baseline.bench.js';
import { oursSingle } from './ours-loops.js';
import type { SeededStore } from './seeded-store.js';
import { scratch } from './work-dir.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** Mean ms per append of the pipeline mix, one caller, defaults, on `store`. */
export function perTransition(runs: number, store: SeededStore): Promise<Figure> {
  return measure(runs, async () => {
    const r = await oursSingle(store.dir, 300);
    return r.latencies.reduce((a, b) => a + b, 0) / r.latencies.length;
  });
}

/**
 * Cost of one transition as the store grows, defaults: ours beside the original's design (every
 * change rewrites sessions.json) at each size, and the largest size against the smallest.
 */
export async function transitionBenches(runs: number, stores: SeededStore[]): Promise<Row[]> {
  const rows: Row[] = [];
  const figures: Figure[] = [];
  for (const store of stores) {
    const ours = await perTransition(runs, store);
    figures.push(ours);
    const original = await originalTransitionMs(Math.min(runs, 3), store.sessions);
    rows.push({ name: `one transition at ${store.sessions.toLocaleString('en-US')} sessions`, unit: 'ms', ours, baseline: original, baselineName: 'original: rewrite sessions.json', ratio: original.median / ours.median, target: 'flat as the store grows' });
  }
  const [small, large] = [figures[0]!, figures.at(-1)!];
  rows.push({
    name: `cost per transition, ${stores.at(-1)!.sessions.toLocaleString('en-US')} vs ${stores[0]!.sessions.toLocaleString('en-US')} sessions`,
    unit: 'ms',
    ours: large,
    baseline: small,
    baselineName: `the same at ${stores[0]!.sessions.toLocaleString('en-US')} sessions`,
    ratio: large.median / small.median,
    lowerIsBetter: true,
    target: '≤ 1.5',
  });
  return rows;
}

/** Milliseconds one `miyabi-sessions spawn` takes (a whole process: start, open, append, close). */
async function cliSpawn(dir: string): Promise<number> {
  const start = performance.now();
  await run(process.execPath, [CLI, 'spawn', 'CodeGenAgent', '--purpose', 'Implement #7', '--issue', '7', '--phase', 'CodeGeneration', '--worktree', '/w/issue-7', '--dir', dir]);
  return performance.now() - start;
}

/** Milliseconds one `miyabi-sessions complete <id>` takes, on an Active session it spawns first (untimed). */
async function cliComplete(dir: string): Promise<number> {
  const { stdout } = await run(process.execPath, [CLI, 'spawn', 'CodeGenAgent', '--purpose', 'Implement #7', '--issue', '7', '--phase', 'CodeGeneration', '--worktree', '/w/issue-7', '--dir', dir]);
  const id = stdout.split(' ')[0]!;
  const start = performance.now();
  await run(process.execPath, [CLI, 'complete', id, '--output', 'done', '--dir', dir]);
  return performance.now() - start;
}

/** One CLI write command on a large store against the same on an empty store, in alternation. */
export async function cliBenches(runs: number, store: SeededStore): Promise<Row[]> {
  const empty = await scratch('cli-empty');
  try {
    const rows: Row[] = [];
    for (const [name, command] of [['spawn', cliSpawn], ['complete', cliComplete]] as const) {
      const { ours, baseline } = await measurePair(runs, 1, () => command(store.dir), () => command(empty.dir));
      rows.push({ name: `CLI \`${name}\` at ${store.sessions.toLocaleString('en-US')} sessions`, unit: 'ms', ours, baseline, baselineName: 'the same command on an empty store', ratio: ours.median / baseline.median, lowerIsBetter: true, target: '≤ 2×' });
    }
    return rows;
  } finally {
    await empty.done();
  }
}
