import { closeSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { SessionError } from '../errors.js';

/** Where each record of a sessions.json file lies, and its CRC-32, in file order. */
export interface RecordLayout {
  ids: string[];
  starts: number[];
  lengths: number[];
  crcs: number[];
  /** One letter per record: A(ctive), H(andedOff), C(ompleted), F(ailed). */
  statuses: string;
}

/** How far ahead a bulk read fetches: large reads, few system calls. */
const WINDOW = 4 * 1024 * 1024;

/**
 * The records of a loaded sessions.json that are left on disk until someone asks for them:
 * ended sessions never change, so a large store opens without parsing them. Reads are
 * synchronous (a record is a few KB in the page cache) because projections are read
 * synchronously; each record is checked against its own CRC-32 before it is trusted, so a file
 * changed in place after it was opened is caught, not believed.
 */
export class SessionArchive {
  private closed = false;
  // Typed arrays: a store of 250 000 sessions keeps 750 000 numbers here, which plain arrays
  // would box (CRCs and large offsets are not small integers) and the GC would trace.
  private readonly starts: Float64Array;
  private readonly lengths: Uint32Array;
  private readonly crcs: Uint32Array;
  private readonly statuses: string;

  /** `fd` is the open file, which the archive now owns and closes. */
  constructor(
    private readonly fd: number,
    /** The file the records were read from (for error messages). */
    readonly path: string,
    layout: RecordLayout,
  ) {
    this.starts = Float64Array.from(layout.starts);
    this.lengths = Uint32Array.from(layout.lengths);
    this.crcs = Uint32Array.from(layout.crcs);
    this.statuses = layout.statuses;
  }

  /** Record `index`'s status letter in the index. */
  statusLetterOf(index: number): string {
    return this.statuses[index]!;
  }

  /** The CRC-32 of record `index`'s bytes. */
  crcOf(index: number): number {
    return this.crcs[index]!;
  }

  /** The verified bytes of record `index`. Throws `CORRUPT_CHECKPOINT` if they changed. */
  read(index: number): Buffer {
    const length = this.lengths[index]!;
    const bytes = Buffer.allocUnsafe(length);
    this.readInto(bytes, this.starts[index]!);
    return this.verified(index, bytes);
  }

  /**
   * A reader for many records in increasing file order (a full load, a checkpoint copy): it
   * reads the file in large windows instead of once per record.
   */
  sequentialReader(): (index: number) => Buffer {
    let window = Buffer.alloc(0);
    let windowStart = 0;
    return (index) => {
      const start = this.starts[index]!;
      const length = this.lengths[index]!;
      if (start < windowStart || start + length > windowStart + window.length) {
        window = Buffer.allocUnsafe(Math.max(WINDOW, length));
        windowStart = start;
        window = window.subarray(0, this.readInto(window, start, true));
      }
      return this.verified(index, window.subarray(start - windowStart, start - windowStart + length));
    };
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

  private verified(index: number, bytes: Buffer): Buffer {
    if (bytes.length !== this.lengths[index] || crc32(bytes) !== this.crcs[index]) {
      throw new SessionError('CORRUPT_CHECKPOINT', `${this.path} changed after it was loaded: record ${index} fails its checksum; reopen the store`);
    }
    return bytes;
  }
}
