import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/index.js';
import { decodeEventLine } from '../../src/store/file/line-codec.js';
import { LogScanner } from '../../src/store/file/log-scanner.js';
import { logText, sampleEvents } from '../helpers/events.js';

/** Scans bytes in one go; returns the events or the error it stopped with. */
function scan(bytes: Buffer, verify: 'schema' | 'checksum') {
  const scanner = new LogScanner('fuzz.ndjson', undefined, undefined, verify);
  try {
    return { events: scanner.push(bytes).map((r) => r.event), error: null };
  } catch (error) {
    return { events: [], error };
  }
}

describe('log reader fuzz', () => {
  const events = sampleEvents(12);
  const valid = Buffer.from(logText(events));

  for (const verify of ['checksum', 'schema'] as const) {
    it(`random bytes never crash it with anything but CORRUPT_LOG (${verify})`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
          const { error } = scan(Buffer.from(bytes), verify);
          if (error !== null) expect(isSessionError(error, 'CORRUPT_LOG'), String(error)).toBe(true);
        }),
        { numRuns: 1500 },
      );
    });

    it(`a mutated valid log is refused or read back unchanged, never as a different event (${verify})`, () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (flips) => {
          const mutated = Buffer.from(valid);
          for (const [at, value] of flips) mutated[at] = value;
          const { events: read, error } = scan(mutated, verify);
          if (error !== null) {
            expect(isSessionError(error, 'CORRUPT_LOG'), String(error)).toBe(true);
            return;
          }
          // What is read (e.g. when only a torn tail was damaged) is exactly what was written.
          for (const event of read) expect(event).toEqual(events[event.seq - 1]);
        }),
        { numRuns: 1500 },
      );
    });
  }

  it('finds the checksum field exactly where the pattern /,"crc":(\\d{1,10})\\}$/ does', () => {
    const tail = fc.oneof(fc.string(), fc.constantFrom(',"crc":', '}', ',"crc":1}', ',"crc":12345678901}', '"crc":1}', ',"crc":}'));
    fc.assert(
      fc.property(fc.string(), tail, fc.string({ unit: fc.constantFrom('0', '9', '}', ',', '"') }), (head, middle, end) => {
        const text = head + middle + end;
        const hasField = /,"crc":(\d{1,10})\}$/.test(text);
        const decoded = decodeEventLine(text);
        expect(!decoded.ok && decoded.reason === 'no checksum field at the end of the line').toBe(!hasField);
      }),
      { numRuns: 5000 },
    );
  });
});
