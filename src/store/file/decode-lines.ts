import type { DecodedLine } from './line-codec.js';
import { decodeLogLine } from './log-scanner.js';

const NEWLINE = 0x0a;

/**
 * Decodes every whole line of `bytes` as a scan that validates schemas does, in order, with each
 * line's length in bytes with its `\n`: the work a read shares out between its decoding
 * workers (worker-log-read.ts).
 */
export function decodeLines(bytes: Buffer, onLine: (decoded: DecodedLine, length: number) => void): void {
  for (let start = 0, newline = bytes.indexOf(NEWLINE); newline !== -1; start = newline + 1, newline = bytes.indexOf(NEWLINE, start)) {
    onLine(decodeLogLine(bytes.toString('utf8', start, newline), 'schema'), newline + 1 - start);
  }
}
