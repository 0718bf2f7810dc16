/**
 * A set of UUIDs held as 16 bytes each in one open-addressing table, for checking that every
 * event id of a log is unique: a Set of their strings took 75 bytes an id (67 MB for the
 * 875,000 events of 250,000 sessions). Text that is not a UUID is kept in a plain Set beside it.
 */
export class UuidSet {
  private table = new Uint32Array(4 * 1024);
  private used = new Uint8Array(1024);
  private size = 0;
  private readonly others = new Set<string>();

  /** Adds `id`; false when it was there already. */
  add(id: string): boolean {
    const words = wordsOf(id);
    if (words === null) {
      if (this.others.has(id)) return false;
      this.others.add(id);
      return true;
    }
    if ((this.size + 1) * 2 > this.used.length) this.grow();
    return this.insert(words);
  }

  private insert(words: Uint32Array): boolean {
    const mask = this.used.length - 1;
    for (let slot = (words[0]! ^ Math.imul(words[3]!, 0x9e3779b1)) & mask; ; slot = (slot + 1) & mask) {
      if (this.used[slot] === 0) {
        this.used[slot] = 1;
        this.table.set(words, slot * 4);
        this.size += 1;
        return true;
      }
      const at = slot * 4;
      const t = this.table;
      if (t[at] === words[0] && t[at + 1] === words[1] && t[at + 2] === words[2] && t[at + 3] === words[3]) return false;
    }
  }

  private grow(): void {
    const { table, used } = this;
    this.table = new Uint32Array(table.length * 2);
    this.used = new Uint8Array(used.length * 2);
    this.size = 0;
    for (let slot = 0; slot < used.length; slot += 1) if (used[slot] === 1) this.insert(table.subarray(slot * 4, slot * 4 + 4));
  }
}

const HEX = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const scratch = new Uint32Array(4);

/** A lower-case UUID's 128 bits as four words (in a buffer reused by the next call), or null. */
function wordsOf(id: string): Uint32Array | null {
  if (!HEX.test(id)) return null;
  const hex = id.slice(0, 8) + id.slice(9, 13) + id.slice(14, 18) + id.slice(19, 23) + id.slice(24);
  for (let w = 0; w < 4; w += 1) scratch[w] = parseInt(hex.slice(w * 8, w * 8 + 8), 16);
  return scratch;
}
