import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { safeText } from '../../src/domain/visible-text.js';
import { esc } from '../../src/report/html.js';

/** Escaping as two steps: what a terminal must not act on, then HTML's special characters. */
const inTwoSteps = (text: string) => safeText(text).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');

describe('esc, in one pass', () => {
  it('escapes as the two steps do, for any text', () => {
    const special = fc.constantFrom('&', '<', '>', '"', "'", '\u001b', '\u0007', '\n', '\t', '\r', '\u009b', '\u202e', '\u2066', '\u2028', '\\u001b', '&amp;');
    const text = fc.array(fc.oneof(fc.string({ unit: 'grapheme' }), special), { maxLength: 20 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (t) => {
        expect(esc(t)).toBe(inTwoSteps(t));
      }),
      { numRuns: 500 },
    );
  });

  it('leaves no tag, attribute break or control character', () => {
    expect(esc('<img src=x onerror="alert(1)">\u001b]0;title\u0007\u202e')).toBe('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;\\u001b]0;title\\u0007\\u202e');
  });
});
