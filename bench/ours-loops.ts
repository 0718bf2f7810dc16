import { statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionManager, type SessionManagerOptions } from '../src/index.js';
import { bytesWrittenByProcess } from './io-counters.js';
import { perSecond } from './measure.js';
import { PipelineWorker, runWorkers } from './workload.js';

/** What one run of ours did: events/s while callers waited, bytes written per byte appended (close included), and the mean line. */
export interface OursRun {
  perSecond: number;
  amplification: number;
  /** Events and bytes per append (a handoff appends two events at once), for bare loops of the same writes. */
  eventsPerAppend: number;
  bytesPerAppend: number;
  latencies: number[];
  manager: SessionManager;
}

let issues = 1_000_000;

/**
 * Opens `dir` (with `options`; the defaults unless a row says otherwise), lets `body` append,
 * then closes. Time counts until the last append was acknowledged; write amplification counts
 * every byte the process wrote from the first append through close (the final checkpoint too)
 * per byte the log grew.
 */
async function run(dir: string, options: SessionManagerOptions, appends: number, body: (m: SessionManager, older: string[]) => Promise<number[]>): Promise<OursRun> {
  const manager = await SessionManager.open(dir, options);
  // Older Active sessions, in random order: some get ended, wherever they lie in the store.
  const older = (await manager.listActiveSessions()).map((s) => s.id).sort(() => Math.random() - 0.5);
  let events = 0;
  manager.subscribe(() => (events += 1));
  const size = () => statSync(join(dir, 'events.ndjson')).size;
  const size0 = size();
  const io0 = bytesWrittenByProcess();
  const start = performance.now();
  const latencies = await body(manager, older);
  const ms = performance.now() - start;
  await Promise.resolve();
  const appended = size() - size0;
  await manager.close();
  const written = bytesWrittenByProcess() - io0;
  return { perSecond: perSecond(events, ms), amplification: written / appended, eventsPerAppend: events / appends, bytesPerAppend: appended / appends, latencies, manager };
}

/** One caller, `steps` awaited appends of the pipeline mix; latencies per append. */
export function oursSingle(dir: string, steps: number, options: SessionManagerOptions = {}): Promise<OursRun> {
  return run(dir, options, steps, async (m, older) => {
    const worker = new PipelineWorker(m, (issues += 1), older);
    const latencies: number[] = [];
    for (let i = 0; i < steps; i += 1) {
      const t = performance.now();
      await worker.step();
      latencies.push(performance.now() - t);
    }
    return latencies;
  });
}

/** `callers` concurrent callers, `steps` appends of the pipeline mix in all. */
export function oursConcurrent(dir: string, callers: number, steps: number, options: SessionManagerOptions = {}): Promise<OursRun> {
  return run(dir, options, steps, async (m, older) => {
    await runWorkers(m, callers, steps, older, (issues += callers));
    return [];
  });
}

/** One caller appending one event every `intervalMs` (an agent pipeline's pace), `steps` times. */
export function oursTrickle(dir: string, steps: number, intervalMs: number): Promise<OursRun> {
  return run(dir, {}, steps, async (m, older) => {
    const worker = new PipelineWorker(m, (issues += 1), older);
    for (let i = 0; i < steps; i += 1) {
      await worker.step();
      await sleep(intervalMs);
    }
    return [];
  });
}
