import { appendSessionJson, type ByteSink } from '../checkpoint/record-json.js';
import type { Session } from '../domain/session.js';
import { streamWalked, type SessionQuery } from '../projections/session-query.js';
import { safeJson } from '../domain/visible-text.js';

/**
 * NDJSON bytes built up and handed on in pieces of about `pieceSize`: a stream of any length
 * holds one piece (and one line longer than a piece, should there be one).
 */
export class NdjsonPieces implements ByteSink {
  private buffer: Buffer;
  length = 0;

  constructor(private readonly pieceSize = 256 * 1024) {
    this.buffer = Buffer.allocUnsafe(pieceSize);
  }

  reserve(bytes: number): Buffer {
    if (this.length + bytes > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    return this.buffer;
  }

  /** Adds one line (its newline is added). */
  line(text: string): void {
    const room = this.reserve(Buffer.byteLength(text) + 1);
    this.length += room.write(text, this.length);
    room[this.length++] = 0x0a;
  }

  /** Whether a piece is full enough to hand on. */
  get full(): boolean {
    return this.length >= this.pieceSize;
  }

  /** What was added since the last take, as a piece of its own. */
  take(): Buffer {
    const piece = Buffer.from(this.buffer.subarray(0, this.length));
    this.length = 0;
    if (this.buffer.length > this.pieceSize) this.buffer = Buffer.allocUnsafe(this.pieceSize);
    return piece;
  }
}

/**
 * Every session of `sessions` that `query` matches, in its order, as NDJSON in pieces: one
 * session's JSON a line, made safe for a terminal (see domain/visible-text.ts). A session read
 * from sessions.json is written straight from its record's bytes (record-json.ts), so a listing
 * of the whole store costs about a copy of the file, not a parse and a serialization of each.
 */
export function* sessionLines(sessions: ReadonlyMap<string, Session>, query: Omit<SessionQuery, 'limit' | 'after'> = {}): Generator<Buffer> {
  const out = new NdjsonPieces();
  for (const walked of streamWalked(sessions, query)) {
    const record = walked.record;
    if (record === undefined || !appendSessionJson(record.bytes, record.id, out)) out.line(safeJson(walked.session));
    if (out.full) yield out.take();
  }
  if (out.length > 0) yield out.take();
}

/** The same lines from sessions as they come (a store that has no record bytes to copy). */
export async function* sessionLinesOf(sessions: AsyncIterable<Session>): AsyncGenerator<Buffer> {
  const out = new NdjsonPieces();
  for await (const session of sessions) {
    out.line(safeJson(session));
    if (out.full) yield out.take();
  }
  if (out.length > 0) yield out.take();
}
