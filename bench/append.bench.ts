import { open } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresEventStore, SessionManager, type EventStore } from '../src/index.js';
import { measure, measurePair, perSecond, type Row } from './measure.js';
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
async function managerLoop(total: number, callers: number, store?: () => EventStore): Promise<number> {
  const { dir, done } = await scratch('manager');
  const m = await SessionManager.open(dir, { checkpointIdleMs: -1, checkpointEvery: Number.MAX_SAFE_INTEGER, ...(store === undefined ? {} : { store: store() }) });
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

/** Per-call latencies (ms, sorted) of `n` awaited durable appends, through the manager or the bare loop. */
async function latencies(n: number, line: Buffer | null): Promise<number[]> {
  const { dir, done } = await scratch('latency');
  const out: number[] = [];
  if (line === null) {
    const m = await SessionManager.open(dir, { checkpointIdleMs: -1, checkpointEvery: Number.MAX_SAFE_INTEGER });
    for (let i = 0; i < n; i += 1) {
      const start = performance.now();
      await m.spawnAgentSession('CodeGenAgent', 'bench', context);
      out.push(performance.now() - start);
    }
    await m.close();
  } else {
    const handle = await open(join(dir, 'bare.ndjson'), 'a');
    for (let i = 0; i < n; i += 1) {
      const start = performance.now();
      await handle.write(line);
      await handle.datasync();
      out.push(performance.now() - start);
    }
    await handle.close();
  }
  await done();
  return out.sort((a, b) => a - b);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
const tails = (sorted: number[]) => `p50 ${percentile(sorted, 50).toFixed(2)}, p99 ${percentile(sorted, 99).toFixed(2)}, p99.9 ${percentile(sorted, 99.9).toFixed(2)} ms`;

/** Durable append throughput, single caller and 100 concurrent callers, each against its bare loop. */
export async function appendBenches(runs: number): Promise<Row[]> {
  const line = await sampleLine();
  const single = 1500;
  const { ours: ours1, baseline: bare1 } = await measurePair(runs, 3, () => managerLoop(single, 1), () => bareLoop(line, single, 1));
  // Latency as storage engines report it: the tail, not only the mean, over 5 000 awaited calls each.
  const oursLatency = await latencies(5000, null);
  const bareLatency = await latencies(5000, line);
  const concurrent = 20_000;
  const { ours: ours100, baseline: bare100 } = await measurePair(runs, 1, () => managerLoop(concurrent, 100), () => bareLoop(line, concurrent / 100, 100));
  return [
    {
      name: 'durable append, 1 caller',
      unit: 'events/s',
      ours: ours1,
      baseline: bare1,
      baselineName: 'write + fdatasync per event',
      ratio: ours1.median / bare1.median,
      target: '≥ 0.8',
      note: `latency ours ${tails(oursLatency)}; bare ${tails(bareLatency)}`,
    },
    { name: 'durable append, 100 callers', unit: 'events/s', ours: ours100, baseline: bare100, baselineName: 'write of 100 + one fdatasync', ratio: ours100.median / bare100.median, target: '≥ 0.5' },
  ];
}

/** The PostgreSQL store's rows: the same manager loops, through one database, next to the file store's. */
export async function postgresAppendBenches(runs: number, url: string, fileRows: Row[]): Promise<Row[]> {
  const schemas: string[] = [];
  const store = () => {
    const schema = `miyabi_bench_${process.pid}_${schemas.length}`;
    schemas.push(schema);
    return new PostgresEventStore({ connectionString: url, schema });
  };
  try {
    const single = await measure(runs, () => managerLoop(1500, 1, store));
    const concurrent = await measure(runs, () => managerLoop(20_000, 100, store));
    const [file1, file100] = fileRows;
    return [
      { name: 'PostgreSQL: durable append, 1 caller', unit: 'events/s', ours: single, baseline: file1!.ours, baselineName: 'file store, same loop', ratio: single.median / file1!.ours.median },
      { name: 'PostgreSQL: durable append, 100 callers', unit: 'events/s', ours: concurrent, baseline: file100!.ours, baselineName: 'file store, same loop', ratio: concurrent.median / file100!.ours.median },
    ];
  } finally {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
}
