import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SessionManager } from '../src/index.js';
import { readStore } from '../src/query/read-store.js';
import { collectGarbage, measurePair, perSecond, type Row } from './measure.js';
import type { SeededStore } from './seeded-store.js';
import { runWorkers } from './workload.js';

/** Heap in use after a full collection (the bench runs with --expose-gc; without it, as is). */
function heapUsed(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** Milliseconds `SessionManager.open` (defaults) takes on `dir`; the close after it is not counted. */
async function timeOpen(dir: string): Promise<number> {
  const start = performance.now();
  const m = await SessionManager.open(dir);
  const ms = performance.now() - start;
  await m.close();
  return ms;
}

/** Milliseconds of a full replay: every event of the log folded into every projection, nothing written. */
async function timeReplay(dir: string): Promise<{ ms: number; events: number }> {
  const start = performance.now();
  const view = await readStore(dir, undefined, () => {});
  return { ms: performance.now() - start, events: view.eventsRead };
}

/** The bare baseline: read the whole file, split it into lines, JSON.parse each; nothing kept. */
async function bareParse(path: string): Promise<number> {
  const start = performance.now();
  const bytes = await readFile(path);
  let n = 0;
  // Decoded in pieces at line ends: a string cannot hold a file of half a gigabyte.
  const piece = 64 * 1024 * 1024;
  for (let from = 0; from < bytes.length; ) {
    let to = Math.min(bytes.length, from + piece);
    if (to < bytes.length) to = bytes.indexOf(0x0a, to) + 1 || bytes.length;
    for (const line of bytes.toString('utf8', from, to).split('\n')) {
      if (line.length === 0) continue;
      JSON.parse(line);
      n += 1;
    }
    from = to;
  }
  return perSecond(n, performance.now() - start);
}

/** Replay of the large store vs bare parsing; open from its checkpoint vs a full replay; memory. */
export async function replayBenches(runs: number, store: SeededStore, share: number): Promise<{ rows: Row[]; facts: Record<string, number | boolean> }> {
  const { dir } = store;
  const path = join(dir, 'events.ndjson');
  const label = `${store.sessions.toLocaleString('en-US')} sessions, ${Math.round(share * 100)}% Active, ${(store.events / 1e6).toFixed(2)} M events`;
  const replay = await measurePair(runs, 1, async () => {
    collectGarbage();
    const r = await timeReplay(dir);
    return perSecond(r.events, r.ms);
  }, async () => {
    collectGarbage();
    return bareParse(path);
  });
  const open = await measurePair(runs, 1, async () => {
    collectGarbage();
    return timeOpen(dir);
  }, async () => {
    collectGarbage();
    return (await timeReplay(dir)).ms;
  });
  // What an open from the checkpoint holds, and leaves for later.
  const heapBefore = heapUsed();
  const lazy = await SessionManager.open(dir);
  const heapAfterOpenBytes = heapUsed() - heapBefore;
  let start = performance.now();
  await lazy.getStats();
  const statsAfterOpenMs = performance.now() - start;
  // A burst of 20 000 appends by 100 callers, then the heap the manager holds.
  const older = (await lazy.listActiveSessions()).map((s) => s.id);
  await runWorkers(lazy, 100, 20_000, older, 5_000_000);
  const heapAfterBurstBytes = heapUsed() - heapBefore;
  start = performance.now();
  await lazy.listSessions();
  const firstListAllMs = performance.now() - start;
  const heapAllReadBytes = heapUsed() - heapBefore;
  const live = await lazy.replay();
  await lazy.close();
  return {
    rows: [
      { name: `full replay (${label})`, unit: 'events/s', ours: replay.ours, baseline: replay.baseline, baselineName: 'read whole file, split, JSON.parse each line', ratio: replay.ours.median / replay.baseline.median, target: '≥ 0.5' },
      { name: `open from the checkpoint (${label})`, unit: 'ms', ours: open.ours, baseline: open.baseline, baselineName: 'full replay of the log (nothing written)', ratio: open.baseline.median / open.ours.median, target: '≥ 10× faster' },
    ],
    facts: {
      events: store.events,
      sessions: store.sessions,
      logBytes: store.logBytes,
      replayMatchesLive: live.matchesLive,
      statsAfterOpenMs,
      firstListAllMs,
      heapAfterOpenBytes,
      heapAfterBurstBytes,
      heapAllReadBytes,
    },
  };
}
