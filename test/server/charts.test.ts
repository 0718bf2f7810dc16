import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { TimedSession } from '../../src/projections/time-series.js';
import type { SessionReads } from '../../src/query/session-reads.js';
import { ChartsCounter } from '../../src/server/charts.js';

describe("the overview's charts, counted in the background", () => {
  it('give way while requests are being answered, and count once none is', async () => {
    const at = new Date().toISOString();
    let read = 0;
    async function* timeline(): AsyncGenerator<TimedSession> {
      for (let i = 0; i < 500; i += 1) {
        read += 1;
        yield { createdAt: at, status: 'Active', agentName: 'CodeGenAgent' };
      }
    }
    const reads = { lastSeq: 1, timeline } as unknown as SessionReads;
    let busy = true;
    let counted = 0;
    const charts = new ChartsCounter((use) => use(reads), () => (counted += 1), 30_000, () => busy);
    expect(charts.current(1)).toBeNull();
    await sleep(100);
    // The first stretch stops at its first look (50 sessions) and waits.
    expect(read).toBe(50);
    expect(counted).toBe(0);
    busy = false;
    await charts.settled();
    expect(read).toBe(500);
    expect(counted).toBe(1);
    expect(charts.current(1)!.hour.buckets.at(-1)!.spawned).toBe(500);
  });
});
