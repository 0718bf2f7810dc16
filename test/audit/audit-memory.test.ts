import { randomUUID } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditLog } from '../../src/audit/audit-log.js';
import { RepeatedIds } from '../../src/audit/repeated-ids.js';
import { UuidTable, uuidOfWords, wordsOf } from '../../src/audit/uuid-table.js';
import { encodeEventLine } from '../../src/store/file/line-codec.js';
import { pipelineStore } from '../cli/fixtures.js';
import { tempDir } from '../helpers/fixtures.js';

describe('the set of event ids the audit keeps', () => {
  it('answers as a Set of strings would, for UUIDs and for anything else', () => {
    // UUIDs apart in one 32-bit word only, so that every word is compared.
    const word = fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((n) => n.toString(16).padStart(8, '0'));
    const nearly = fc.oneof(word.map((w) => `3f1d8a52-0000-4000-8000-0000${w}`), word.map((w) => `${w}-0000-4000-8000-000000000000`), word.map((w) => `3f1d8a52-${w.slice(0, 4)}-${w.slice(4)}-8000-000000000000`));
    const pool = fc.oneof(fc.uuid(), nearly, fc.uuid().map((u) => u.toUpperCase()), fc.string({ maxLength: 40 }));
    fc.assert(
      fc.property(fc.uniqueArray(pool, { minLength: 300, maxLength: 1500 }).chain((ids) => fc.tuple(fc.constant(ids), fc.array(fc.constantFrom(...ids), { maxLength: 1500 }))), ([ids, again]) => {
        const adds = [...ids, ...again];
        const compact = new UuidTable();
        const plain = new Set<string>();
        for (const id of adds) {
          const fresh = !plain.has(id);
          plain.add(id);
          const before = compact.size;
          compact.add(id);
          expect(compact.size > before).toBe(fresh);
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('the event ids spilled in parts', () => {
  it('finds every repeat, spilled or still buffered, and names where the later event is', () => {
    // Enough ids that every part spills several times (64 parts of 512 records).
    const ids = Array.from({ length: 120_000 }, () => randomUUID());
    const log: string[] = [...ids];
    const repeats = [5, 999, 70_000, 119_999].map((i) => ids[i]!);
    log.splice(110_000, 0, ...repeats);
    log.push(ids[3]!, 'not-a-uuid', 'not-a-uuid');
    const parts = new RepeatedIds();
    try {
      log.forEach((id, line) => parts.add(id, ids[line % 7]!, line + 1, line * 500 + 2 ** 33));
      const found = parts.repeats().sort((a, b) => a.line - b.line);
      // The fourth inserted id's own place comes after the insertion: that later line is the repeat.
      const expected = [110_001, 110_002, 110_003, 120_004, log.length - 2, log.length].map((line) => ({ id: log[line - 1]!, sessionId: ids[(line - 1) % 7]!, line, offset: (line - 1) * 500 + 2 ** 33 }));
      expect(found).toEqual(expected);
    } finally {
      parts.dispose();
    }
  });

  it('reads a UUID as four words and back', () => {
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        expect(uuidOfWords(wordsOf(id)!)).toBe(id);
      }),
    );
    for (const bad of ['', 'A0000000-0000-4000-8000-000000000000', '00000000-0000-4000-8000-00000000000g', '00000000x0000-4000-8000-000000000000', `${'0'.repeat(36)}`]) expect(wordsOf(bad)).toBeNull();
  });
});

describe('the audit, keeping only what its checks read', () => {
  it('still finds an event id used twice, and an ended session that moves again', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const { chain, active } = await pipelineStore(dir);
      const path = join(dir, 'events.ndjson');
      const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l.length > 0);
      const first = JSON.parse(lines[0]!) as { id: string };
      const now = new Date().toISOString();
      await appendFile(path, encodeEventLine({ seq: lines.length + 1, id: first.id, type: 'SessionCompleted', sessionId: active.id, timestamp: now, schemaVersion: 4, data: {} }));
      await appendFile(path, encodeEventLine({ seq: lines.length + 2, id: '3f1d8a52-0000-4000-8000-00000000abcd', type: 'SessionFailed', sessionId: chain[2]!.id, timestamp: now, schemaVersion: 4, data: { error: 'late' } }));
      const report = await auditLog(dir);
      expect(report.findings.map((f) => [f.kind, f.line])).toEqual([
        ['duplicate-id', lines.length + 1],
        ['transition', lines.length + 2],
      ]);
    } finally {
      await cleanup();
    }
  });
});
