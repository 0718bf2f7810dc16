/*
 * A worker of the audit's decoding (see log-decoders.ts): takes whole lines of the log, decodes
 * each as a scan does (checksum, JSON, schema) and answers, line by line, with the part of the
 * event the audit's rules read (packed), or why the line is not an event, and each line's length.
 */
import { parentPort } from 'node:worker_threads';
import { decodeLines } from './decode-lines.js';
import { packDecodedLine, type PackedLines } from './audited-part.js';

/** Whole lines of the log, as log-decoders.ts posts them: `length` bytes of `bytes`, each ending in `\n`. */
export interface LinesToDecode {
  id: number;
  bytes: ArrayBuffer;
  length: number;
}

/** The answer: each line decoded (packed: see {@link PackedLines}), and its length in bytes with its `\n`. */
export interface DecodedLines {
  id: number;
  packed: PackedLines;
  lengths: Int32Array;
}

parentPort?.on('message', ({ id, bytes, length }: LinesToDecode) => {
  const packed: PackedLines = [];
  const lengths: number[] = [];
  decodeLines(Buffer.from(bytes, 0, length), (decoded, bytesOfLine) => {
    packDecodedLine(decoded, packed);
    lengths.push(bytesOfLine);
  });
  const sent = Int32Array.from(lengths);
  parentPort!.postMessage({ id, packed, lengths: sent } satisfies DecodedLines, [sent.buffer]);
});
