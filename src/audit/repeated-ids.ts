import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UuidTable, uuidOfWords, wordsOf } from './uuid-table.js';

/** An event id met again, with where that later event is. */
export interface RepeatedId {
  id: string;
  sessionId: string;
  line: number;
  offset: number;
}

/** Spill parts: each part's ids are checked alone at the end, so memory holds one part's. */
const PARTS = 64;
/** An id's record in a part, in 32-bit words: its 4, its session's 4, its line, its offset's low and high word. */
const RECORD = 11;
/** Records a part buffers before it writes them to its file. */
const BUFFERED = 512;

/**
 * Finds the event ids a log holds more than once, in memory that does not grow with the log.
 * Each id goes, with where it is, to one of {@link PARTS} parts chosen by its bits: a part is
 * buffered in memory and spilled to a temporary file when its buffer fills. At the end each part
 * is read back alone and its ids are checked with a table: a repeated id is always in one part,
 * and in the order the log holds it. A set of every id took 34 bytes an event (30 MB at 250,000
 * sessions); the parts take 1.4 MB of buffers at any size, and 44 bytes an event of disk.
 */
export class RepeatedIds {
  private readonly buffers = Array.from({ length: PARTS }, () => new Uint32Array(RECORD * BUFFERED));
  private readonly filled = new Int32Array(PARTS);
  private readonly files = new Array<number>(PARTS).fill(-1);
  /** Ids or session ids that are not lower-case UUIDs (a schema-valid log has none), checked in memory. */
  private readonly odd: RepeatedId[] = [];
  private dir: string | null = null;

  /** Records that the event at `line`/`offset` of session `sessionId` has id `id`. */
  add(id: string, sessionId: string, line: number, offset: number): void {
    const session = wordsOf(sessionId);
    if (session === null) return void this.odd.push({ id, sessionId, line, offset });
    const s0 = session[0]!, s1 = session[1]!, s2 = session[2]!, s3 = session[3]!;
    const words = wordsOf(id);
    if (words === null) return void this.odd.push({ id, sessionId, line, offset });
    const into = words[1]! & (PARTS - 1);
    const buffer = this.buffers[into]!;
    const at = this.filled[into]! * RECORD;
    buffer[at] = words[0]!;
    buffer[at + 1] = words[1]!;
    buffer[at + 2] = words[2]!;
    buffer[at + 3] = words[3]!;
    buffer[at + 4] = s0;
    buffer[at + 5] = s1;
    buffer[at + 6] = s2;
    buffer[at + 7] = s3;
    buffer[at + 8] = line;
    buffer[at + 9] = offset >>> 0;
    buffer[at + 10] = Math.floor(offset / 2 ** 32);
    const filled = this.filled[into]! + 1;
    this.filled[into] = filled;
    if (filled === BUFFERED) this.spill(into);
  }

  /** Every event whose id an earlier event of the log has, in log order within each id. */
  repeats(): RepeatedId[] {
    const found: RepeatedId[] = [];
    for (let part = 0; part < PARTS; part += 1) {
      const records = this.partRecords(part);
      const seen = new UuidTable();
      for (let at = 0; at < records.length; at += RECORD) {
        const before = seen.size;
        seen.addWords(records.subarray(at, at + 4));
        if (seen.size > before) continue;
        found.push({ id: uuidOfWords(records.subarray(at, at + 4)), sessionId: uuidOfWords(records.subarray(at + 4, at + 8)), line: records[at + 8]!, offset: records[at + 9]! + records[at + 10]! * 2 ** 32 });
      }
    }
    const seen = new Set<string>();
    for (const odd of this.odd) {
      if (seen.has(odd.id)) found.push(odd);
      seen.add(odd.id);
    }
    return found;
  }

  /** Closes and removes the spill files. */
  dispose(): void {
    for (const fd of this.files) if (fd !== -1) closeSync(fd);
    this.files.fill(-1);
    if (this.dir !== null) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }

  /** A part's records: those spilled, then those still buffered. */
  private partRecords(part: number): Uint32Array {
    const buffered = this.buffers[part]!.subarray(0, this.filled[part]! * RECORD);
    if (this.files[part] === -1) return buffered;
    const spilled = readFileSync(this.partFile(part));
    const records = new Uint32Array(spilled.length / 4 + buffered.length);
    records.set(new Uint32Array(spilled.buffer.slice(spilled.byteOffset, spilled.byteOffset + spilled.length)));
    records.set(buffered, spilled.length / 4);
    return records;
  }

  private spill(part: number): void {
    this.dir ??= mkdtempSync(join(tmpdir(), 'miyabi-audit-'));
    if (this.files[part] === -1) this.files[part] = openSync(this.partFile(part), 'a');
    const buffer = this.buffers[part]!;
    writeSync(this.files[part]!, new Uint8Array(buffer.buffer, 0, this.filled[part]! * RECORD * 4));
    this.filled[part] = 0;
  }

  private partFile(part: number): string {
    return join(this.dir!, `ids.${part}`);
  }
}
