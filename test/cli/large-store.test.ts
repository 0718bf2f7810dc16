import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionManager } from '../../src/index.js';
import { writeBigLog } from '../../bench/big-log.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';

/*
 * A store of 25,000 sessions, run with a tenth of node's default stack: code that spreads one
 * argument per session (`Math.max(...rows)`) or recurses once per session fails here the way it
 * fails at ~125,000 sessions with the default stack, in a second instead of minutes.
 */
const SESSIONS = 25_000;
const SMALL_STACK = ['--stack-size=100'];

describe(`every read command on a store of ${SESSIONS} sessions, with a small stack`, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let some: string;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    // Written with the library's own encoder, then opened once so that sessions.json exists.
    const log = await writeBigLog(dir, Math.round(SESSIONS * 3.5), 0.25);
    some = log.active[log.active.length - 1]!;
    const manager = await SessionManager.open(dir);
    await manager.close();
  }, 120_000);
  afterAll(() => cleanup());

  it.each([
    [['list']],
    [['list', '--all']],
    [['list', '--all', '--json']],
    [['list', '--issue', '3', '--order', 'newest']],
    [['stats']],
    [['show', 'SOME']],
    [['lineage', 'SOME']],
    [['report', '--out', 'REPORT']],
    [['report', '--newest', '5000', '--out', 'REPORT']],
    [['export', '--format', 'mermaid']],
    [['export', '--format', 'dot']],
    [['export', '--format', 'ndjson']],
    [['export', '--format', 'sessions']],
    [['at', '1000']],
    [['watch', '--from-start', '--count', '3']],
    [['audit']],
    [['replay']],
  ])('%j runs to the end', async (args) => {
    const resolved = args.map((a) => (a === 'SOME' ? some : a === 'REPORT' ? join(dir, 'report.html') : a));
    const { code, stderr } = await runCli([...resolved, '--dir', dir], { nodeArgs: SMALL_STACK });
    expect(stderr).not.toMatch(/internal error|Maximum call stack/);
    expect(code).toBe(0);
  }, 120_000);
});
