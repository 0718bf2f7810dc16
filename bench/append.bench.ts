import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { SessionManager } from '../src/index.js';
import { measure, perSecond, type Row } from './measure.js';
import { scratch } from './work-dir.js';

const context = { issueNumber: 1, currentPhase: 'CodeGeneration' as const, worktreePath: '/w' };

/** Bytes of one spawn event line as the manager writes it, for the bare loops. */
async function sampleLine(): Promise<Buffer> {
  const { dir, done } = await scratch('sample');
  const m = await SessionManager.open(dir, { checkpointIdleMs: -1 });
  await m.spawnAgentSession('CodeGenAgent', 'bench', context);
  await m.close();
  const handle = await open(join(dir, 'events.ndjson'), 'r');
  const line = await handle.readFile();
  await handle.close();
  await done();
  return line;
}

/** A bare loop: `batches` writes of `batch` lines, one fdatasync each. Returns events/s. */
async function bareLoop(line: Buffer, batches: number, batch: number): Promise<number> {
  const { dir, done } = await scratch('bare');
  const handle = await open(join(dir, 'bare.ndjson'), 'a');
  const chunk = Buffer.concat(Array.from({ length: batch }, () => line));
  const start = performance.now();
  for (let i = 0; i < batches; i += 1) {
    await handle.write(chunk);
    await handle.datasync();
  }
  const ms = performance.now() - start;
  await handle.close();
  await done();
  return perSecond(batches * batch, ms);
}

/** Durable appends through SessionManager: one awaited caller, or `callers` concurrent ones. */
async function managerLoop(total: number, callers: number): Promise<number> {
  const { dir, done } = await scratch('manager');
  const m = await SessionManager.open(dir, { checkpointIdleMs: -1, checkpointEvery: Number.MAX_SAFE_INTEGER });
  const start = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = 0; i < total / callers; i += 1) await m.spawnAgentSession('CodeGenAgent', 'bench', context);
    }),
  );
  const ms = performance.now() - start;
  await m.close();
  await done();
  return perSecond(total, ms);
}

/** Durable append throughput, single caller and 100 concurrent callers, each against its bare loop. */
export async function appendBenches(runs: number): Promise<Row[]> {
  const line = await sampleLine();
  const single = 1500;
  const ours1 = await measure(runs, () => managerLoop(single, 1));
  const bare1 = await measure(runs, () => bareLoop(line, single, 1));
  const concurrent = 20_000;
  const ours100 = await measure(runs, () => managerLoop(concurrent, 100));
  const bare100 = await measure(runs, () => bareLoop(line, concurrent / 100, 100));
  return [
    { name: 'durable append, 1 caller', unit: 'events/s', ours: ours1, baseline: bare1, baselineName: 'write + fdatasync per event', ratio: ours1.median / bare1.median, target: '≥ 0.8' },
    { name: 'durable append, 100 callers', unit: 'events/s', ours: ours100, baseline: bare100, baselineName: 'write of 100 + one fdatasync', ratio: ours100.median / bare100.median, target: '≥ 0.5' },
  ];
}
