/**
 * A conversation's words as a Bloom filter (its "signature"): about 10 bits a distinct word and
 * 7 probes, so a word it does not hold passes for one about 1% of the time, and a word it holds
 * always does. A search reads the signatures, not the conversations, and opens only those that
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

/** The signature of a set of words: a power-of-two number of bits, at least 256. */
export function signatureOf(words: Iterable<string>, count: number): Buffer {
  let bits = MIN_BITS;
  while (bits < count * BITS_PER_WORD) bits *= 2;
  const signature = Buffer.alloc(bits / 8);
  for (const word of words) {
    const probe = probeOf(word);
    for (let i = 0; i < PROBES; i += 1) {
      const bit = (probe.h1 + i * probe.h2) & (bits - 1);
      signature[bit >>> 3]! |= 1 << (bit & 7);
    }
  }
  return signature;
}

/** Whether a signature may hold every one of the probed words (false: it surely does not). */
export function mayHoldAll(signature: Buffer, probes: readonly WordProbe[]): boolean {
  const bits = signature.length * 8;
  // A signature's size is a power of two; anything else is not one this code wrote.
  if (bits === 0 || (bits & (bits - 1)) !== 0) return true;
  for (const probe of probes) {
    for (let i = 0; i < PROBES; i += 1) {
      const bit = (probe.h1 + i * probe.h2) & (bits - 1);
      if ((signature[bit >>> 3]! & (1 << (bit & 7))) === 0) return false;
    }
  }
  return true;
}
