import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileAcceptor } from '../../src/events/schema-acceptor.js';
import { SessionEventSchema } from '../../src/events/session-event.js';
import { sampleEvents } from '../helpers/events.js';

/*
 * The acceptor compiled from a zod schema may say "valid" only where zod accepts the value as it
 * is. Values are generated from the schema's own description: each leaf from a pool of likely
 * and unlikely values (the ones zod takes for that leaf picked most of the time), objects with
 * keys left out and keys added, arrays with holes, wrong types at every level. Zod is the judge.
 */

type Schema = { _zod: { def: Record<string, unknown> & { type: string }; values?: Set<unknown> } };

const STRINGS = [
  '3f1d8a52-6c1e-4e6f-9a51-0d5e7f1c2b3a', '3F1D8A52-6C1E-4E6F-9A51-0D5E7F1C2B3A', '00000000-0000-0000-0000-000000000000', '3f1d8a52-6c1e-0e6f-9a51-0d5e7f1c2b3a',
  '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-01-01T00:00:00+01:00', '2026-01-01',
  'CodeGenAgent', 'ReviewAgent', '../etc', '-x', '', 'x', 'a\0b', 'é ✓ 😀', 'x'.repeat(300), 'a'.repeat(64), 'A'.repeat(64),
  'CodeGeneration', 'Review', 'gate', 'budget', 'pipeline.completed', 'command', 'webhook:abc', 'https://example.com/hook', '1',
];
const NUMBERS = [0, -0, 1, 2, 3, -1, 0.5, 1.5, 4, 63, 64, 255, 1000, 1001, 100_000, 100_001, 2 ** 31, 2 ** 53 - 1, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, -1e-9];
const OTHERS = [null, undefined, true, false, [], {}, ['x'], { a: 1 }];
const ANYTHING: unknown[] = [...STRINGS, ...NUMBERS, ...OTHERS];

/** Values for `schema`: mostly ones zod takes for it, sometimes anything at all. */
function valuesOf(schema: Schema): fc.Arbitrary<unknown> {
  const { def } = schema._zod;
  const wild = fc.constantFrom(...ANYTHING);
  const mostly = (valid: fc.Arbitrary<unknown>) => fc.oneof({ weight: 24, arbitrary: valid }, { weight: 1, arbitrary: wild });
  const inner = (key: string) => def[key] as unknown as Schema;
  switch (def.type) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'literal':
    case 'enum': {
      // The pool's values this leaf takes, by zod itself; its own values for a literal or an enum.
      const taken = [...(schema._zod.values ?? []), ...ANYTHING].filter((v) => (schema as unknown as z.ZodType).safeParse(v).success);
      return taken.length === 0 ? wild : mostly(fc.constantFrom(...taken));
    }
    case 'optional':
      return fc.oneof(fc.constant(undefined), valuesOf(inner('innerType')));
    case 'nullable':
      return fc.oneof(fc.constant(null), valuesOf(inner('innerType')));
    case 'default':
      return fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 4, arbitrary: valuesOf(inner('innerType')) });
    case 'array':
      return mostly(fc.oneof({ weight: 12, arbitrary: fc.array(valuesOf(inner('element')), { maxLength: 3 }) }, { weight: 1, arbitrary: fc.constant(new Array(2)) }));
    case 'record':
      return mostly(fc.dictionary(fc.constantFrom(...STRINGS), valuesOf(inner('valueType')), { maxKeys: 2 }));
    case 'object': {
      const shape = def['shape'] as Record<string, Schema>;
      const fields = Object.fromEntries(Object.entries(shape).map(([key, child]) => [key, valuesOf(child)]));
      const object = fc.record(fields, { requiredKeys: Object.keys(shape).filter((key) => shape[key]!._zod.def.type !== 'optional') });
      const extra = fc.tuple(object, fc.constantFrom('extra', 'crc', '__proto__'), wild).map(([o, key, v]) => Object.defineProperty({ ...o }, key, { value: v, enumerable: true }));
      const missing = fc.tuple(object, fc.nat()).map(([o, n]) => {
        const keys = Object.keys(o);
        const copy: Record<string, unknown> = { ...o };
        if (keys.length > 0) delete copy[keys[n % keys.length]!];
        return copy;
      });
      return fc.oneof({ weight: 40, arbitrary: object }, { weight: 1, arbitrary: extra }, { weight: 1, arbitrary: missing }, { weight: 1, arbitrary: wild });
    }
    case 'union':
      return fc.oneof(...(def['options'] as Schema[]).map(valuesOf));
    default:
      return wild;
  }
}

describe('the acceptor compiled from a zod schema', () => {
  it('says valid only where zod accepts, for values generated from the event schema', () => {
    const accepts = compileAcceptor(SessionEventSchema);
    const verdicts = { both: 0, zodOnly: 0, neither: 0 };
    fc.assert(
      fc.property(valuesOf(SessionEventSchema as unknown as Schema), (value) => {
        const zod = SessionEventSchema.safeParse(value).success;
        const ours = accepts(value);
        if (ours) expect(zod, JSON.stringify(value)).toBe(true);
        verdicts[ours ? 'both' : zod ? 'zodOnly' : 'neither'] += 1;
      }),
      { numRuns: 20_000 },
    );
    // Not vacuous: most values zod takes are taken here too (the rest: a default left to fill in).
    expect(verdicts.both).toBeGreaterThan(1000);
    expect(verdicts.both).toBeGreaterThan(2 * verdicts.zodOnly);
    expect(verdicts.neither).toBeGreaterThan(1000);
  });

  it('takes every valid event as it is', () => {
    const accepts = compileAcceptor(SessionEventSchema);
    for (const event of sampleEvents(9)) expect(accepts(event)).toBe(true);
  });

  it('leaves to zod what it cannot compile, and what zod would change', () => {
    expect(compileAcceptor(z.object({ a: z.string() }))({ a: 'x' })).toBe(false);
    expect(compileAcceptor(z.strictObject({ a: z.string().transform((s) => s.length) }))({ a: 'x' })).toBe(false);
    expect(compileAcceptor(z.strictObject({ a: z.number().default(1) }))({})).toBe(false);
    expect(compileAcceptor(z.strictObject({ a: z.number().default(1) }))({ a: 2 })).toBe(true);
    expect(compileAcceptor(z.strictObject({ a: z.string().email() }))({ a: 'a@b.co' })).toBe(false);
  });
});
