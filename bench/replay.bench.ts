import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SessionManager } from '../src/index.js';
import { readStore } from '../src/query/read-store.js';
import { writeBigLog } from './big-log.js';
import { collectGarbage, measure, perSecond, type Row } from './measure.js';
import { scratch } from './work-dir.js';

/** Heap in use after a full collection (the bench runs with --expose-gc; without it, as is). */
function heapUsed(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** Milliseconds `SessionManager.open` takes on `dir` (the close after it is not counted). */
async function timeOpen(dir: string): Promise<number> {
  const start = performance.now();
  const m = await SessionManager.open(dir, { checkpointIdleMs: -1 });
  const ms = performance.now() - start;
  await m.close();
  return ms;
}

/** The bare baseline: read the file line by line and JSON.parse each line, nothing else. */
async function bareParse(path: string): Promise<number> {
  const start = performance.now();
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    JSON.parse(line);
    n += 1;
  }
  return perSecond(n, performance.now() - start);
}

/** Replay of a big log (all projections rebuilt) vs bare parsing; open with checkpoint vs full replay. */
export async function replayBenches(runs: number, events: number): Promise<{ rows: Row[]; facts: Record<string, number | boolean> }> {
  const { dir, done } = await scratch('replay');
  try {
    const log = await writeBigLog(dir, events);
    const path = join(dir, 'events.ndjson');
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    collectGarbage();
    const rssBefore = process.memoryUsage().rss;
    const ours = await measure(runs, async () => {
      const start = performance.now();
      const view = await readStore(dir, undefined, () => {});
      return perSecond(view.eventsRead, performance.now() - start);
    }, { collect: true });
    clearInterval(sampler);
    const bare = await measure(runs, () => bareParse(path), { collect: true });

    // Open with a valid checkpoint vs a full replay (no sessions.json): times in ms.
    const first = await SessionManager.open(dir, { checkpointIdleMs: -1 });
    const live = await first.replay();
    await first.close();
    const withCheckpoint = await measure(runs, () => timeOpen(dir), { collect: true });
    // What an open from the checkpoint leaves for later: ended sessions are read on first use.
    const heapBefore = heapUsed();
    const lazy = await SessionManager.open(dir, { checkpointIdleMs: -1 });
    const heapAfterOpenBytes = heapUsed() - heapBefore;
    let start = performance.now();
    await lazy.getStats();
    const statsAfterOpenMs = performance.now() - start;
    start = performance.now();
    const listed = (await lazy.listSessions()).length;
    const firstListAllMs = performance.now() - start;
    const heapAllReadBytes = heapUsed() - heapBefore;
    await lazy.close();
    const fullReplay = await measure(runs, async () => {
      await rm(join(dir, 'sessions.json'), { force: true });
      return timeOpen(dir);
    }, { collect: true });
    return {
      rows: [
        { name: `replay, ${(log.events / 1e6).toFixed(1)} M events`, unit: 'events/s', ours, baseline: bare, baselineName: 'read lines + JSON.parse', ratio: ours.median / bare.median, target: '≥ 0.5' },
        { name: 'open a 1 M-event store', unit: 'ms', ours: withCheckpoint, baseline: fullReplay, baselineName: 'open with full replay', ratio: fullReplay.median / withCheckpoint.median, target: '≥ 10× faster' },
      ],
      facts: {
        events: log.events,
        sessions: log.sessions,
        logBytes: log.bytes,
        replayPeakRssGrowthBytes: peakRss - rssBefore,
        replayMatchesLive: live.matchesLive,
        statsAfterOpenMs,
        firstListAllMs,
        listedAfterOpen: listed,
        heapAfterOpenBytes,
        heapAllReadBytes,
      },
    };
  } finally {
    await done();
  }
}
