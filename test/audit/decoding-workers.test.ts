import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditLog } from '../../src/audit/audit-log.js';
import type { SessionEvent } from '../../src/index.js';
import { CHUNK, bigLogLines, eventOf, lineAt, lineOf } from '../helpers/big-log-lines.js';
import { tempDir } from '../helpers/fixtures.js';

/*
 * On a big log the audit's lines are decoded by worker threads, in chunks cut at line ends, and
 * judged here in order. A log of several chunks, damaged in every way a line can be (some of it
 * where a chunk ends), is audited both ways: the reports must be the same, finding for finding.
 */

describe('the audit of a big log, decoded in worker threads', () => {
  it('reports what the audit decoding in its own thread does, finding for finding', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const lines = await bigLogLines(dir, 14_000);
      // Text beyond ASCII, on the line that straddles the second chunk's start: its bytes are not its characters.
      const wide = lineAt(lines, 2 * CHUNK);
      const spawnedNearby = lines.findIndex((line, i) => i >= wide - 30 && line.includes('"SessionSpawned"'));
      const spawned = eventOf(lines[spawnedNearby]!) as Extract<SessionEvent, { type: 'SessionSpawned' }>;
      lines[spawnedNearby] = lineOf({ ...spawned, data: { ...spawned.data, purpose: `Résoudre ✓ 😀 ${'é'.repeat(2000)}` } });
      // A finished agent whose transcript the log records as stored, and which is not there.
      const finished = lines.findIndex((line) => line.includes('"SessionAgentFinished"'));
      const finish = eventOf(lines[finished]!) as Extract<SessionEvent, { type: 'SessionAgentFinished' }>;
      lines[finished] = lineOf({ ...finish, data: { ...finish.data, transcript: { bytes: 10, sha256: 'a'.repeat(64) } } });
      // A completion of a session that is already over: a transition the machine refuses.
      const handedOff = eventOf(lines.find((line) => line.includes('"SessionHandedOff"'))!);
      const late = eventOf(lines[lineAt(lines, CHUNK + 5000)]!);
      lines[lineAt(lines, CHUNK + 5000)] = lineOf({ ...late, type: 'SessionCompleted', sessionId: handedOff.sessionId, data: {} } as SessionEvent);
      // A flipped byte in the line that straddles the first chunk's end.
      const torn = lineAt(lines, CHUNK);
      lines[torn] = lines[torn]!.replace('"type"', '"typo"');
      // A valid checksum on an event its schema refuses (an empty agent name).
      const invalid = lineAt(lines, 3 * CHUNK);
      const invalidEvent = eventOf(lines[invalid]!);
      lines[invalid] = lineOf({ ...invalidEvent, type: 'SessionHandedOff', data: { toAgent: '', childSession: invalidEvent.sessionId } } as SessionEvent);
      // A line gone (a gap in seq), an empty line, and an event id used twice.
      lines.splice(lineAt(lines, 4 * CHUNK), 1);
      lines.splice(lineAt(lines, 2.5 * CHUNK), 0, '');
      const repeated = lineAt(lines, 3.5 * CHUNK);
      lines[repeated] = lineOf({ ...eventOf(lines[repeated]!), id: eventOf(lines[5]!).id });
      // And a torn tail: half a line after the last.
      await writeFile(join(dir, 'events.ndjson'), `${lines.join('\n')}\n${lines[10]!.slice(0, 100)}`);

      const inThread = await auditLog(dir, undefined, { decodeWorkers: 0 });
      const inWorkers = await auditLog(dir, undefined, { decodeWorkers: 2 });
      expect(inWorkers).toEqual(inThread);
      expect([...new Set(inThread.findings.map((f) => f.kind))]).toEqual(expect.arrayContaining(['line', 'sequence', 'duplicate-id', 'transition', 'transcript', 'torn-tail']));
      // The line with wide text is judged, not refused: its checksum is of its bytes.
      expect(inThread.findings.filter((f) => f.kind === 'line').map((f) => f.message)).toEqual([
        'checksum mismatch: the line was altered or torn',
        'empty line',
        expect.stringContaining('toAgent'),
      ]);
      expect(inThread.events).toBe(lines.length - 3);
    } finally {
      await cleanup();
    }
  }, 60_000);

  it('reads whole a line that straddles chunks and one longer than a chunk', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const lines = await bigLogLines(dir, 14_000);
      // One of 100 KiB across the second chunk's start; one of 2.4 MB, over a whole chunk with no line end.
      const widen = (at: number, chars: number) => {
        const i = lines.findIndex((line, n) => n >= at && line.includes('"SessionSpawned"'));
        const spawned = eventOf(lines[i]!) as Extract<SessionEvent, { type: 'SessionSpawned' }>;
        lines[i] = lineOf({ ...spawned, data: { ...spawned.data, purpose: `Résoudre ${'é'.repeat(chars)}` } });
      };
      widen(lineAt(lines, 2 * CHUNK) - 20, 50_000);
      widen(lineAt(lines, 3.2 * CHUNK), 1_200_000);
      await writeFile(join(dir, 'events.ndjson'), `${lines.join('\n')}\n`);
      const inThread = await auditLog(dir, undefined, { decodeWorkers: 0 });
      const inWorkers = await auditLog(dir, undefined, { decodeWorkers: 2 });
      expect(inWorkers).toEqual(inThread);
      // The line over a chunk is read whole, and judged: its purpose is over the schema's limit.
      expect(inThread.findings.filter((f) => f.kind === 'line').map((f) => f.message)).toEqual([expect.stringContaining('purpose is longer than 65536 characters')]);
      expect(inThread.events).toBe(lines.length - 1);
    } finally {
      await cleanup();
    }
  }, 60_000);
});
