import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { SessionManager } from '../src/index.js';
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

/** Milliseconds the server takes to answer a GET (the whole body). */
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

/**
 * The dashboard (`serve`) on the largest file store against an empty one (one session), in
 * headless Chromium: each view's first page ready, the server's answer to a filter and to a
 * page change, the delay until an append by another process shows on an open page, the
 * server's peak memory against a smaller store, and each page's weight.
 */
export async function dashboardBenches(runs: number, largest: SeededStore, smaller: SeededStore): Promise<Row[]> {
  const big = await largest.copy();
  const empty = await scratch('dashboard-empty');
  const browser = await chromium.launch({ executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const servers: Served[] = [];
  try {
    const lone = await SessionManager.open(empty.dir);
    const only = await lone.spawnAgentSession('CodeGenAgent', 'Resolve issue #7', { issueNumber: 7, currentPhase: 'CodeGeneration' });
    await lone.close();
    const [onBig, onEmpty] = [await serve(['--dir', big.dir]), await serve(['--dir', empty.dir])];
    servers.push(onBig, onEmpty);
    const page = await browser.newPage();
    const rows: Row[] = [];
    const picked = /\/pipeline\/([0-9a-f-]{36})/.exec(await (await fetch(`${onBig.url}sessions?status=Failed`)).text())![1]!;
    const views: Array<[string, string, string]> = [
      ['overview', '', ''],
      ['pipelines', 'pipelines', 'pipelines'],
      ['sessions', 'sessions', 'sessions'],
      ['pipeline page', `pipeline/${picked}`, `pipeline/${only.id}`],
    ];
    const weights: string[] = [];
    for (const [name, onLarge, onNone] of views) {
      const pair = await measurePair(runs, 1, () => readyMs(page, onBig.url + onLarge), () => readyMs(page, onEmpty.url + onNone));
      await readyMs(page, onBig.url + onLarge);
      const html = Buffer.byteLength(await page.content());
      weights.push(`${name} ${(html / 1024).toFixed(0)} KiB`);
      rows.push(timeRow(`dashboard ${name}: first page ready at ${largest.sessions.toLocaleString('en-US')} sessions (Chromium)`, pair, 'the same page on an empty store', '≤ 2×'));
    }
    const css = Buffer.byteLength(await (await fetch(`${onBig.url}assets/dashboard.css`)).text());
    const js = Buffer.byteLength(await (await fetch(`${onBig.url}assets/dashboard.js`)).text());
    rows.at(-1)!.note = `page weight at ${largest.sessions.toLocaleString('en-US')} sessions (HTML of each view's first page): ${weights.join(', ')}; plus ${(css / 1024).toFixed(1)} KiB CSS and ${(js / 1024).toFixed(1)} KiB script, nothing else`;

    const firstPage = await (await fetch(`${onBig.url}sessions?order=spawn`)).text();
    const after = /id="next" href="\/sessions\?([^"]+)"/.exec(firstPage)![1]!.replaceAll('&amp;', '&');
    const emptyAfter = 'order=spawn';
    const answers: Array<[string, string, string]> = [
      ['a filter (sessions: status and agent)', 'sessions?status=Failed&agent=TestAgent', 'sessions?status=Failed&agent=TestAgent'],
      ['a filter (pipelines: an issue)', 'pipelines?issue=7', 'pipelines?issue=7'],
      ['a page change (sessions: the next page)', `sessions?${after}`, `sessions?${emptyAfter}`],
    ];
    for (const [name, onLarge, onNone] of answers) {
      const pair = await measurePair(runs, 1, () => answerMs(onBig.url + onLarge), () => answerMs(onEmpty.url + onNone));
      rows.push(timeRow(`dashboard ${name} answered by the server at ${largest.sessions.toLocaleString('en-US')} sessions`, pair, 'the same on an empty store', '≤ 2×'));
    }

    const delays = async (served: Served, dir: string): Promise<number[]> => {
      await page.goto(`${served.url}sessions?order=newest`);
      await page.waitForSelector('#live[data-following="true"]', { state: 'attached' });
      const manager = await SessionManager.open(dir);
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
    const live = { ours: summarize(await delays(onBig, big.dir)), baseline: summarize(await delays(onEmpty, empty.dir)) };
    rows.push(timeRow(`dashboard: an append by another process visible on an open page at ${largest.sessions.toLocaleString('en-US')} sessions, delay`, live, 'the same on an empty store', 'median ≤ 1,000 ms'));

    // Memory: the big store's server after all of the above, against a smaller store's after the same views.
    const onSmaller = await serve(['--dir', smaller.dir]);
    servers.push(onSmaller);
    for (const [, onLarge] of views.slice(0, 3)) await readyMs(page, onSmaller.url + onLarge);
    const someFailed = /\/pipeline\/([0-9a-f-]{36})/.exec(await (await fetch(`${onSmaller.url}sessions?status=Failed`)).text())![1]!;
    await readyMs(page, `${onSmaller.url}pipeline/${someFailed}`);
    const peak = { ours: summarize([onBig.peakMiB()]), baseline: summarize([onSmaller.peakMiB()]) };
    rows.push({
      name: `dashboard: the server's peak memory at ${largest.sessions.toLocaleString('en-US')} sessions`, unit: 'MiB', ...peak,
      baselineName: `the same views at ${smaller.sessions.toLocaleString('en-US')} sessions`, ratio: peak.ours.median / peak.baseline.median, lowerIsBetter: true, target: '≤ 2×',
    });
    return rows;
  } finally {
    for (const served of servers) await served.stop();
    await browser.close();
    await big.done();
    await empty.done();
  }
}
