import { execFile, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { measurePair, summarize, type Figure, type Row } from './measure.js';
import type { SeededStore } from './seeded-store.js';
import { scratch } from './work-dir.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const PEAK = fileURLToPath(new URL('./peak-rss.js', import.meta.url));

/** What one CLI process took: wall time and its peak resident memory. */
interface ProcessCost {
  ms: number;
  peakBytes: number;
}

/**
 * Runs the CLI as a user would with its output sent to /dev/null (as `> /dev/null`: no pipe for
 * this process to drain); its peak RSS comes from peak-rss.ts, preloaded.
 */
async function cliCost(args: string[]): Promise<ProcessCost> {
  const start = performance.now();
  const child = spawn(process.execPath, ['--import', PEAK, CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const ms = performance.now() - start;
  // audit exits 1 when it finds something: still a finished run.
  if (code !== 0 && code !== 1) throw new Error(`${args.join(' ')} exited ${code}: ${stderr.slice(-500)}`);
  const match = /peak-rss=(\d+)/.exec(stderr);
  if (match === null) throw new Error(`no peak RSS from ${args.join(' ')}: ${stderr.slice(-500)}`);
  return { ms, peakBytes: Number(match[1]) };
}

/** A stored conversation for `id` in the file store at `dir` (what `transcript` reads). */
async function seedTranscript(dir: string, id: string): Promise<void> {
  await mkdir(join(dir, 'transcripts'), { recursive: true });
  const line = JSON.stringify({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: 'Implemented the change.' }] } });
  await writeFile(join(dir, 'transcripts', `${id}.jsonl`), `${line}\n`.repeat(200));
}

/** Time and peak memory of the same command on the large store and on an empty one, in alternation. */
async function againstEmpty(runs: number, name: string, large: string[], empty: string[], sessions: number, on = ''): Promise<Row[]> {
  const ours: ProcessCost[] = [];
  const base: ProcessCost[] = [];
  await measurePair(runs, 1, async () => {
    ours.push(await cliCost(large));
    return 0;
  }, async () => {
    base.push(await cliCost(empty));
    return 0;
  });
  // The warm-up round is not counted.
  const [o, b] = [ours.slice(1), base.slice(1)];
  const figure = (values: number[]): Figure => summarize(values);
  const label = `CLI \`${name}\` at ${sessions.toLocaleString('en-US')} sessions${on}`;
  const time = { ours: figure(o.map((c) => c.ms)), baseline: figure(b.map((c) => c.ms)) };
  const rss = { ours: figure(o.map((c) => c.peakBytes / 2 ** 20)), baseline: figure(b.map((c) => c.peakBytes / 2 ** 20)) };
  return [
    { name: `${label}: time`, unit: 'ms', ...time, baselineName: 'the same on an empty store', ratio: time.ours.median / time.baseline.median, lowerIsBetter: true, target: '≤ 2×' },
    { name: `${label}: peak memory`, unit: 'MiB', ...rss, baselineName: 'the same on an empty store', ratio: rss.ours.median / rss.baseline.median, lowerIsBetter: true, target: '≤ 2×' },
  ];
}

/** Bytes per second of the bare way to read the same bytes: stream them and parse each line as JSON. */
async function bareLines(path: string, from = 0): Promise<number> {
  const start = performance.now();
  let bytes = 0;
  let carry = '';
  for await (const chunk of createReadStream(path, { start: from, highWaterMark: 1024 * 1024 })) {
    const text = carry + (chunk as Buffer).toString('utf8');
    bytes += (chunk as Buffer).length;
    const lines = text.split('\n');
    carry = lines.pop()!;
    // sessions.json's records are indented lines ending in a comma; the log's are whole JSON.
    for (const raw of lines) {
      const line = raw.trim();
      if (line.startsWith('{"')) JSON.parse(line.endsWith(',') ? line.slice(0, -1) : line);
    }
  }
  return (bytes / ((performance.now() - start) / 1000));
}

/**
 * The read commands at the largest size against an empty store (time and peak memory), and the
 * streaming ones (`list --all`, `audit`, `export`): peak memory at the largest size against a
 * smaller store, and throughput against reading the same bytes bare.
 */
export async function readBenches(runs: number, largest: SeededStore, smaller: SeededStore): Promise<Row[]> {
  const empty = await scratch('read-empty');
  try {
    const rows: Row[] = [];
    const pick = async (dir: string) => {
      const { stdout } = await run(process.execPath, [CLI, 'list', '--status', 'HandedOff', '--order', 'newest', '--limit', '1', '--json', '--dir', dir], { maxBuffer: 1 << 26 });
      return (JSON.parse(stdout) as Array<{ id: string }>)[0]!.id;
    };
    // The empty store gets the one session its commands name, and a transcript like the large one's.
    const { stdout } = await run(process.execPath, [CLI, 'spawn', 'CodeGenAgent', '--purpose', 'Implement #7', '--issue', '7', '--phase', 'CodeGeneration', '--dir', empty.dir]);
    const lone = stdout.split(' ')[0]!;
    const id = await pick(largest.dir);
    await seedTranscript(largest.dir, id);
    await seedTranscript(empty.dir, lone);
    const commands: Array<[string, (dir: string, id: string) => string[]]> = [
      ['list --status Failed --limit 50', (dir) => ['list', '--status', 'Failed', '--limit', '50', '--dir', dir]],
      ['list --agent ReviewAgent --issue N', (dir) => ['list', '--agent', 'ReviewAgent', '--issue', '7', '--dir', dir]],
      ['show', (dir, session) => ['show', session, '--dir', dir]],
      ['lineage', (dir, session) => ['lineage', session, '--dir', dir]],
      ['stats', (dir) => ['stats', '--dir', dir]],
      ['transcript', (dir, session) => ['transcript', session, '--dir', dir]],
      ['report', (dir) => ['report', '--out', join(dir, 'report.html'), '--dir', dir]],
    ];
    for (const [name, args] of commands) rows.push(...(await againstEmpty(runs, name, args(largest.dir, id), args(empty.dir, lone), largest.sessions)));

    rows.push(...(await streamBenches(largest, smaller)));
    return rows;
  } finally {
    await empty.done();
  }
}

/**
 * The streaming commands (`list --all --json`, `audit`, `export`): peak memory at the largest
 * size against a smaller store, and throughput against reading the same bytes bare.
 */
export async function streamBenches(largest: SeededStore, smaller: SeededStore): Promise<Row[]> {
  const rows: Row[] = [];
  // Streaming: the same peak at any size, and a pace near reading the bytes bare.
  // Each with the file it reads: the pace is the bytes of that file a second, beside parsing it bare.
  const streams: Array<[string, (dir: string) => string[], string]> = [
    ['list --all --json', (dir) => ['list', '--all', '--json', '--dir', dir], 'sessions.json'],
    ['audit', (dir) => ['audit', '--dir', dir], 'events.ndjson'],
    ['export --format ndjson', (dir) => ['export', '--format', 'ndjson', '--dir', dir], 'events.ndjson'],
    // The default format: the original sessions.json, every record read, decoded and written again.
    ['export', (dir) => ['export', '--dir', dir], 'sessions.json'],
  ];
  for (const [name, args, read] of streams) {
    const big: ProcessCost[] = [];
    const small: ProcessCost[] = [];
    await measurePair(2, 0, async () => {
      big.push(await cliCost(args(largest.dir)));
      return 0;
    }, async () => {
      small.push(await cliCost(args(smaller.dir)));
      return 0;
    });
    const peak = { ours: summarize(big.map((c) => c.peakBytes / 2 ** 20)), baseline: summarize(small.map((c) => c.peakBytes / 2 ** 20)) };
    rows.push({
      name: `CLI \`${name}\`: peak memory at ${largest.sessions.toLocaleString('en-US')} sessions`,
      unit: 'MiB', ...peak,
      baselineName: `the same at ${smaller.sessions.toLocaleString('en-US')} sessions`,
      ratio: peak.ours.median / peak.baseline.median, lowerIsBetter: true, target: 'the same (≤ 1.1×)',
    });
    const file = join(largest.dir, read);
    const bytes = (await stat(file)).size;
    const pace = await measurePair(2, 0, async () => bytes / ((await cliCost(args(largest.dir))).ms / 1000) / 2 ** 20, async () => (await bareLines(file)) / 2 ** 20);
    rows.push({
      name: `CLI \`${name}\` at ${largest.sessions.toLocaleString('en-US')} sessions: throughput`,
      unit: 'MiB/s', ...pace,
      baselineName: 'stream the same file, JSON.parse each line',
      ratio: pace.ours.median / pace.baseline.median, target: '≥ 0.5×',
    });
  }
  return rows;
}

/**
 * The read commands on PostgreSQL (`--store`), on a schema holding the largest store's events
 * (copied, then folded into the sessions table once by `migrate --store`) against an empty one
 * holding one session: time and peak memory. Each read still asks whether anything is new to
 * fold first, as it always does.
 */
export async function postgresReadBenches(runs: number, largest: SeededStore, url: string): Promise<Row[]> {
  const big = `miyabi_bench_reads_${process.pid}`;
  const none = `miyabi_bench_reads_empty_${process.pid}`;
  const at = (schema: string) => `${url}#${schema}`;
  const cache = await scratch('read-pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const schema of [big, none]) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await run(process.execPath, [CLI, 'copy', '--from', largest.dir, '--to', at(big)], { maxBuffer: 1 << 26 });
    await run(process.execPath, [CLI, 'migrate', '--store', at(big)]);
    const { stdout } = await run(process.execPath, [CLI, 'spawn', 'CodeGenAgent', '--purpose', 'Implement #7', '--issue', '7', '--phase', 'CodeGeneration', '--store', at(none), '--dir', cache.dir]);
    const lone = stdout.split(' ')[0]!;
    const picked = await run(process.execPath, [CLI, 'list', '--status', 'HandedOff', '--order', 'newest', '--limit', '1', '--json', '--store', at(big)], { maxBuffer: 1 << 26 });
    const id = (JSON.parse(picked.stdout) as Array<{ id: string }>)[0]!.id;
    const commands: Array<[string, (schema: string, id: string) => string[]]> = [
      ['list --status Failed --limit 50', (schema) => ['list', '--status', 'Failed', '--limit', '50', '--store', at(schema)]],
      ['list --agent ReviewAgent --issue N', (schema) => ['list', '--agent', 'ReviewAgent', '--issue', '7', '--store', at(schema)]],
      ['show', (schema, session) => ['show', session, '--store', at(schema)]],
      ['lineage', (schema, session) => ['lineage', session, '--store', at(schema)]],
      ['stats', (schema) => ['stats', '--store', at(schema)]],
      ['report', (schema) => ['report', '--out', join(cache.dir, 'report.html'), '--store', at(schema)]],
    ];
    const rows: Row[] = [];
    for (const [name, args] of commands) rows.push(...(await againstEmpty(runs, name, args(big, id), args(none, lone), largest.sessions, ' on PostgreSQL')));
    return rows;
  } finally {
    for (const schema of [big, none]) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
    await cache.done();
  }
}
