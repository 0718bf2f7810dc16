import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditLog } from '../../src/audit/audit-log.js';
import { UuidSet } from '../../src/audit/uuid-set.js';
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
        const compact = new UuidSet();
        const plain = new Set<string>();
        for (const id of adds) {
          const fresh = !plain.has(id);
          plain.add(id);
          expect(compact.add(id)).toBe(fresh);
        }
      }),
      { numRuns: 40 },
    );
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
      await appendFile(path, encodeEventLine({ seq: lines.length + 1, id: first.id, type: 'SessionCompleted', sessionId: active.id, timestamp: now, schemaVersion: 3, data: {} }));
      await appendFile(path, encodeEventLine({ seq: lines.length + 2, id: '3f1d8a52-0000-4000-8000-00000000abcd', type: 'SessionFailed', sessionId: chain[2]!.id, timestamp: now, schemaVersion: 3, data: { error: 'late' } }));
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
