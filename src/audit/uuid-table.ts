/**
 * UUIDs held as 16 bytes each, each with an ordinal (0, 1, 2… in the order first added) so that
 * facts about it can live in typed arrays indexed by it: a Map of their strings took 75 bytes an
 * id, and the audit holds one for every session of a log. The words lie by ordinal and an
 * open-addressing index of ordinals finds them, so growing the index moves 4 bytes an id, not 20
 * (a table of words by slot peaked at 60 bytes an id as it grew). Text that is not a lower-case
 * UUID is kept in a plain Map beside it.
 */
export class UuidTable {
  /** Each id's four words, at 4 × its ordinal. */
  private words = new Uint32Array(4 * 1024);
  /** Ordinal + 1 of the id in each slot; 0 for an empty slot. */
  private slots = new Int32Array(1024);
  private count = 0;
  private readonly others = new Map<string, number>();

  /** How many ids were added. */
  get size(): number {
    return this.count;
  }

  /** The ordinal of `id`, or -1 when it was never added. */
  ordinalOf(id: string): number {
    const words = wordsOf(id);
    if (words === null) return this.others.get(id) ?? -1;
    const slot = this.find(words);
    return this.slots[slot]! - 1;
  }

  /** The ordinal of `id`, given the next one when it is new (then {@link size} grows by one). */
  add(id: string): number {
    const words = wordsOf(id);
    if (words === null) {
      const known = this.others.get(id);
      if (known !== undefined) return known;
      this.others.set(id, this.count);
      return this.count++;
    }
    return this.addWords(words);
  }

  /** {@link add} of a UUID given as the four words {@link wordsOf} makes of it. */
  addWords(words: Uint32Array): number {
    // Grown at half full, so that a probe stays short.
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    const slot = this.find(words);
    if (this.slots[slot] !== 0) return this.slots[slot]! - 1;
    if ((this.count + 1) * 4 > this.words.length) {
      const grown = new Uint32Array(this.words.length * 2);
      grown.set(this.words);
      this.words = grown;
    }
    this.words.set(words, this.count * 4);
    this.slots[slot] = this.count + 1;
    return this.count++;
  }

  /** The slot holding `words`, or the empty slot where they would go. */
  private find(words: ArrayLike<number>): number {
    const mask = this.slots.length - 1;
    const t = this.words;
    for (let slot = (words[0]! ^ Math.imul(words[3]!, 0x9e3779b1)) & mask; ; slot = (slot + 1) & mask) {
      const held = this.slots[slot]!;
      if (held === 0) return slot;
      const at = (held - 1) * 4;
      if (t[at] === words[0] && t[at + 1] === words[1] && t[at + 2] === words[2] && t[at + 3] === words[3]) return slot;
    }
  }

  /** Twice the slots, each id placed again: its words stay where they are, by ordinal. */
  private grow(): void {
    const { slots } = this;
    this.slots = new Int32Array(slots.length * 2);
    for (let slot = 0; slot < slots.length; slot += 1) {
      const held = slots[slot]!;
      if (held === 0) continue;
      this.slots[this.find(this.words.subarray((held - 1) * 4, held * 4))] = held;
    }
  }
}

const scratch = new Uint32Array(4);
const DASH = 0x2d;
/** Each UTF-16 code unit's value as a lower-case hex digit, or -1. */
const HEX_DIGIT = new Int8Array(65536).fill(-1);
for (let d = 0; d < 16; d += 1) HEX_DIGIT['0123456789abcdef'.charCodeAt(d)] = d;

/**
 * A lower-case UUID's 128 bits as four words (in a buffer reused by the next call), or null
 * when `id` is not one. Four digits at a time from a table: a regex, slices and parseInt took a
 * third of the audit's reading thread.
 */
export function wordsOf(id: string): Uint32Array | null {
  if (id.length !== 36 || id.charCodeAt(8) !== DASH || id.charCodeAt(13) !== DASH || id.charCodeAt(18) !== DASH || id.charCodeAt(23) !== DASH) return null;
  const a = fourDigits(id, 0);
  const b = fourDigits(id, 4);
  const c = fourDigits(id, 9);
  const d = fourDigits(id, 14);
  const e = fourDigits(id, 19);
  const f = fourDigits(id, 24);
  const g = fourDigits(id, 28);
  const h = fourDigits(id, 32);
  // A digit that is not one makes its group negative.
  if ((a | b | c | d | e | f | g | h) < 0) return null;
  scratch[0] = (a << 16) | b;
  scratch[1] = (c << 16) | d;
  scratch[2] = (e << 16) | f;
  scratch[3] = (g << 16) | h;
  return scratch;
}

/** The 16-bit value of the four hex digits at `at`, or a negative number when one is not a digit. */
function fourDigits(id: string, at: number): number {
  const d0 = HEX_DIGIT[id.charCodeAt(at)]!;
  const d1 = HEX_DIGIT[id.charCodeAt(at + 1)]!;
  const d2 = HEX_DIGIT[id.charCodeAt(at + 2)]!;
  const d3 = HEX_DIGIT[id.charCodeAt(at + 3)]!;
  return (d0 | d1 | d2 | d3) < 0 ? -1 : (d0 << 12) | (d1 << 8) | (d2 << 4) | d3;
}

/** The lower-case UUID four words stand for (the inverse of {@link wordsOf}). */
export function uuidOfWords(words: ArrayLike<number>): string {
  const hex = Array.from({ length: 4 }, (_, w) => (words[w]! >>> 0).toString(16).padStart(8, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
