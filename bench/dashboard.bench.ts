import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PostgresEventStore, SessionManager } from '../src/index.js';
import { measurePair, summarize, type Figure, type Row } from './measure.js';
import type { SeededStore } from './seeded-store.js';
import { scratch } from './work-dir.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** A `serve` process on a store, and its address. */
interface Served {
  url: string;
  child: ChildProcess;
  /** Its peak resident memory so far (VmHWM), in MiB. */
  peakMiB(): number;
  stop(): Promise<void>;
}

async function serve(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /serving (http:\/\/\S+)/.exec(out);
      if (match !== null) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr.slice(-500)}`)));
  });
  return {
    url,
    child,
    peakMiB: () => Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** Requests a sample of a server's answer makes in a row: one answer is a millisecond or two, which one request's noise on a shared machine swamps. */
const ANSWERS_A_SAMPLE = 25;

/** Milliseconds the server takes to answer a GET (the whole body), the mean of {@link ANSWERS_A_SAMPLE} in a row. */
async function answersMs(url: string): Promise<number> {
  let total = 0;
  for (let i = 0; i < ANSWERS_A_SAMPLE; i += 1) total += await answerMs(url);
  return total / ANSWERS_A_SAMPLE;
}

/** Milliseconds the server takes to answer one GET (the whole body). */
function answerMs(url: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    request(url, (response) => {
      response.resume();
      response.on('end', () => (response.statusCode === 200 ? resolve(performance.now() - start) : reject(new Error(`${url}: ${response.statusCode}`))));
    })
      .on('error', reject)
      .end();
  });
}

/** Milliseconds from navigating to a page until its load event (its stylesheet and script in). */
async function readyMs(page: Page, url: string): Promise<number> {
  const start = performance.now();
  const response = await page.goto(url, { waitUntil: 'load' });
  if (response?.status() !== 200) throw new Error(`${url}: ${response?.status()}`);
  return performance.now() - start;
}

const timeRow = (name: string, pair: { ours: Figure; baseline: Figure }, baselineName: string, target: string, note?: string): Row => ({
  name, unit: 'ms', ...pair, baselineName, ratio: pair.ours.median / pair.baseline.median, lowerIsBetter: true, target, ...(note === undefined ? {} : { note }),
});

/** A store the dashboard serves in the bench: its `serve` arguments, and a manager appending to it. */
interface BenchStore {
  args: string[];
  manager: () => Promise<SessionManager>;
}

/**
 * The dashboard (`serve`) on the largest store against an empty one (one session), on files and
 * on PostgreSQL (the same events copied into a schema and folded), in headless Chromium: each
 * view's first page ready, the server's answer to a filter and to a page change, the delay until
 * an append by another process shows on an open page, the server's peak memory against a
 * smaller store, and each page's weight.
 */
export async function dashboardBenches(runs: number, largest: SeededStore, smaller: SeededStore, pgUrl?: string): Promise<Row[]> {
  const big = await largest.copy();
  const empty = await scratch('dashboard-empty');
  const cache = await scratch('dashboard-pg');
  const schemas = { big: `miyabi_bench_dash_${process.pid}`, empty: `miyabi_bench_dash_empty_${process.pid}`, smaller: `miyabi_bench_dash_small_${process.pid}` };
  const at = (schema: string) => `${pgUrl}#${schema}`;
  const browser = await chromium.launch({ executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const rows: Row[] = [];
    const onFiles = (dir: string): BenchStore => ({ args: ['--dir', dir], manager: () => SessionManager.open(dir) });
    const lone = await SessionManager.open(empty.dir);
    await lone.spawnAgentSession('CodeGenAgent', 'Resolve issue #7', { issueNumber: 7, currentPhase: 'CodeGeneration' });
    await lone.close();
    rows.push(...(await dashboardRows(runs, browser, '', onFiles(big.dir), onFiles(empty.dir), onFiles(smaller.dir), largest.sessions, smaller.sessions)));
    if (pgUrl !== undefined) {
      const onPg = (schema: string): BenchStore => ({
        args: ['--store', at(schema)],
        manager: () => SessionManager.open(join(cache.dir, schema), { store: new PostgresEventStore({ connectionString: pgUrl, schema }) }),
      });
      await dropSchemas(pgUrl, Object.values(schemas));
      await copyInto(largest.dir, at(schemas.big));
      await copyInto(smaller.dir, at(schemas.smaller));
      await copyInto(empty.dir, at(schemas.empty));
      rows.push(...(await dashboardRows(runs, browser, ' on PostgreSQL', onPg(schemas.big), onPg(schemas.empty), onPg(schemas.smaller), largest.sessions, smaller.sessions)));
    }
    return rows;
  } finally {
    await browser.close();
    if (pgUrl !== undefined) await dropSchemas(pgUrl, Object.values(schemas)).catch(() => {});
    await big.done();
    await empty.done();
    await cache.done();
  }
}

const run = promisify(execFile);

/** Copies a file store into a PostgreSQL store and folds its sessions table, as a user moving to PostgreSQL does. */
async function copyInto(dir: string, spec: string): Promise<void> {
  await run(process.execPath, [CLI, 'copy', '--from', dir, '--to', spec], { maxBuffer: 1 << 26 });
  await run(process.execPath, [CLI, 'migrate', '--store', spec]);
}

async function dropSchemas(url: string, schemas: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

async function dashboardRows(runs: number, browser: Browser, on: string, bigStore: BenchStore, emptyStore: BenchStore, smallerStore: BenchStore, sessions: number, smallerSessions: number): Promise<Row[]> {
  const servers: Served[] = [];
  const size = sessions.toLocaleString('en-US');
  try {
    const [onBig, onEmpty] = [await serve(bigStore.args), await serve(emptyStore.args)];
    servers.push(onBig, onEmpty);
    const page = await browser.newPage();
    const rows: Row[] = [];
    const picked = /\/pipeline\/([0-9a-f-]{36})/.exec(await (await fetch(`${onBig.url}sessions?status=Failed`)).text())![1]!;
    const only = /\/pipeline\/([0-9a-f-]{36})/.exec(await (await fetch(`${onEmpty.url}sessions`)).text())![1]!;
    const views: Array<[string, string, string]> = [
      ['overview', '', ''],
      ['pipelines', 'pipelines', 'pipelines'],
      ['sessions', 'sessions', 'sessions'],
      ['pipeline page', `pipeline/${picked}`, `pipeline/${only}`],
    ];
    const weights: string[] = [];
    for (const [name, onLarge, onNone] of views) {
      const pair = await measurePair(runs, 1, () => readyMs(page, onBig.url + onLarge), () => readyMs(page, onEmpty.url + onNone));
      await readyMs(page, onBig.url + onLarge);
      const html = Buffer.byteLength(await page.content());
      weights.push(`${name} ${(html / 1024).toFixed(0)} KiB`);
      rows.push(timeRow(`dashboard${on} ${name}: first page ready at ${size} sessions (Chromium)`, pair, 'the same page on an empty store', '≤ 2×'));
    }
    const css = Buffer.byteLength(await (await fetch(`${onBig.url}assets/dashboard.css`)).text());
    const js = Buffer.byteLength(await (await fetch(`${onBig.url}assets/dashboard.js`)).text());
    rows.at(-1)!.note = `page weight at ${size} sessions (HTML of each view's first page): ${weights.join(', ')}; plus ${(css / 1024).toFixed(1)} KiB CSS and ${(js / 1024).toFixed(1)} KiB script, nothing else`;

    const firstPage = await (await fetch(`${onBig.url}sessions?order=spawn`)).text();
    const after = /id="next" href="\/sessions\?([^"]+)"/.exec(firstPage)![1]!.replaceAll('&amp;', '&');
    const answers: Array<[string, string, string]> = [
      ['a filter (sessions: status and agent)', 'sessions?status=Failed&agent=TestAgent', 'sessions?status=Failed&agent=TestAgent'],
      ['a filter (pipelines: an issue)', 'pipelines?issue=7', 'pipelines?issue=7'],
      ['a page change (sessions: the next page)', `sessions?${after}`, 'sessions?order=spawn'],
    ];
    for (const [name, onLarge, onNone] of answers) {
      const pair = await measurePair(runs, 1, () => answersMs(onBig.url + onLarge), () => answersMs(onEmpty.url + onNone));
      rows.push(timeRow(`dashboard${on} ${name} answered by the server at ${size} sessions (mean of ${ANSWERS_A_SAMPLE} in a row)`, pair, 'the same on an empty store', '≤ 2×'));
    }

    const delays = async (served: Served, store: BenchStore): Promise<number[]> => {
      await page.goto(`${served.url}sessions?order=newest`);
      await page.waitForSelector('#live[data-following="true"]', { state: 'attached' });
      const manager = await store.manager();
      const values: number[] = [];
      try {
        for (let i = 0; i < runs + 1; i += 1) {
          const purpose = `appended by the bench ${process.pid}-${i}-${Date.now()}`;
          await manager.spawnAgentSession('ReviewAgent', purpose, { issueNumber: 9, currentPhase: 'Review' });
          const acknowledged = performance.now();
          await page.waitForSelector(`text=${purpose}`, { timeout: 30_000 });
          values.push(performance.now() - acknowledged);
        }
      } finally {
        await manager.close();
      }
      return values.slice(1);
    };
    const live = { ours: summarize(await delays(onBig, bigStore)), baseline: summarize(await delays(onEmpty, emptyStore)) };
    rows.push(timeRow(`dashboard${on}: an append by another process visible on an open page at ${size} sessions, delay`, live, 'the same on an empty store', 'median ≤ 1,000 ms'));

    // Memory: the big store's server after all of the above, against a smaller store's after the same views.
    const onSmaller = await serve(smallerStore.args);
    servers.push(onSmaller);
    for (const [, onLarge] of views.slice(0, 3)) await readyMs(page, onSmaller.url + onLarge);
    const someFailed = /\/pipeline\/([0-9a-f-]{36})/.exec(await (await fetch(`${onSmaller.url}sessions?status=Failed`)).text())![1]!;
    await readyMs(page, `${onSmaller.url}pipeline/${someFailed}`);
    const peak = { ours: summarize([onBig.peakMiB()]), baseline: summarize([onSmaller.peakMiB()]) };
    rows.push({
      name: `dashboard${on}: the server's peak memory at ${size} sessions`, unit: 'MiB', ...peak,
      baselineName: `the same views at ${smallerSessions.toLocaleString('en-US')} sessions`, ratio: peak.ours.median / peak.baseline.median, lowerIsBetter: true, target: '≤ 2×',
    });
    await page.close();
    return rows;
  } finally {
    for (const served of servers) await served.stop();
  }
}
