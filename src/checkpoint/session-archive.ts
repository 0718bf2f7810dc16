import { closeSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { SessionError } from '../errors.js';
import type { RecordIndex, StatusLetter } from './record-index.js';

/** How far ahead a bulk read fetches: large reads, few system calls. */
const WINDOW = 4 * 1024 * 1024;
/** A walk's window, and how many it keeps. */
const WALK_WINDOW = 1024 * 1024;
const WALK_WINDOWS = 4;
/** A gap between wanted records worth a second read rather than reading through it. */
const GAP = 64 * 1024;
/** How many walk windows' buffers are kept between walks. */
const SPARE_WINDOWS = 2 * WALK_WINDOWS;

/** A walk's reads: each record's checked bytes (a copy of its own), and `release` once the walk is over. */
export interface WalkReader {
  read: (index: number) => Buffer;
  /** Gives the walk's window buffers back for the next walk; the records it returned stay valid. */
  release: () => void;
}

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
   * Window buffers finished walks gave back. A read into a fresh buffer faults in each of its
   * pages, which costs more than the read itself (here 4 ms a MiB, against 0.3 ms into a buffer
   * used before): a page of the dashboard walks a few windows, so reused ones make it ~5× faster.
   */
  private readonly spareWindows: Buffer[] = [];

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
  sequentialReader(upcoming?: readonly number[]): (index: number) => Buffer {
    let window: Buffer = Buffer.alloc(0);
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
        window = this.readForward(start, windowEnd(index, start) - start);
        windowStart = start;
      }
      return this.verified(index, window.subarray(start - windowStart, start - windowStart + length));
    };
  }

  /**
   * A reader for a walk over the records in spawn order (or its reverse). In a file written in
   * place that order interleaves two kinds of places: records never rewritten, in long runs in
   * file order, and rewritten ones, scattered through the file's end. A record that continues
   * a run (within {@link GAP} past the end of a window, or before its start going backwards) is
   * read with the next {@link WALK_WINDOW} bytes; any other is read alone. A few windows are kept,
   * the least recently used dropped. Windows are read back half first (readForward), or ending
   * where a record ends going backwards, so the kernel's readahead never puts the file in large
   * folios. Each record comes back as a copy of its own, so the windows' buffers can be used
   * again, by this walk once dropped and by the next once released.
   */
  walkReader(reverse: boolean): WalkReader {
    const windows: Array<{ start: number; bytes: Buffer; buffer: Buffer }> = [];
    const dropped: Buffer[] = [];
    // The last record read alone: one that follows it starts a run.
    let last = { start: -1, end: -1 };
    const find = (start: number, end: number) => windows.findIndex((w) => start >= w.start && end <= w.start + w.bytes.length);
    const keep = (window: { start: number; bytes: Buffer; buffer: Buffer }) => {
      windows.unshift(window);
      if (windows.length > WALK_WINDOWS) dropped.push(windows.pop()!.buffer);
    };
    const buffer = (length: number): Buffer => {
      if (length !== WALK_WINDOW) return Buffer.allocUnsafe(length);
      return dropped.pop() ?? this.spareWindows.pop() ?? Buffer.allocUnsafe(WALK_WINDOW);
    };
    const read = (index: number): Buffer => {
      const copy = this.takeCopy(index);
      if (copy !== undefined) return copy;
      const start = this.index.startOf(index);
      const length = this.index.lengthOf(index);
      const end = start + length;
      let at = find(start, end);
      if (at === -1) {
        const follows = (from: number, to: number) => (reverse ? from - end <= GAP && from >= start : start - to <= GAP && start >= to);
        const continues = follows(last.start, last.end) || windows.some((w) => follows(w.start, w.start + w.bytes.length));
        if (!continues) {
          last = { start, end };
          return this.read(index);
        }
        const size = reverse ? WALK_WINDOW : Math.max(WALK_WINDOW, length);
        const into = buffer(size);
        const from = reverse ? Math.max(0, end - WALK_WINDOW) : start;
        keep({ start: from, bytes: reverse ? this.readUpTo(from, end - from, into) : this.readForward(from, size, into), buffer: into });
        at = 0;
      } else if (at > 0) {
        keep(windows.splice(at, 1)[0]!);
        at = 0;
      }
      const window = windows[at]!;
      return Buffer.from(this.verified(index, window.bytes.subarray(start - window.start, end - window.start)));
    };
    const release = () => {
      for (const spare of [...windows.map((w) => w.buffer), ...dropped]) {
        if (spare.length === WALK_WINDOW && this.spareWindows.length < SPARE_WINDOWS) this.spareWindows.push(spare);
      }
      windows.length = 0;
      dropped.length = 0;
    };
    return { read, release };
  }

  /**
   * Copies these records' bytes out of the file now, so that they are read from memory later
   * even if the file changes in place meanwhile. Each is checked against its CRC-32 as it is
   * copied: another process may have blanked it between the index being read and now, and a
   * copy that is already wrong would only fail later, far from the load that could read again.
   * Throws `CORRUPT_CHECKPOINT`. Each is a copy of its own: the read windows are not kept.
   */
  copyOut(entries: readonly number[]): void {
    // Last record first, in windows that end where a record ends: reads that run backwards never
    // set off the kernel's readahead, which would put the file in large folios (see readBackwards)
    // and make every later in-place checkpoint write whole folios.
    const sorted = [...entries].sort((a, b) => this.index.startOf(b) - this.index.startOf(a));
    let window: Buffer = Buffer.alloc(0);
    let windowStart = 0;
    for (let i = 0; i < sorted.length; i += 1) {
      const entry = sorted[i]!;
      const start = this.index.startOf(entry);
      const length = this.index.lengthOf(entry);
      if (start < windowStart || start + length > windowStart + window.length) {
        const end = start + length;
        let from = start;
        // Reach back over the next records while the gaps are small and the window not too large.
        for (let j = i + 1; j < sorted.length; j += 1) {
          const next = this.index.startOf(sorted[j]!);
          if (from - (next + this.index.lengthOf(sorted[j]!)) > GAP || end - next > WINDOW) break;
          from = next;
        }
        windowStart = from;
        window = this.readUpTo(from, end - from);
      }
      this.copies.set(entry, Buffer.from(this.verified(entry, window.subarray(start - windowStart, start - windowStart + length))));
    }
  }

  /** Up to `length` bytes from `from` (fewer at the end of the file), in one read (into `into` when given). */
  private readUpTo(from: number, length: number, into?: Buffer): Buffer {
    const bytes = (into ?? Buffer.allocUnsafe(length)).subarray(0, length);
    return bytes.subarray(0, this.readInto(bytes, from, true));
  }

  /**
   * Up to `length` bytes from `from` (fewer at the end of the file), the back half read first:
   * reads that never follow on from the last one are not readahead streams, so the file stays in
   * small pages (see readBackwards) for in-place checkpoints.
   */
  private readForward(from: number, length: number, into?: Buffer): Buffer {
    const bytes = (into ?? Buffer.allocUnsafe(length)).subarray(0, length);
    const half = Math.ceil(length / 2);
    const back = this.readInto(bytes.subarray(half), from + half, true);
    const front = this.readInto(bytes.subarray(0, half), from, true);
    return bytes.subarray(0, front < half ? front : half + back);
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
