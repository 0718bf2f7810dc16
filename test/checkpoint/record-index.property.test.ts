import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordIndex, decodeIndexInto, encodeIndexEntries, type IndexEntry, type StatusLetter } from '../../src/checkpoint/record-index.js';

const ID = fc.uuid();
const entry = (ids: string[]) =>
  fc.record({
    id: fc.constantFrom(...ids),
    start: fc.nat({ max: 2 ** 40 }),
    length: fc.nat({ max: 2 ** 31 }),
    crc: fc.nat({ max: 2 ** 32 - 1 }),
    status: fc.constantFrom<StatusLetter>('A', 'H', 'C', 'F'),
  });

describe('the record index', () => {
  it('holds, for any entries decoded then pushed, each session\'s first and latest entry, in spawn order, and encodes back to the same bytes', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(ID, { minLength: 1, maxLength: 40 }).chain((ids) => fc.tuple(fc.array(entry(ids), { maxLength: 3000 }), fc.array(entry(ids), { maxLength: 300 }))),
        ([decoded, pushed]) => {
          const index = new RecordIndex();
          decodeIndexInto(index, encodeIndexEntries(decoded), 'index');
          for (const e of pushed) index.push(e);
          const all: IndexEntry[] = [...decoded, ...pushed];
          const first = new Map<string, number>();
          const latest = new Map<string, number>();
          all.forEach((e, i) => {
            if (!first.has(e.id)) first.set(e.id, i);
            latest.set(e.id, i);
          });
          expect(index.count).toBe(all.length);
          expect(index.sessionCount).toBe(first.size);
          for (const [id, i] of first) {
            expect(index.firstOf(id)).toBe(i);
            expect(index.liveOf(id)).toBe(latest.get(id));
          }
          expect([...index.liveEntries()]).toEqual([...first.keys()].map((id) => latest.get(id)));
          expect([...index.liveEntriesReversed()]).toEqual([...first.keys()].map((id) => latest.get(id)).reverse());
          expect(index.encode()).toEqual(encodeIndexEntries(all));
          all.forEach((e, i) => expect([index.idOf(i), index.startOf(i), index.lengthOf(i), index.crcOf(i), index.statusOf(i)]).toEqual([e.id, e.start, e.length, e.crc, e.status]));
          expect(index.liveOf('3f1d8a52-0000-4000-8000-000000000000')).toBeUndefined();
        },
      ),
      { numRuns: 60 },
    );
  });
});
