import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SessionError } from '../../../src/index.js';
import { crc32 } from 'node:zlib';
import { LogScanner, type LogFinding } from '../../../src/store/file/log-scanner.js';
import { logText, sampleEvents } from '../../helpers/events.js';

function scanAll(bytes: Buffer, cuts: number[] = []) {
  const scanner = new LogScanner('events.ndjson');
  const seqs: number[] = [];
  let from = 0;
  for (const cut of [...cuts.sort((a, b) => a - b), bytes.length]) {
    for (const r of scanner.push(bytes.subarray(from, cut))) seqs.push(r.event.seq);
    from = cut;
  }
  return { seqs, tail: scanner.tail() };
}

function scanError(bytes: Buffer): SessionError {
  try {
    scanAll(bytes);
  } catch (error) {
    return error as SessionError;
  }
  throw new Error('expected CORRUPT_LOG');
}

describe('log scanner', () => {
  const events = sampleEvents(9);
  const text = Buffer.from(logText(events));

  it('yields the same events with the same offsets however the bytes are chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: text.length }), { maxLength: 12 }), (cuts) => {
        const { seqs, tail } = scanAll(text, cuts);
        expect(seqs).toEqual(events.map((e) => e.seq));
        expect(tail).toMatchObject({ committedEnd: text.length, pendingBytes: 0, lastSeq: 9, line: 9 });
      }),
    );
  });

  it('holds back a torn final line and reports where the valid part ends', () => {
    const torn = Buffer.concat([text, Buffer.from('{"seq":10,"id":"ab')]);
    const { seqs, tail } = scanAll(torn);
    expect(seqs.at(-1)).toBe(9);
    expect(tail).toEqual({ committedEnd: text.length, line: 9, lastSeq: 9, pendingBytes: 18, pendingLines: 0 });
  });

  it('holds back a whole line whose transaction partner never arrived', () => {
    const eight = Buffer.from(logText(events.slice(0, 8)));
    const seven = Buffer.from(logText(events.slice(0, 7)));
    const { seqs, tail } = scanAll(eight);
    expect(events[7]!.txSize).toBe(2);
    expect(seqs.at(-1)).toBe(7);
    expect(tail).toMatchObject({ committedEnd: seven.length, pendingLines: 1, pendingBytes: eight.length - seven.length });
  });

  it('stops at a corrupt middle line, naming its line number and byte offset', () => {
    const lines = logText(events).split('\n');
    const offset = Buffer.byteLength(lines.slice(0, 4).join('\n')) + 1;
    lines[4] = lines[4]!.replace('ReviewAgent', 'ReviewAgenT');
    const error = scanError(Buffer.from(lines.join('\n')));
    expect(error.code).toBe('CORRUPT_LOG');
    expect(error.position).toEqual({ file: 'events.ndjson', line: 5, offset });
    expect(error.message).toContain(`events.ndjson:5 (byte ${offset})`);
  });

  it('refuses a seq gap, a duplicate and an empty line', () => {
    const lines = logText(events).split('\n');
    expect(scanError(Buffer.from([lines[0], lines[2], ''].join('\n'))).message).toMatch(/seq 3 where 2/);
    expect(scanError(Buffer.from([lines[0], lines[0], ''].join('\n'))).message).toMatch(/seq 1 where 2/);
    expect(scanError(Buffer.from([lines[0], '', lines[1], ''].join('\n'))).message).toMatch(/:2 .*empty line/);
  });

  it('treats garbage after a complete log as torn, not as data', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (junk) => {
        const bytes = Buffer.from(junk.filter((b) => b !== 0x0a));
        fc.pre(bytes.length > 0);
        const { seqs, tail } = scanAll(Buffer.concat([text, bytes]));
        expect(seqs.length).toBe(9);
        expect(tail.pendingBytes).toBe(bytes.length);
      }),
    );
  });

  /** A tolerant scan (the audit's): every finding, and the seqs of what it released. */
  function scanTolerant(bytes: Buffer) {
    const findings: LogFinding[] = [];
    const scanner = new LogScanner('events.ndjson', undefined, (finding) => findings.push(finding));
    const seqs = scanner.push(bytes).map((r) => r.event.seq);
    return { findings, seqs, tail: scanner.tail() };
  }
  const offsetOf = (lines: string[], index: number) => Buffer.byteLength(lines.slice(0, index).map((l) => `${l}\n`).join(''));

  it('tolerant (the audit), reports each bad line as a finding without its prefix, and goes on', () => {
    const lines = logText(events).split('\n').slice(0, -1);
    // Line 2 altered (it held seq 2), line 4 empty: the next line's seq is the one after the unreadable one's.
    const bad = [lines[0]!, lines[1]!.replace('ReviewAgent', 'ReviewAgenT'), lines[2]!, '', ...lines.slice(3)];
    const { findings, seqs, tail } = scanTolerant(Buffer.from(bad.map((l) => `${l}\n`).join('')));
    expect(findings).toEqual([
      { line: 2, offset: offsetOf(bad, 1), message: 'checksum mismatch: the line was altered or torn' },
      { line: 4, offset: offsetOf(bad, 3), message: 'empty line' },
      { line: 5, offset: offsetOf(bad, 4), message: 'seq 4 where 5 was expected (a gap, a duplicate or a reordering)' },
    ]);
    // The events it could read (seq 2 opened a transaction: without it, its partner 3 stands alone).
    expect(seqs).toEqual([1, 3, 4, 5, 6, 7, 8, 9]);
    expect(tail).toMatchObject({ lastSeq: 9, line: 10, pendingLines: 0 });
  });

  it('tolerant, finds a transaction that starts inside another, where it starts', () => {
    const lines = logText(events).split('\n').slice(0, -1);
    // Seq 2 opens a transaction of two; seq 4 opens another before 3 arrives (3 is left out).
    const overlapping = [lines[0]!, lines[1]!, lines[3]!, lines[4]!];
    const bytes = Buffer.from(overlapping.map((l) => `${l}\n`).join(''));
    const { findings } = scanTolerant(bytes);
    expect(findings).toContainEqual({ line: 3, offset: offsetOf(overlapping, 2), message: 'a transaction starts before the one at line 2 is complete' });
    expect(scanError(bytes).message).toBe(`events.ndjson:3 (byte ${offsetOf(overlapping, 2)}): seq 4 where 3 was expected (a gap, a duplicate or a reordering)`);
  });

  it('strict (every open), trusts a checksummed event whose envelope looks right; tolerant validates it against the schema', () => {
    const [spawn] = sampleEvents(1);
    const loose = JSON.stringify({ ...spawn!, data: { ...(spawn!.data as object), purpose: 7 } });
    const line = `${loose.slice(0, -1)},"crc":${crc32(loose)}}\n`;
    expect(scanAll(Buffer.from(line)).seqs).toEqual([1]);
    const { findings, seqs } = scanTolerant(Buffer.from(line));
    expect(seqs).toEqual([]);
    expect(findings).toEqual([{ line: 1, offset: 0, message: expect.stringMatching(/^not a valid event: data\.purpose: /) }]);
  });

  it('holds a transaction of three until its third line, and hands on each line of this version as it was written', () => {
    const [first, second, third] = sampleEvents(3);
    const { txSize: _unused, ...handoff } = second!;
    const tx = [{ ...first!, txSize: 3 }, handoff, third!] as never[];
    const lines = logText(tx).split('\n').slice(0, -1);
    const scanner = new LogScanner('events.ndjson');
    expect(scanner.push(Buffer.from(`${lines[0]}\n${lines[1]}\n`))).toEqual([]);
    expect(scanner.tail()).toMatchObject({ pendingLines: 2, lastSeq: 0 });
    const released = scanner.push(Buffer.from(`${lines[2]}\n`));
    expect(released.map((r) => r.event.seq)).toEqual([1, 2, 3]);
    // The JSON handed on (export) is each line's body, without its checksum.
    expect(released.map((r) => r.json)).toEqual(lines.map((line) => line.replace(/,"crc":\d+\}$/, '}')));
    // An earlier version's line is renumbered: its text is not handed on.
    const older = logText([{ ...first!, schemaVersion: 2 } as never]);
    const [record] = new LogScanner('events.ndjson').push(Buffer.from(older));
    expect(record).toBeDefined();
    expect('json' in record!).toBe(false);
  });
});

