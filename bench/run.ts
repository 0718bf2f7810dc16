/*
 * npm run bench: every figure is the median of several runs (min–max beside it), next to a
 * baseline measured in the same run on the same disk. Writes bench/results.json as well.
 * BENCH_DIR picks the disk; BENCH_EVENTS the size of the big log (default 1 000 000); BENCH_PG the
 * PostgreSQL url for the PostgreSQL rows.
 */
import { writeFile } from 'node:fs/promises';
import { cpus, hostname, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { appendBenches, postgresAppendBenches } from './append.bench.js';
import { show, type Row } from './measure.js';
import { originalBaselineBenches } from './original-baseline.bench.js';
import { replayBenches } from './replay.bench.js';
import { spawnBenches } from './spawn.bench.js';

const runs = Number(process.env['BENCH_RUNS'] ?? 5);
const events = Number(process.env['BENCH_EVENTS'] ?? 1_000_000);
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const log = (text: string) => process.stderr.write(`${text}\n`);

log(`bench on ${machine}, ${runs} runs each`);
const rows: Row[] = [];
log('durable appends…');
const fileAppends = await appendBenches(runs);
rows.push(...fileAppends);
const pgUrl = process.env['BENCH_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';
log(`PostgreSQL appends (${pgUrl})…`);
rows.push(...(await postgresAppendBenches(runs, pgUrl, fileAppends).catch((error: unknown) => {
  log(`PostgreSQL rows skipped: ${String(error)}`);
  return [];
})));
// Spawns run before the big replay: forking a process costs more the larger the parent's heap.
log('spawn overhead…');
const spawns = await spawnBenches(runs);
log(`replay and open of ${events.toLocaleString('en-US')} events…`);
const replay = await replayBenches(Math.max(3, Math.min(runs, 5)), events);
rows.push(...replay.rows);
log('the original design as a baseline…');
rows.push(...(await originalBaselineBenches(3)));
rows.push(...spawns);

const mib = (bytes: unknown) => ((bytes as number) / 2 ** 20).toFixed(0);
const digits = (r: Row) => (r.unit === 'ms' ? 2 : 0);
const header = `| benchmark | ours | baseline (same run) | ratio | target |\n| --- | --- | --- | --- | --- |`;
const lines = rows.map((r) => `| ${r.name} | ${show(r.ours, digits(r))} ${r.unit} | ${r.baselineName}: ${show(r.baseline, digits(r))} ${r.unit} | ${r.ratio.toFixed(2)} | ${r.target ?? ''}${r.note ? ` — ${r.note}` : ''} |`);
const date = new Date().toISOString().slice(0, 10);
const f = replay.facts;
const facts = [
  `replay: ${f['events']} events, ${f['sessions']} sessions, ${mib(f['logBytes'])} MiB log; peak RSS growth while replaying ${mib(f['replayPeakRssGrowthBytes'])} MiB; replay equals live projections: ${f['replayMatchesLive']}`,
  `after an open from the checkpoint: getStats ${(f['statsAfterOpenMs'] as number).toFixed(1)} ms, the first listSessions (reads every ended session) ${(f['firstListAllMs'] as number).toFixed(0)} ms; heap held ${mib(f['heapAfterOpenBytes'])} MiB after the open, ${mib(f['heapAllReadBytes'])} MiB once every session was read`,
]
  .map((line) => `- ${line}`)
  .join('\n');
process.stdout.write(`${date} · ${hostname()} · ${machine}\n\n${header}\n${lines.join('\n')}\n\n${facts}\n`);
await writeFile(fileURLToPath(new URL('../../bench/results.json', import.meta.url)), `${JSON.stringify({ date, machine, runs, rows, facts: replay.facts }, null, 2)}\n`);
