import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordIndex, StopMarks, decodeIndexInto, encodeIndexEntries, facetsOf, facetsWanted, type EntryFilter, type IndexEntry, type StatusLetter } from '../../src/checkpoint/record-index.js';
import type { Session } from '../../src/domain/session.js';

const ID = fc.uuid();
const entry = (ids: string[]) =>
  fc.record({
    id: fc.constantFrom(...ids),
    start: fc.nat({ max: 2 ** 40 }),
    length: fc.nat({ max: 2 ** 31 }),
    crc: fc.nat({ max: 2 ** 32 - 1 }),
    status: fc.constantFrom<StatusLetter>('A', 'H', 'C', 'F'),
    // Issues from a few, so that a filter by one finds several sessions (and 0xffffffff, "any").
    facets: fc.record({ agent: fc.nat({ max: 2 ** 32 - 1 }), phase: fc.nat({ max: 255 }), issue: fc.oneof(fc.constantFrom(0, 7, 8, 0xffffffff), fc.nat({ max: 2 ** 32 - 1 })) }),
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
          // seek, each way: every live entry, or those of the statuses asked for, or one to stop at; each counted as passed.
          const liveInOrder = [...first.keys()].map((id) => latest.get(id)!);
          const seekAll = (reverse: boolean, filter: EntryFilter) => {
            const at = { first: reverse ? index.count - 1 : 0, passed: 0 };
            const found: Array<[number, number]> = [];
            for (let e = index.seek(at, reverse, index.count, filter); e !== -1; e = index.seek(at, reverse, index.count, filter)) found.push([e, at.passed]);
            return { found, passed: at.passed };
          };
          const any = { statuses: null, facets: {}, stopAt: null };
          for (const reverse of [false, true]) {
            const order = reverse ? [...liveInOrder].reverse() : liveInOrder;
            expect(seekAll(reverse, any)).toEqual({ found: order.map((e, i) => [e, i + 1]), passed: order.length });
            const failed = new Uint8Array(128);
            failed['F'.charCodeAt(0)] = 1;
            const stopAt = new Set(order.filter((_, i) => i % 3 === 0));
            // The sessions to stop at are marked at their first entries.
            const marks = new StopMarks(index.count);
            for (const [id, i] of first) if (stopAt.has(latest.get(id)!)) marks.mark(i);
            const expected = order.map((e, i) => [e, i + 1] as [number, number]).filter(([e]) => all[e]!.status === 'F' || stopAt.has(e));
            expect(seekAll(reverse, { statuses: failed, facets: {}, stopAt: marks })).toEqual({ found: expected, passed: order.length });
            // A facet is a session's own, set at its spawn: read from its first entry, whatever later ones say.
            const firstOfLive = new Map([...first].map(([id, i]) => [latest.get(id)!, i]));
            const issue = order.length === 0 ? 7 : all[firstOfLive.get(order[0]!)!]!.facets.issue;
            const withIssue = order.map((e, i) => [e, i + 1] as [number, number]).filter(([e]) => [issue, 0xffffffff].includes(all[firstOfLive.get(e)!]!.facets.issue));
            expect(seekAll(reverse, { statuses: null, facets: { issue }, stopAt: null })).toEqual({ found: issue === 0xffffffff ? order.map((e, i) => [e, i + 1]) : withIssue, passed: order.length });
          }
          expect(index.encode()).toEqual(encodeIndexEntries(all));
          all.forEach((e, i) => expect([index.idOf(i), index.startOf(i), index.lengthOf(i), index.crcOf(i), index.statusOf(i), index.facetsOf(i)]).toEqual([e.id, e.start, e.length, e.crc, e.status, e.facets]));
          expect(index.liveOf('3f1d8a52-0000-4000-8000-000000000000')).toBeUndefined();
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('a seek by facet over many sessions', () => {
  // Many sessions, few entries each, in runs that share their facets (a pipeline's issue, a
  // day's agent; "any" among them): a seek passes whole blocks that cannot hold what it asks for.
  const facet = fc.record({
    agent: fc.constantFrom(1, 2, 33, 0xffffffff, 0x80000000),
    phase: fc.constantFrom(0, 1, 2, 3, 255),
    issue: fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 40 }) }, fc.constantFrom(0xffffffff, 0x80000001, 2 ** 31 - 1)),
  });
  const run = fc.record({ facets: facet, count: fc.integer({ min: 1, max: 300 }), statuses: fc.array(fc.constantFrom<StatusLetter>('A', 'H', 'C', 'F'), { minLength: 1, maxLength: 3 }) });
  const session = fc.array(run, { minLength: 1, maxLength: 12 }).map((runs) => runs.flatMap((r) => Array.from({ length: r.count }, () => ({ facets: r.facets, statuses: r.statuses }))));

  it('finds what a look at every session finds, each way, with sessions to stop at, up to any entry, as entries are added', () => {
    fc.assert(
      fc.property(
        session,
        fc.nat(),
        fc.nat(),
        // What a filter asks for: mostly some session's own facets (so that it finds some), at times a foreign one.
        fc.record({ from: fc.nat(), agent: fc.boolean(), phase: fc.boolean(), issue: fc.boolean(), foreign: fc.option(fc.constantFrom({ agent: 7 }, { phase: 9 }, { issue: 45 }), { freq: 4, nil: undefined }) }),
        fc.option(fc.constantFrom<StatusLetter>('A', 'F'), { nil: null }),
        // Sessions to stop at: none, or now and then (a block that holds one is never passed whole).
        fc.oneof(fc.constant(0), fc.integer({ min: 20, max: 2000 })),
        (sessions, seed, cut, picked, status, stopEvery) => {
          const model = sessions[picked.from % sessions.length]!.facets;
          const asked: Partial<IndexEntry['facets']> = {
            ...(picked.agent ? { agent: model.agent } : {}),
            ...(picked.phase ? { phase: model.phase } : {}),
            ...(picked.issue ? { issue: model.issue } : {}),
            ...picked.foreign,
          };
          // 255 and 0xffffffff ask for any phase or issue, as facetsWanted spells a value an entry cannot hold.
          const anyPhase = asked.phase === undefined || asked.phase === 255;
          const anyIssue = asked.issue === undefined || asked.issue === 0xffffffff;
          // Entries in the order a store writes them: a session's later ones after others' first ones.
          const all: IndexEntry[] = [];
          const pending: Array<{ id: string; facets: IndexEntry['facets']; statuses: StatusLetter[] }> = [];
          let random = seed;
          const next = () => (random = (Math.imul(random, 1103515245) + 12345) >>> 0);
          sessions.forEach((s, n) => {
            const id = `3f1d8a52-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
            all.push({ id, start: n, length: 1, crc: 0, status: s.statuses[0]!, facets: s.facets });
            pending.push({ id, facets: s.facets, statuses: s.statuses.slice(1) });
            while (pending.length > 0 && next() % 3 === 0) {
              const later = pending.splice(next() % pending.length, 1)[0]!;
              if (later.statuses.length === 0) continue;
              all.push({ id: later.id, start: n, length: 1, crc: 0, status: later.statuses.shift()!, facets: later.facets });
              pending.push(later);
            }
          });
          const index = new RecordIndex();
          const split = cut % (all.length + 1);
          decodeIndexInto(index, encodeIndexEntries(all.slice(0, split)), 'index');
          const statuses = status === null ? null : new Uint8Array(128);
          if (status !== null) statuses![status.charCodeAt(0)] = 1;
          const filter = (count: number): EntryFilter => {
            const stopAt = new StopMarks(count);
            if (stopEvery > 0) for (let i = 0; i < count; i += stopEvery) stopAt.mark(i);
            return { statuses, facets: asked, stopAt: stopEvery === 0 ? null : stopAt };
          };
          const check = (upTo: number) => {
            const first = new Map<string, number>();
            const latest = new Map<string, number>();
            for (let i = 0; i < index.count; i += 1) {
              const id = all[i]!.id;
              if (!first.has(id)) first.set(id, i);
              latest.set(id, i);
            }
            const firsts = [...first.values()].filter((i) => i < upTo);
            const stopped = filter(index.count);
            for (const reverse of [false, true]) {
              const order = reverse ? [...firsts].reverse() : firsts;
              const expected: Array<[number, number]> = [];
              order.forEach((i, n) => {
                const own = all[i]!.facets;
                const live = latest.get(all[i]!.id)!;
                const matches =
                  (asked.agent === undefined || asked.agent === 0xffffffff || own.agent === asked.agent) &&
                  (anyPhase || own.phase === asked.phase || own.phase === 255) &&
                  (anyIssue || own.issue === asked.issue || own.issue === 0xffffffff) &&
                  (status === null || all[live]!.status === status);
                if (matches || stopped.stopAt?.marks[i] === 1) expected.push([live, n + 1]);
              });
              const at = { first: reverse ? upTo - 1 : 0, passed: 0 };
              const found: Array<[number, number]> = [];
              for (let e = index.seek(at, reverse, upTo, stopped); e !== -1; e = index.seek(at, reverse, upTo, stopped)) found.push([e, at.passed]);
              expect({ found, passed: at.passed }).toEqual({ found: expected, passed: order.length });
            }
          };
          check(index.count);
          for (const e of all.slice(split)) index.push(e);
          check(index.count);
          check(Math.floor(index.count / 2));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('the facets of an index entry', () => {
  const phases = ['CodeGeneration', 'Review', 'Test', 'CICD', 'Nonsense'];
  it('never rule out a session that has the agent, phase and issue a filter asks for', () => {
    fc.assert(
      fc.property(
        fc.record({ agent: fc.constantFrom('CodeGenAgent', 'ReviewAgent', 'A', 'B.c-d'), phase: fc.constantFrom(...phases), issue: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })) }),
        fc.record({ agent: fc.option(fc.constantFrom('CodeGenAgent', 'ReviewAgent', 'A', 'B.c-d'), { nil: undefined }), phase: fc.option(fc.constantFrom(...phases), { nil: undefined }), issue: fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }) }),
        (has, asked) => {
          const session = { agentName: has.agent, context: { currentPhase: has.phase, issueNumber: has.issue } } as unknown as Session;
          const index = new RecordIndex();
          index.push({ id: '3f1d8a52-0000-4000-8000-000000000000', start: 0, length: 1, crc: 0, status: 'A', facets: facetsOf(session) });
          const matches = (asked.agent === undefined || asked.agent === has.agent) && (asked.phase === undefined || asked.phase === has.phase) && (asked.issue === undefined || asked.issue === has.issue);
          const found = () => index.seek({ first: 0, passed: 0 }, false, 1, { statuses: null, facets: facetsWanted(asked.agent, asked.phase, asked.issue), stopAt: null }) === 0;
          if (matches) expect(found()).toBe(true);
          // Small values are kept exactly: a different one rules the session out.
          if (!matches && (asked.issue === undefined || (asked.issue < 2 ** 32 - 1 && (has.issue ?? 0) < 2 ** 32 - 1)) && asked.phase !== 'Nonsense' && has.phase !== 'Nonsense' && (asked.agent === undefined || asked.agent === has.agent)) {
            expect(found()).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
