import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileEventStore, type SessionEvent } from '../../src/index.js';
import { exportedLine } from '../../src/cli/exported-lines.js';
import { WORKER_AFTER_BYTES } from '../../src/store/file/worker-log-read.js';
import { CHUNK, bigLogLines, eventOf, lineAt, lineOf } from '../helpers/big-log-lines.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';

/*
 * `export --format ndjson` of a big log has worker threads decode the lines and make the
 * exported ones, in chunks cut at line ends; this thread checks their order. Its output must
 * be what a read in one thread gives, byte for byte, and it must refuse a damaged log as that
 * read does.
 */

/** The lines of a log bigger than the size from which workers decode it. */
async function linesOfABigLog(dir: string): Promise<string[]> {
  const lines = await bigLogLines(dir, 22_000);
  expect(lines.join('\n').length).toBeGreaterThan(WORKER_AFTER_BYTES);
  return lines;
}

/** The export as a read in this thread makes it: every whole transaction's events, each as exportedLine. */
async function exportInThread(dir: string): Promise<string> {
  const store = new FileEventStore(dir);
  const read = await store.readRecords(null);
  const lines: string[] = [];
  for await (const batch of read.records) for (const { event, json } of batch) lines.push(exportedLine(event, json));
  await store.close();
  return lines.map((line) => `${line}\n`).join('');
}

describe('export --format ndjson of a big log, decoded in worker threads', () => {
  it('writes what a read in one thread writes, byte for byte: escaped text, upcast events, a torn transaction held back', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const lines = await linesOfABigLog(dir);
      // Text a terminal acts on and text beyond ASCII, on the line that straddles the second chunk's start.
      const wide = lineAt(lines, 2 * CHUNK);
      const spawnedNearby = lines.findIndex((line, i) => i >= wide - 30 && line.includes('"SessionSpawned"'));
      const spawned = eventOf(lines[spawnedNearby]!) as Extract<SessionEvent, { type: 'SessionSpawned' }>;
      lines[spawnedNearby] = lineOf({ ...spawned, data: { ...spawned.data, purpose: `Résoudre ✓ 😀 \u001b]0;owned\u0007 \u009b2J \u202e ${'é'.repeat(2000)}` } });
      // An event of an earlier schema version: exported as this version's, serialized anew.
      const older = lineAt(lines, CHUNK + 5000);
      lines[older] = lineOf({ ...eventOf(lines[older]!), schemaVersion: 3 } as unknown as SessionEvent);
      // The log ends inside a handoff: its first event is there, its child's spawn is not.
      const handoff = lines.findLastIndex((line) => line.includes('"SessionHandedOff"'));
      await writeFile(join(dir, 'events.ndjson'), `${lines.slice(0, handoff + 1).join('\n')}\n`);

      const expected = await exportInThread(dir);
      const { code, stdout, stderr } = await runCli(['export', '--format', 'ndjson', '--dir', dir]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toBe(expected);
      expect(stdout.split('\n').length - 1).toBe(handoff);
      expect(stdout).not.toMatch(/[\u001b\u0007\u009b\u202e]/);
      expect(stdout).toContain('\\u001b]0;owned\\u0007');
      expect(stdout).toContain('"schemaVersion":4');
    } finally {
      await cleanup();
    }
  }, 60_000);

  it('refuses a damaged line as a read in one thread does, naming the line', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const lines = await linesOfABigLog(dir);
      const torn = lineAt(lines, 3 * CHUNK);
      lines[torn] = lines[torn]!.replace('"type"', '"typo"');
      await writeFile(join(dir, 'events.ndjson'), `${lines.join('\n')}\n`);

      const inThread = await exportInThread(dir).then(
        () => '',
        (error: Error) => error.message,
      );
      expect(inThread).toContain(`events.ndjson:${torn + 1} `);
      const { code, stderr } = await runCli(['export', '--format', 'ndjson', '--dir', dir]);
      expect(code).not.toBe(0);
      expect(stderr).toContain(inThread);
    } finally {
      await cleanup();
    }
  }, 60_000);
});
