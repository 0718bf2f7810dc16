import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clonePlain } from '../../src/domain/clone-plain.js';

describe('clonePlain', () => {
  it('copies any JSON value deeply: equal, and sharing no object with the original', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = clonePlain(value);
        expect(copy).toEqual(value);
        const objects = (v: unknown, out: Set<unknown>): Set<unknown> => {
          if (typeof v === 'object' && v !== null) {
            out.add(v);
            for (const child of Object.values(v)) objects(child, out);
          }
          return out;
        };
        const originals = objects(value, new Set());
        for (const o of objects(copy, new Set())) expect(originals.has(o)).toBe(false);
      }),
    );
  });

  it('keeps an own "__proto__" key as data instead of setting the prototype', () => {
    const parsed = JSON.parse('{"usage": {"__proto__": {"polluted": 1}, "tokens": 3}}') as { usage: Record<string, unknown> };
    const copy = clonePlain(parsed);
    expect(Object.getPrototypeOf(copy.usage)).toBe(Object.prototype);
    expect(Object.keys(copy.usage)).toEqual(['__proto__', 'tokens']);
    expect((copy.usage as { polluted?: number }).polluted).toBeUndefined();
    expect(({} as { polluted?: number }).polluted).toBeUndefined();
  });
});
