import { SessionError } from '../../errors.js';
import type { SessionEvent } from '../../events/session-event.js';
import type { DecodedLine, Verification } from './line-codec.js';
import { decodeLines } from './decode-lines.js';

const NEWLINE = 0x0a;

/** One event read from the log, with where its line sits. */
export interface LogRecord {
  event: SessionEvent;
  /** 1-based line number. */
  line: number;
  /** Byte offset of the line's first byte. */
  offset: number;
  /** Byte offset just past the line's `\n`. */
  end: number;
  /** The event's JSON exactly as stored, when it needed no upcast (see decodeEventLine). */
  json?: string;
}

/** A problem the scanner found in tolerant mode (the audit's use). */
export interface LogFinding {
  line: number;
  offset: number;
  message: string;
}

/** Where a scan starts: after the last event a previous scan (or a checkpoint) covered. */
export interface ScanStart {
  offset: number;
  line: number;
  lastSeq: number;
}

/** What is left past the last whole transaction when the input ends. */
export interface ScanTail {
  /** Offset just past the last whole transaction: everything before it is valid. */
  committedEnd: number;
  line: number;
  lastSeq: number;
  /** Bytes after `committedEnd`: an unfinished line and/or an unfinished transaction. */
  pendingBytes: number;
  /** Complete lines among them that belong to a transaction whose other lines are missing. */
  pendingLines: number;
}

/**
 * Splits log bytes into validated events, with no I/O of its own so the same code serves
 * a full replay, a tail catch-up and the audit. Events come out only in whole transactions
 * (a handoff's two events together), and only with the next `seq`. A bad line throws
 * `CORRUPT_LOG` naming file, line and byte offset — or, given `onFinding` (the audit), is
 * reported there and skipped so the scan goes on. Bytes that may still be being written
 * (or were torn by a crash) are held back and reported by {@link LogScanner.tail}.
 */
export class LogScanner {
  private carry: Buffer = Buffer.alloc(0);
  private carryOffset: number;
  private nextLine: number;
  private expectedSeq: number;
  private committed: ScanStart;
  private openTx: LogRecord[] = [];
  private openTxSize = 0;

  constructor(
    private readonly file: string,
    start: ScanStart = { offset: 0, line: 0, lastSeq: 0 },
    private readonly onFinding?: (finding: LogFinding) => void,
    // Stryker disable next-line StringLiteral: equivalent, every value but 'checksum' validates the schema.
    private readonly verify: Verification = onFinding === undefined ? 'checksum' : 'schema',
  ) {
    this.carryOffset = start.offset;
    this.nextLine = start.line + 1;
    this.expectedSeq = start.lastSeq + 1;
    this.committed = { ...start };
  }

  /** Feeds the next bytes of the file; returns the events of every transaction they complete. */
  push(chunk: Buffer): LogRecord[] {
    // Stryker disable next-line ConditionalExpression: equivalent, concatenating nothing to the chunk gives its bytes (the test only saves a copy).
    const data = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    const released: LogRecord[] = [];
    const whole = data.lastIndexOf(NEWLINE) + 1;
    decodeLines(data.subarray(0, whole), this.verify, (decoded, length) => this.take(decoded, length, released));
    this.carry = data.subarray(whole);
    return released;
  }

  /**
   * Feeds whole lines decoded elsewhere (the audit decodes them in worker threads): each line's
   * {@link DecodedLine} and its length in bytes with its `\n`, in file order, as {@link push}
   * would have decoded them. Only between whole lines: never while an unfinished line is held.
   */
  pushDecoded(lines: ReadonlyArray<DecodedLine>, lengths: ArrayLike<number>): LogRecord[] {
    if (this.carry.length > 0) throw new Error('pushDecoded() after push() left an unfinished line');
    const released: LogRecord[] = [];
    for (let i = 0; i < lines.length; i += 1) this.take(lines[i]!, lengths[i]!, released);
    return released;
  }

  /** Where the valid part ends and what follows it, as of the bytes pushed so far. */
  tail(): ScanTail {
    const endOfInput = this.carryOffset + this.carry.length;
    return {
      committedEnd: this.committed.offset,
      line: this.committed.line,
      lastSeq: this.committed.lastSeq,
      pendingBytes: endOfInput - this.committed.offset,
      pendingLines: this.openTx.length,
    };
  }

  /** Runs a step; in tolerant mode a `CORRUPT_LOG` becomes a finding and the step yields null. */
  private tolerate<T>(step: () => T): T | null {
    // Stryker disable next-line ConditionalExpression: equivalent, only a tolerant scan (one with onFinding) calls tolerate().
    if (this.onFinding === undefined) return step();
    try {
      return step();
    } catch (error) {
      const { position, message } = error as SessionError;
      // Stryker disable next-line ConditionalExpression,BooleanLiteral: equivalent, the steps throw nothing but CORRUPT_LOG, which has a position (a guard for what they might throw one day).
      if (position === undefined) throw error;
      this.onFinding({ line: position.line, offset: position.offset, message: message.slice(message.indexOf('): ') + 3) });
      return null;
    }
  }

  /** Takes the next line (its decoding, and its bytes with the `\n`): its seq checked, into its transaction. */
  private take(decoded: DecodedLine, bytes: number, released: LogRecord[]): void {
    const offset = this.carryOffset;
    const end = offset + bytes;
    // Strict scans (every open and replay) call the steps directly: no closure per line.
    // Stryker disable next-line BooleanLiteral,ConditionalExpression: equivalent in what it reads, tolerate() runs a step as it is when there is no onFinding (strict only spares a closure a line).
    const strict = this.onFinding === undefined;
    const record = strict ? this.sequence(decoded, this.nextLine, offset, end) : this.tolerate(() => this.sequence(decoded, this.nextLine, offset, end));
    // A line the audit could not read most likely held the next seq: expect the one after it.
    if (record === null) this.expectedSeq += 1;
    this.nextLine += 1;
    this.carryOffset = end;
    if (record !== null) {
      // Stryker disable next-line ConditionalExpression: equivalent, as above.
      if (strict) this.accept(record, released);
      else this.tolerate(() => this.accept(record, released));
    }
  }

  private sequence(decoded: DecodedLine, line: number, offset: number, end: number): LogRecord {
    if (!decoded.ok) throw corrupt({ file: this.file, line, offset }, decoded.reason);
    const { event } = decoded;
    if (event.seq !== this.expectedSeq) {
      const message = `seq ${event.seq} where ${this.expectedSeq} was expected (a gap, a duplicate or a reordering)`;
      if (this.onFinding === undefined) throw corrupt({ file: this.file, line, offset }, message);
      // The audit keeps the event and resynchronizes on its seq, so one gap is one finding, not a cascade.
      this.onFinding({ line, offset, message });
    }
    this.expectedSeq = event.seq + 1;
    return decoded.json === undefined ? { event, line, offset, end } : { event, line, offset, end, json: decoded.json };
  }

  private accept(record: LogRecord, released: LogRecord[]): void {
    const { event } = record;
    if (this.openTx.length > 0) {
      if (event.txSize !== undefined) {
        throw corrupt({ file: this.file, line: record.line, offset: record.offset }, `a transaction starts before the one at line ${this.openTx[0]!.line} is complete`);
      }
      this.openTx.push(record);
      if (this.openTx.length < this.openTxSize) return;
      released.push(...this.openTx);
      this.openTx = [];
    } else if (event.txSize !== undefined) {
      this.openTx = [record];
      this.openTxSize = event.txSize;
      return;
    } else {
      released.push(record);
    }
    this.committed = { offset: record.end, line: record.line, lastSeq: event.seq };
  }
}

function corrupt(where: { file: string; line: number; offset: number }, reason: string): SessionError {
  const { file } = where;
  return new SessionError('CORRUPT_LOG', `${file}:${where.line} (byte ${where.offset}): ${reason}`, {
    position: { file, line: where.line, offset: where.offset },
  });
}
