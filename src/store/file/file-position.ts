import type { StoreCursor } from '../event-store.js';

/** Where a file store's cursor stands: the offset past the last line it covers, that line's number and its start. */
export interface FilePosition {
  seq: number;
  offset: number;
  line: number;
  lastLineOffset: number;
}

/** The file position a cursor of the file store holds (the start of the log for none, or for another store's). */
export function filePositionOf(cursor: StoreCursor | null): FilePosition {
  const p = cursor?.position ?? {};
  return { seq: cursor?.seq ?? 0, offset: p['offset'] ?? 0, line: p['line'] ?? 0, lastLineOffset: p['lastLineOffset'] ?? 0 };
}

/** A file store's cursor. */
export function fileCursor(at: FilePosition): StoreCursor {
  return { seq: at.seq, position: { offset: at.offset, line: at.line, lastLineOffset: at.lastLineOffset } };
}
