import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
});
