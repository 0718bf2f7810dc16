import { closeSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { SessionError } from '../errors.js';
import type { RecordIndex, StatusLetter } from './record-index.js';

/** How far ahead a bulk read fetches: large reads, few system calls. */
const WINDOW = 4 * 1024 * 1024;
/** A gap between wanted records worth a second read rather than reading through it. */
const GAP = 64 * 1024;

/**
 * The records of a loaded sessions.json that are left on disk until someone asks for them:
 * ended sessions never change, so a large store opens without parsing them. Reads are
 * synchronous (a record is a few KB in the page cache) because projections are read
 * synchronously; each record is checked against its own CRC-32 before it is trusted, so a file
 * changed in place after it was opened is caught, not believed.
 */
export class SessionArchive {
  private closed = false;

  /**
   * `fd` is the open file, which the archive now owns and closes; `index` says where its records
   * are; `copies` holds records already copied out of it (by entry), which are read from there.
   */
  constructor(
    private readonly fd: number,
    /** The file the records were read from (for error messages). */
    readonly path: string,
    readonly index: RecordIndex,
    private readonly copies: Map<number, Buffer> = new Map(),
  ) {}

  /** Entry `index`'s status letter. */
  statusOf(index: number): StatusLetter {
    return this.index.statusOf(index);
  }

  /** The CRC-32 of record `index`'s bytes. */
  crcOf(index: number): number {
    return this.index.crcOf(index);
  }

  /** The verified bytes of record `index`. Throws `CORRUPT_CHECKPOINT` if they changed. */
  read(index: number): Buffer {
    const copy = this.takeCopy(index);
    if (copy !== undefined) return copy;
    const bytes = Buffer.allocUnsafe(this.index.lengthOf(index));
    this.readInto(bytes, this.index.startOf(index));
    return this.verified(index, bytes);
  }

  /**
   * A reader for many records in increasing file order (a full load, a checkpoint copy): it
   * reads the file in large windows instead of once per record. Given the entries it will be
   * asked for (sorted by start), a window stops before a gap of more than {@link GAP} bytes, so
   * records scattered through a large file cost their own bytes, not the file's.
   */
  sequentialReader(upcoming?: readonly number[], verify = true): (index: number) => Buffer {
    let window = Buffer.alloc(0);
    let windowStart = 0;
    let next = 0;
    const windowEnd = (index: number, start: number): number => {
      const length = this.index.lengthOf(index);
      if (upcoming === undefined) return start + Math.max(WINDOW, length);
      while (next < upcoming.length && this.index.startOf(upcoming[next]!) < start) next += 1;
      let end = start + length;
      for (let i = next; i < upcoming.length; i += 1) {
        const from = this.index.startOf(upcoming[i]!);
        const to = from + this.index.lengthOf(upcoming[i]!);
        if (from - end > GAP || to - start > WINDOW) break;
        end = Math.max(end, to);
      }
      return end;
    };
    return (index) => {
      const copy = this.takeCopy(index);
      if (copy !== undefined) return copy;
      const start = this.index.startOf(index);
      const length = this.index.lengthOf(index);
      if (start < windowStart || start + length > windowStart + window.length) {
        window = Buffer.allocUnsafe(windowEnd(index, start) - start);
        windowStart = start;
        // The back half first: reads that never follow on from the last one are not readahead
        // streams, so the file stays in small pages (see readBackwards) for in-place checkpoints.
        const half = Math.ceil(window.length / 2);
        const back = this.readInto(window.subarray(half), start + half, true);
        const front = this.readInto(window.subarray(0, half), start, true);
        window = window.subarray(0, front < half ? front : half + back);
      }
      const bytes = window.subarray(start - windowStart, start - windowStart + length);
      return verify ? this.verified(index, bytes) : bytes;
    };
  }

  /** {@link sequentialReader} for records asked for in decreasing file order (a walk newest first): windows end where a record ends. */
  reverseReader(): (index: number) => Buffer {
    let window = Buffer.alloc(0);
    let windowStart = 0;
    return (index) => {
      const copy = this.takeCopy(index);
      if (copy !== undefined) return copy;
      const start = this.index.startOf(index);
      const length = this.index.lengthOf(index);
      if (start < windowStart || start + length > windowStart + window.length) {
        const end = start + length;
        windowStart = Math.max(0, end - Math.max(WINDOW, length));
        window = Buffer.allocUnsafe(end - windowStart);
        window = window.subarray(0, this.readInto(window, windowStart, true));
      }
      return this.verified(index, window.subarray(start - windowStart, start - windowStart + length));
    };
  }

  /**
   * Copies these records' bytes out of the file now, so that they are read from memory later
   * even if the file changes in place meanwhile; each is checked against its CRC-32 when it is
   * read, as any record. Each is a copy of its own: the read windows are not kept.
   */
  copyOut(entries: readonly number[]): void {
    const sorted = [...entries].sort((a, b) => this.index.startOf(a) - this.index.startOf(b));
    const read = this.sequentialReader(sorted, false);
    for (const entry of sorted) this.copies.set(entry, Buffer.from(read(entry)));
  }

  /** A copied record's verified bytes, if it was copied. */
  private takeCopy(index: number): Buffer | undefined {
    const copy = this.copies.get(index);
    return copy === undefined ? undefined : this.verified(index, copy);
  }

  /** Drops the copy of a record that has been parsed: it is not read again. */
  forget(index: number): void {
    this.copies.delete(index);
  }

  /** Closes the file; the archive cannot be read after. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  private readInto(buffer: Buffer, position: number, partial = false): number {
    if (this.closed) throw new SessionError('CLOSED', `${this.path} was closed`);
    let done = 0;
    try {
      while (done < buffer.length) {
        const n = readSync(this.fd, buffer, done, buffer.length - done, position + done);
        if (n === 0) break;
        done += n;
      }
    } catch (error) {
      throw new SessionError('CORRUPT_CHECKPOINT', `${this.path} could not be read: ${String(error)}`, { cause: error });
    }
    if (!partial && done < buffer.length) throw new SessionError('CORRUPT_CHECKPOINT', `${this.path} is shorter than its index says`);
    return done;
  }

  /** `bytes` if they are record `index`'s as the index says. Throws `CORRUPT_CHECKPOINT`. */
  verified(index: number, bytes: Buffer): Buffer {
    if (bytes.length !== this.index.lengthOf(index) || crc32(bytes) !== this.index.crcOf(index)) {
      throw new SessionError('CORRUPT_CHECKPOINT', `${this.path} changed after it was loaded: record ${index} fails its checksum; reopen the store`);
    }
    return bytes;
  }
}
