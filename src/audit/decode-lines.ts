import type { DecodedLine } from '../store/file/line-codec.js';
import { decodeLogLine } from '../store/file/log-scanner.js';

const NEWLINE = 0x0a;

/**
 * Decodes every whole line of `bytes` as the scan of an audit does (its schema checked), in
 * order, with each line's length in bytes with its `\n`: the work the audit shares out between
 * its decoding workers and its own thread (log-decoders.ts).
 */
export function decodeLines(bytes: Buffer, onLine: (decoded: DecodedLine, length: number) => void): void {
  for (let start = 0, newline = bytes.indexOf(NEWLINE); newline !== -1; start = newline + 1, newline = bytes.indexOf(NEWLINE, start)) {
    onLine(decodeLogLine(bytes.subarray(start, newline), 'schema'), newline + 1 - start);
  }
}
