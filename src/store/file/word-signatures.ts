/**
 * A conversation's terms (words and pairs of adjacent words) as a Bloom filter (its
 * "signature"): about 10 bits a distinct term and 7 probes, so a term it does not hold passes for
 * one about 1% of the time, and a term it holds always does. A search reads the signatures, not the conversations, and opens only those that
 * may hold every word it looks for (false hits are then checked away on the text).
 */

const PROBES = 7;
const BITS_PER_WORD = 10;
const MIN_BITS = 256;

/** Where a word's probes fall, as two hashes (double hashing: probe i = h1 + i × h2). */
export interface WordProbe {
  h1: number;
  h2: number;
}

/** A signature's bits as stored: base64 text, tested in place without decoding it. */
export type SignatureBits = Uint8Array;

/** The probe of a word. */
export function probeOf(word: string): WordProbe {
  // FNV-1a over the UTF-16 units, then a second, independent hash mixed from it (odd, so every probe differs).
  let h = 0x811c9dc5;
  for (let i = 0; i < word.length; i += 1) {
    h ^= word.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return { h1: h >>> 0, h2: (mix(h ^ 0x9e3779b9) | 1) >>> 0 };
}

function mix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** The signature of a set of terms: about 10 bits a term, a multiple of 64, at least 256. */
export function signatureOf(terms: Iterable<string>, count: number): Buffer {
  const bits = Math.max(MIN_BITS, Math.ceil((count * BITS_PER_WORD) / 64) * 64);
  const signature = Buffer.alloc(bits / 8);
  for (const term of terms) {
    const probe = probeOf(term);
    for (let i = 0; i < PROBES; i += 1) {
      const bit = (probe.h1 + i * probe.h2) % bits;
      signature[bit >>> 3]! |= 1 << (bit & 7);
    }
  }
  return signature;
}

/** The value of each base64 character (-1 for any other byte). */
const BASE64 = (() => {
  const table = new Int8Array(256).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i += 1) table[alphabet.charCodeAt(i)] = i;
  return table;
})();

/**
 * Whether a signature, as base64 text, may hold every one of the probed words (false: it
 * surely does not). Each probe reads the one character holding its bit, so a search decodes
 * nothing. Text that is not a signature this code wrote answers true (read, then checked).
 */
export function mayHoldAll(base64: SignatureBits, probes: readonly WordProbe[]): boolean {
  // Signatures are at least 32 bytes, a multiple of 8: base64 of 4 characters per 3 bytes, padded.
  const padding = base64[base64.length - 1] === 0x3d ? (base64[base64.length - 2] === 0x3d ? 2 : 1) : 0;
  const bytes = (base64.length / 4) * 3 - padding;
  const bits = bytes * 8;
  if (base64.length % 4 !== 0 || bits < MIN_BITS || bits % 64 !== 0) return true;
  for (const probe of probes) {
    for (let i = 0; i < PROBES; i += 1) {
      const bit = (probe.h1 + i * probe.h2) % bits;
      // Bit j of byte k is bit 8k + 7 - j of the stream base64 spells, 6 bits a character.
      const at = (bit >>> 3) * 8 + 7 - (bit & 7);
      const value = BASE64[base64[(at / 6) | 0]!]!;
      if (value < 0) return true;
      if ((value & (1 << (5 - (at % 6)))) === 0) return false;
    }
  }
  return true;
}
