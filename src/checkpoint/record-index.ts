import { SessionError } from '../errors.js';

/** The status letters a record index keeps: A(ctive), H(andedOff), C(ompleted), F(ailed). */
export type StatusLetter = 'A' | 'H' | 'C' | 'F';

/** Bytes of one entry in the index file: id (36), start (6), length (4), CRC-32 (4), status (1), newline (1). */
export const INDEX_ENTRY_BYTES = 52;

/** One record's place in sessions.json. */
export interface IndexEntry {
  id: string;
  start: number;
  length: number;
  crc: number;
  status: StatusLetter;
}

const LETTERS = new Set(['A', 'H', 'C', 'F']);

/**
 * Where the records of sessions.json lie: an append-only list of entries (a session's record
 * was written at `start`, `length` bytes, with this CRC-32 and status), and for each session the
 * latest, which is its live record. The first entry of a session marks its place in spawn
 * order, so folding the entries gives the sessions in spawn order whatever their file order.
 * Typed arrays: 250 000 sessions keep a million numbers here, which plain arrays would box.
 */
export class RecordIndex {
  readonly ids: string[] = [];
  private starts = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  private crcs = new Uint32Array(1024);
  private statuses = new Uint8Array(1024);
  /** Session id → its latest entry, in order of first entry (spawn order). */
  readonly latest = new Map<string, number>();

  /** How many entries (live or superseded). */
  get count(): number {
    return this.ids.length;
  }

  /** Adds an entry; it becomes the session's live record. Returns its number. */
  push(entry: IndexEntry): number {
    const i = this.ids.length;
    if (i === this.starts.length) this.grow();
    this.ids.push(entry.id);
    this.starts[i] = entry.start;
    this.lengths[i] = entry.length;
    this.crcs[i] = entry.crc;
    this.statuses[i] = entry.status.charCodeAt(0);
    this.latest.set(entry.id, i);
    return i;
  }

  startOf(i: number): number {
    return this.starts[i]!;
  }

  lengthOf(i: number): number {
    return this.lengths[i]!;
  }

  crcOf(i: number): number {
    return this.crcs[i]!;
  }

  statusOf(i: number): StatusLetter {
    return String.fromCharCode(this.statuses[i]!) as StatusLetter;
  }

  /** The live entry of a session, if the file holds it. */
  liveOf(id: string): number | undefined {
    return this.latest.get(id);
  }

  private grow(): void {
    const size = this.starts.length * 2;
    const grown = <T extends Float64Array | Uint32Array | Uint8Array>(from: T, make: new (n: number) => T): T => {
      const to = new make(size);
      to.set(from);
      return to;
    };
    this.starts = grown(this.starts, Float64Array);
    this.lengths = grown(this.lengths, Uint32Array);
    this.crcs = grown(this.crcs, Uint32Array);
    this.statuses = grown(this.statuses, Uint8Array);
  }
}

/** The index file's bytes for these entries. */
export function encodeIndexEntries(entries: readonly IndexEntry[]): Buffer {
  const out = Buffer.alloc(entries.length * INDEX_ENTRY_BYTES);
  entries.forEach((e, n) => {
    const at = n * INDEX_ENTRY_BYTES;
    out.write(e.id, at, 36, 'latin1');
    out.writeUIntLE(e.start, at + 36, 6);
    out.writeUInt32LE(e.length, at + 42);
    out.writeUInt32LE(e.crc >>> 0, at + 46);
    out.write(e.status, at + 50, 1, 'latin1');
    out[at + 51] = 0x0a;
  });
  return out;
}

/** Folds an index file's bytes (already checked against its CRC) into `index`. Throws `CORRUPT_CHECKPOINT`. */
export function decodeIndexInto(index: RecordIndex, bytes: Buffer, path: string): void {
  if (bytes.length % INDEX_ENTRY_BYTES !== 0) throw new SessionError('CORRUPT_CHECKPOINT', `${path} is not a whole number of index entries`);
  for (let at = 0; at < bytes.length; at += INDEX_ENTRY_BYTES) {
    const status = String.fromCharCode(bytes[at + 50]!);
    if (bytes[at + 51] !== 0x0a || !LETTERS.has(status)) throw new SessionError('CORRUPT_CHECKPOINT', `${path} has a malformed entry at byte ${at}`);
    index.push({
      id: bytes.toString('latin1', at, at + 36),
      start: bytes.readUIntLE(at + 36, 6),
      length: bytes.readUInt32LE(at + 42),
      crc: bytes.readUInt32LE(at + 46),
      status: status as StatusLetter,
    });
  }
}
