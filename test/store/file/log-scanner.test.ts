import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SessionError } from '../../../src/index.js';
import { LogScanner } from '../../../src/store/file/log-scanner.js';
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
});
