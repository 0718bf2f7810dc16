import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32 } from 'node:zlib';
import { decodeEventLine, encodeEventLine } from '../../../src/store/file/line-codec.js';
import { sampleEvents } from '../../helpers/events.js';

describe('line codec', () => {
  it('decodes what it encoded, and each line is one line', () => {
    for (const event of sampleEvents(5)) {
      const line = encodeEventLine(event);
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
      expect(decodeEventLine(line.slice(0, -1))).toEqual({ ok: true, event });
    }
  });

  it('never accepts a line with any single byte changed', () => {
    const line = encodeEventLine(sampleEvents(2)[1]!).slice(0, -1);
    fc.assert(
      fc.property(fc.nat({ max: line.length - 1 }), fc.integer({ min: 32, max: 126 }), (index, code) => {
        fc.pre(line.charCodeAt(index) !== code);
        const mutated = line.slice(0, index) + String.fromCharCode(code) + line.slice(index + 1);
        expect(decodeEventLine(mutated).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a well-formed line whose event breaks the schema, saying which field', () => {
    const event = { ...sampleEvents(1)[0]!, data: { agentName: '../etc', purpose: 'p' } };
    const decoded = decodeEventLine(encodeEventLine(event as never).slice(0, -1));
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.reason).toMatch(/data\.agentName/);
  });

  it('refuses an event of an unknown schema version', () => {
    const event = { ...sampleEvents(1)[0]!, schemaVersion: 99 };
    const decoded = decodeEventLine(encodeEventLine(event as never).slice(0, -1));
    expect(!decoded.ok && decoded.reason).toMatch(/schemaVersion/);
  });

  it('reads events of schema versions 1 to 3 (written by earlier versions) as version 4, checked fully or by checksum', () => {
    for (const version of [1, 2, 3]) {
      for (const event of sampleEvents(3)) {
        const line = encodeEventLine({ ...event, schemaVersion: version } as never).slice(0, -1);
        expect(decodeEventLine(line, 'schema')).toEqual({ ok: true, event });
        expect(decodeEventLine(line, 'checksum')).toEqual({ ok: true, event });
      }
    }
  });

  it('refuses a stop request that does not say who asked', () => {
    const [spawn] = sampleEvents(1);
    const request = { ...spawn!, seq: 2, type: 'SessionStopRequested', data: { reason: 'why' } };
    expect(decodeEventLine(encodeEventLine({ ...request, by: 'alice' } as never).slice(0, -1)).ok).toBe(true);
    expect(decodeEventLine(encodeEventLine(request as never).slice(0, -1)).ok).toBe(false);
  });

  /** A line whose checksum holds for this body, whatever the body is. */
  const withChecksum = (body: string) => `${body.slice(0, -1)},"crc":${crc32(body)}}`;

  it('says why a line is refused: no checksum field, a wrong checksum, a body that is not JSON', () => {
    const line = encodeEventLine(sampleEvents(1)[0]!).slice(0, -1);
    expect(decodeEventLine(line.replace(/,"crc":\d+\}$/, '}'))).toEqual({ ok: false, reason: 'no checksum field at the end of the line' });
    // Eleven digits, or none, or a field at the very start: no checksum field either.
    expect(decodeEventLine(line.replace(/"crc":\d+/, '"crc":12345678901'))).toEqual({ ok: false, reason: 'no checksum field at the end of the line' });
    expect(decodeEventLine(line.replace(/"crc":\d+/, '"crc":'))).toEqual({ ok: false, reason: 'no checksum field at the end of the line' });
    expect(decodeEventLine('"crc":1}')).toEqual({ ok: false, reason: 'no checksum field at the end of the line' });
    expect(decodeEventLine('12}')).toEqual({ ok: false, reason: 'no checksum field at the end of the line' });
    expect(decodeEventLine(line.replace(/"crc":(\d+)/, (_, crc: string) => `"crc":${(Number(crc) + 1) % 2 ** 32}`))).toEqual({ ok: false, reason: 'checksum mismatch: the line was altered or torn' });
    const broken = decodeEventLine(withChecksum('{"seq":1,}'));
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.reason).toMatch(/^not JSON: /);
    // The smallest line there is: an empty object, its checksum right.
    expect(decodeEventLine(withChecksum('{}')).ok).toBe(false);
  });

  it('by checksum, trusts only an envelope that looks right: anything else is validated, and refused', () => {
    const event = sampleEvents(1)[0]!;
    const body = JSON.stringify(event);
    expect(decodeEventLine(withChecksum(body), 'checksum')).toEqual({ ok: true, event, json: body });
    const broken: Array<Record<string, unknown>> = [
      { schemaVersion: 99 },
      { schemaVersion: '4' },
      { type: 'SessionExploded' },
      { seq: 1.5 },
      { seq: '1' },
      { sessionId: 7 },
      { id: 7 },
      { data: null },
      { data: 'x' },
    ];
    for (const change of broken) expect(decodeEventLine(withChecksum(JSON.stringify({ ...event, ...change })), 'checksum').ok, JSON.stringify(change)).toBe(false);
    // An event the schema refuses but whose envelope looks right: trusted by checksum (its writer validated it), refused by default.
    const loose = JSON.stringify({ ...event, data: { ...(event.data as object), purpose: 7 } });
    expect(decodeEventLine(withChecksum(loose), 'checksum').ok).toBe(true);
    expect(decodeEventLine(withChecksum(loose)).ok).toBe(false);
    // An earlier version's event is renumbered: its text is not this version's, so no json is handed on.
    const older = decodeEventLine(withChecksum(JSON.stringify({ ...event, schemaVersion: 2 })), 'checksum');
    expect(older).toEqual({ ok: true, event });
    expect('json' in older).toBe(false);
  });
});

