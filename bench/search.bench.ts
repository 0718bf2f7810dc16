import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { PostgresEventStore, SessionManager } from '../src/index.js';
import { searchStore } from '../src/query/conversation-search.js';
import { readFileSessions, readPostgresSessions } from '../src/query/session-reads.js';
import { lineOf, transcriptSignature } from '../src/store/file/transcript-word-index.js';
import { writeBigLog } from './big-log.js';
import { measurePair, type Row } from './measure.js';
import { scratch } from './work-dir.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** The phrase some conversations hold (one in a thousand), and one nobody said whose words everyone did. */
const RARE = 'flaky parser regression';
const UNSAID = 'tobo kadi';

/** A deterministic stream of numbers in [0, 1) (mulberry32), so every run builds the same store. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Conversations as an agent's read: a prompt, then turns of prose drawn from a vocabulary of
 * 4,000 words (a few common, most rare, as in text), tool calls and their results (a file's
 * lines). About 6 KB and 300 distinct words each.
 */
function conversationOf(index: number, issue: number, next: () => number, vocabulary: string[]): string {
  const word = () => vocabulary[Math.floor(vocabulary.length * next() ** 3)]!;
  const prose = (words: number) => Array.from({ length: words }, word).join(' ');
  const lines = [
    { type: 'user', message: { role: 'user', content: `You are an agent working on GitHub issue #${issue}. ${prose(30)}` } },
    { type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: prose(60) }, { type: 'tool_use', id: 't1', name: 'Read', input: { file_path: `src/${word()}.ts` } }] } },
    { type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: Array.from({ length: 20 }, () => prose(8)).join('\n') }] } },
    { type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: `${prose(50)}${index % 1000 === 7 ? ` the ${RARE} is fixed.` : ''}` }] } },
    { type: 'user', message: { role: 'user', content: prose(20) } },
    { type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: prose(80) }] } },
  ];
  return `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`;
}

/**
 * A file store of ~14,000 sessions (pipelines, a quarter Active) whose 10,000 ended sessions
 * each have a stored conversation, written straight to the store's files with the library's own
 * index encoder (10,000 saves would mostly measure fsyncs).
 */
async function storeWithConversations(dir: string): Promise<number> {
  await writeBigLog(dir, 56_000, 0.25);
  const ended: Array<{ id: string; issue: number }> = [];
  const issues = new Map<string, number>();
  for await (const line of createInterface({ input: createReadStream(join(dir, 'events.ndjson')) })) {
    const event = JSON.parse(line) as { type: string; sessionId: string; data: { context?: { issueNumber: number } } };
    if (event.type === 'SessionSpawned') issues.set(event.sessionId, event.data.context!.issueNumber);
    if (event.type === 'SessionAgentFinished' && ended.length < 10_000) ended.push({ id: event.sessionId, issue: issues.get(event.sessionId)! });
  }
  const next = random(42);
  const vocabulary = Array.from({ length: 4000 }, (_, i) => (i === 0 ? 'the' : `${'bcdfghklmnprstvz'[i % 16]}${'aeiou'[(i >> 4) % 5]}${'bcdfghklmnprstvz'[(i >> 6) % 16]}${'aeiou'[(i >> 10) % 5]}${i > 2000 ? 'x' : ''}`));
  vocabulary.push(...UNSAID.split(' '));
  const folder = join(dir, 'transcripts');
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const index: string[] = [];
  for (const [i, { id, issue }] of ended.entries()) {
    // Both words of the unsaid phrase in every conversation, never side by side.
    const content = Buffer.from(conversationOf(i, issue, next, vocabulary).replace(/\n$/, `\n${JSON.stringify({ type: 'assistant', message: { role: 'assistant', content: `${UNSAID.split(' ')[1]} then ${UNSAID.split(' ')[0]}` } })}\n`));
    await writeFile(join(folder, `${id}.jsonl`), content, { mode: 0o600 });
    index.push(lineOf(id, transcriptSignature(content)));
  }
  const handle = await open(join(folder, 'words.idx'), 'w', 0o600);
  await handle.write(index.join(''));
  await handle.close();
  // A store in use has its checkpoint: a manager writes it as it closes.
  await (await SessionManager.open(dir)).close();
  return ended.length;
}

/** Milliseconds `work` takes. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/**
 * The search rows: the first page of a search over 10,000 stored conversations against the
 * first page of `list` with a filter on the same store, in the library and as CLI commands,
 * on files and on PostgreSQL (the store copied there with `copy`, which indexes each
 * conversation as it stores it). Default options.
 */
export async function searchBenches(runs: number, pgUrl: string): Promise<Row[]> {
  const { dir, done } = await scratch('search');
  const schema = `miyabi_bench_search_${process.pid}`;
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  const rows: Row[] = [];
  try {
    const conversations = await storeWithConversations(dir);
    const listPage = { agent: 'ReviewAgent' as const, limit: 20 };
    const row = (name: string, pair: { ours: Row['ours']; baseline: Row['baseline'] }, baselineName: string, target = '≤ 2×'): Row => ({
      name: `${name}, ${conversations.toLocaleString('en-US')} stored conversations`,
      unit: 'ms',
      ...pair,
      baselineName,
      ratio: pair.ours.median / pair.baseline.median,
      lowerIsBetter: true,
      target,
    });
    const cli = (args: string[]) => () => timed(() => run(process.execPath, [CLI, ...args], { maxBuffer: 1 << 26 }));
    // The same rows on each store: three searches in the library, the rare one as a command, each against a list's first page.
    const storeRows = async (kind: string, searched: string | PostgresEventStore, list: () => Promise<number>, where: string[]) => {
      for (const [label, text, target] of [
        [`a phrase ${conversations / 1000} conversations hold`, RARE, '≤ 2×'],
        ['a word every conversation holds', 'the', '≤ 2×'],
        ['two words every conversation holds, never side by side (no target)', UNSAID, ''],
      ] as const) {
        rows.push(row(`search first page (library, ${kind}): ${label}`, await measurePair(runs, 1, () => timed(() => searchStore(searched, { text })), list), '`list` first page, --agent, on the same store', target));
      }
      rows.push(row(`CLI \`search\` first page (${kind}): the rare phrase`, await measurePair(runs, 1, cli(['search', RARE, ...where]), cli(['list', '--agent', 'ReviewAgent', '--limit', '20', ...where])), 'CLI `list --agent A --limit 20` on the same store'));
    };
    await storeRows('files', dir, () => timed(() => readFileSessions(dir, (reads) => reads.page(listPage))), ['--dir', dir]);

    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    const url = `${pgUrl}#${schema}`;
    await run(process.execPath, [CLI, 'copy', '--from', dir, '--to', url], { maxBuffer: 1 << 26 });
    await run(process.execPath, [CLI, 'migrate', '--store', url]);
    const store = new PostgresEventStore({ connectionString: pgUrl, schema });
    try {
      await storeRows('PostgreSQL', store, () => timed(() => readPostgresSessions(store, (reads) => reads.page(listPage))), ['--store', url]);
    } finally {
      await store.close();
    }
    return rows;
  } finally {
    if (process.env['BENCH_KEEP'] === undefined) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
    if (process.env['BENCH_KEEP'] === undefined) await done();
    else process.stderr.write(`kept ${dir} and ${schema}\n`);
  }
}
