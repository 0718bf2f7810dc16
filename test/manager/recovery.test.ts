import { appendFile, readFile, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crc32 } from 'node:zlib';
import { SessionManager, type SessionEvent } from '../../src/index.js';
import { encodeEventLine } from '../../src/store/file/line-codec.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { logBytes, sessionsFileContent } from '../helpers/log-files.js';

/** A well-formed sessions.json (valid checksum, its index intact) that claims to cover events up to `seq`. */
function lying(text: string, seq: number): string {
  const claimed = text.replace(/"seq": \d+,/, `"seq": ${seq},`);
  const covered = claimed.slice(0, claimed.lastIndexOf(',\n  "checksum"'));
  return `${covered},\n  "checksum": ${crc32(covered)}\n}\n`;
}

describe('opening a store after crashes and tampering', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const sessionsPath = () => join(dir, 'sessions.json');
  const logPath = () => join(dir, 'events.ndjson');
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  async function pipeline(): Promise<string[]> {
    const m = await SessionManager.open(dir);
    const a = await m.spawnAgentSession('CodeGenAgent', 'p', contextFor());
    const b = await m.handoff(a.id, 'ReviewAgent', contextFor('Review'));
    await m.completeSession(b.id, { success: true, output: 'ok' });
    await m.close();
    return [a.id, b.id];
  }

  it('uses sessions.json as a checkpoint and replays only the events after it', async () => {
    await pipeline();
    const m = await SessionManager.open(dir, { checkpointIdleMs: -1 });
    expect(m.openReport).toEqual({ checkpoint: 'loaded', replayedEvents: 0, tornTail: null, orphaned: [], adopted: [] });
    await m.spawnAgentSession('X', 'p', contextFor());
    // Simulate a crash before the checkpoint: the process goes away without close().
    const reopened = await SessionManager.open(dir);
    expect(reopened.openReport).toMatchObject({ checkpoint: 'loaded', replayedEvents: 1 });
    expect((await reopened.listSessions()).length).toBe(3);
    await reopened.close();
    await m.close();
  });

  it('rebuilds a missing, edited or lying sessions.json (or its index) from the log, to the same content', async () => {
    await pipeline();
    const good = await readFile(sessionsPath(), 'utf8');
    const content = await sessionsFileContent(dir);
    const indexPath = join(dir, 'sessions.1.idx');
    const goodIndex = await readFile(indexPath);
    const editedIndex = Buffer.from(goodIndex);
    editedIndex[40] = editedIndex[40]! ^ 1;
    const cases: Array<[string, string | null, Buffer | null]> = [
      ['missing', null, goodIndex],
      ['corrupt', good.replace('"ReviewAgent"', '"EvilAgent"'), goodIndex],
      // Cut short after our header: a write of ours that never finished (never the original's file, which starts otherwise).
      ['corrupt', good.slice(0, 60), goodIndex],
      ['corrupt', good.replace(/"seq": 4/, '"seq": 9'), goodIndex],
      ['corrupt', good, null],
      ['corrupt', good, editedIndex],
      ['corrupt', good, goodIndex.subarray(0, goodIndex.length - 52)],
      ['stale', lying(good, 9), goodIndex],
    ];
    for (const [verdict, text, index] of cases) {
      if (text === null) await unlink(sessionsPath());
      else await writeFile(sessionsPath(), text);
      if (index === null) await unlink(indexPath);
      else await writeFile(indexPath, index);
      const m = await SessionManager.open(dir);
      expect(m.openReport).toMatchObject({ checkpoint: verdict, replayedEvents: 4 });
      await m.close();
      expect(await sessionsFileContent(dir)).toEqual(content);
    }
  });

  it('never takes a file it did not write for its cache: the original\'s sessions.json beside a non-empty log stops the open, untouched', async () => {
    await pipeline();
    const original = '{\n  "sessions": [],\n  "version": 1\n}';
    for (const text of [original, '{"sessions": [', JSON.stringify(JSON.parse(await readFile(sessionsPath(), 'utf8')), null, 2)]) {
      await writeFile(sessionsPath(), text);
      await expect(SessionManager.open(dir)).rejects.toMatchObject({ code: 'FOREIGN_STORE' });
      expect(await readFile(sessionsPath(), 'utf8')).toBe(text);
    }
  });

  it('rebuilds when the log was cut below what sessions.json claims', async () => {
    await pipeline();
    const lines = (await logBytes(dir)).split('\n');
    await writeFile(logPath(), `${lines.slice(0, 3).join('\n')}\n`);
    const m = await SessionManager.open(dir);
    expect(m.openReport.checkpoint).toBe('stale');
    expect((await m.listActiveSessions()).length).toBe(1);
    await m.close();
  });

  it('cuts a torn final line, reports it, and keeps every complete line', async () => {
    await pipeline();
    const before = await logBytes(dir);
    await appendFile(logPath(), '{"seq":5,"id":"d0f');
    const m = await SessionManager.open(dir);
    expect(m.openReport.tornTail).toEqual({ offset: Buffer.byteLength(before), bytes: 18, lines: 0 });
    expect(await logBytes(dir)).toBe(before);
    const next = await m.spawnAgentSession('A', 'p', contextFor());
    expect((await m.getSession(next.id))?.status).toBe('Active');
    await m.close();
  });

  it('cuts a handoff whose second line never reached the disk, leaving the parent Active', async () => {
    const m = await SessionManager.open(dir);
    const a = await m.spawnAgentSession('A', 'p', contextFor());
    await m.handoff(a.id, 'B', contextFor('Review'));
    await m.close();
    const log = await logBytes(dir);
    const withoutChild = log.slice(0, log.lastIndexOf('\n', log.length - 2) + 1);
    await writeFile(logPath(), withoutChild);
    await unlink(sessionsPath());
    const reopened = await SessionManager.open(dir);
    expect(reopened.openReport.tornTail).toMatchObject({ lines: 1 });
    expect((await reopened.getSession(a.id))?.status).toBe('Active');
    expect((await stat(logPath())).size).toBe(Buffer.byteLength(log.split('\n')[0]!) + 1);
    await reopened.close();
  });

  it('refuses to open a log with a corrupt middle line, names line and byte, and changes nothing', async () => {
    await pipeline();
    const lines = (await logBytes(dir)).split('\n');
    lines[1] = lines[1]!.replace('"toAgent":"ReviewAgent"', '"toAgent":"ReviewAgenX"');
    const damaged = lines.join('\n');
    await writeFile(logPath(), damaged);
    await unlink(sessionsPath());
    const offset = Buffer.byteLength(lines[0]!) + 1;
    await expect(SessionManager.open(dir)).rejects.toMatchObject({
      code: 'CORRUPT_LOG',
      position: { file: logPath(), line: 2, offset },
    });
    expect(await logBytes(dir)).toBe(damaged);
  });

  it('refuses a log whose events break the session machine (a Completed after a HandedOff)', async () => {
    const [a] = await pipeline();
    const bogus: SessionEvent = {
      seq: 5, id: uuidv4(), type: 'SessionCompleted', sessionId: a!, timestamp: new Date().toISOString(), schemaVersion: 4, data: {},
    };
    await appendFile(logPath(), encodeEventLine(bogus));
    await unlink(sessionsPath());
    await expect(SessionManager.open(dir)).rejects.toMatchObject({ code: 'CORRUPT_LOG', message: expect.stringMatching(/HandedOff, not Active/) });
  });

  it('opens an empty log file and a missing directory as an empty store', async () => {
    await writeFile(logPath(), '');
    const m = await SessionManager.open(dir);
    expect(await m.getStats()).toMatchObject({ total: 0 });
    await m.close();
    const fresh = await SessionManager.open(join(dir, 'nested', '.ai', 'sessions'));
    expect(fresh.openReport).toEqual({ checkpoint: 'missing', replayedEvents: 0, tornTail: null, orphaned: [], adopted: [] });
    await fresh.close();
  });

  it('a truncated log (cut mid-line) keeps its whole-line prefix', async () => {
    await pipeline();
    const size = (await stat(logPath())).size;
    await truncate(logPath(), size - 40);
    const m = await SessionManager.open(dir);
    expect(m.openReport.tornTail?.bytes).toBeGreaterThan(0);
    expect(m.openReport.checkpoint).toBe('stale');
    expect((await m.getStats()).total).toBe(2);
    await m.close();
  });
});
