import { Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import ndjson from 'ndjson';
import { safeJsonText } from '../domain/visible-text.js';

/** Output is handed to stdout in pieces of about this many characters: one write per line cost a system call each. */
const PIECE = 64 * 1024;

/** Writes a piece of output (bytes already made into lines); resolves when more may go on. */
export async function writePiece(piece: Uint8Array | string, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  if (!out.write(piece)) await new Promise((resolve) => out.once('drain', resolve));
}

/**
 * Lines to stdout in pieces of ~64 KiB, waiting when stdout is behind: a stream of any length
 * holds a bounded amount and costs a write per piece, not per line.
 */
export class LinesOut {
  private pending: string[] = [];
  private size = 0;

  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}

  /** Adds a line (without its newline); resolves when it may go on. */
  async line(text: string): Promise<void> {
    this.pending.push(text, '\n');
    this.size += text.length + 1;
    if (this.size >= PIECE) await this.flush();
  }

  /** Adds output already made into lines (its newlines its own); resolves when more may go on. */
  async piece(bytes: Uint8Array): Promise<void> {
    await this.flush();
    await writePiece(bytes, this.out);
  }

  /** Writes what is pending. */
  async flush(): Promise<void> {
    if (this.size === 0) return;
    const piece = this.pending.join('');
    this.pending = [];
    this.size = 0;
    await writePiece(piece, this.out);
  }
}

/**
 * NDJSON on stdout as it comes (`watch --json`: each line written as soon as its event is read,
 * never held back to fill a piece), one value a line (ndjson's serializer), each line made safe
 * for a terminal (see domain/visible-text.ts) and parsing back to exactly the value. Waits for
 * stdout when it is slower than the values come, so a stream of any length holds a bounded amount.
 */
export class NdjsonOut {
  private readonly lines = ndjson.stringify();
  private readonly safe = new Transform({
    transform(line: Buffer | string, _encoding, callback) {
      callback(null, safeJsonText(line.toString()));
    },
  });

  constructor(out: NodeJS.WritableStream = process.stdout) {
    this.lines.pipe(this.safe).pipe(out, { end: false });
  }

  /** Writes one value; resolves when it is taken (at once, unless the output is behind). */
  async write(value: unknown): Promise<void> {
    if (!this.lines.write(value)) await new Promise((resolve) => this.lines.once('drain', resolve));
  }

  /** Flushes every line written. */
  async end(): Promise<void> {
    this.lines.end();
    await finished(this.safe);
  }
}

