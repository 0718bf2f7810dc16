import { decodeEventLine, type DecodedLine, type Verification } from './line-codec.js';

const NEWLINE = 0x0a;
/** What an empty line decodes to. */
const EMPTY_LINE: DecodedLine = { ok: false, reason: 'empty line' };

/** Decodes one line of the log (without its `\n`) as a scan does: an empty line is not an event either. */
function decodeLogLine(text: string, verify: Verification): DecodedLine {
  return text.length === 0 ? EMPTY_LINE : decodeEventLine(text, verify);
}

/**
 * Decodes every whole line of `bytes`, in order, with each line's length in bytes with its
 * `\n`: what a scan does with the lines of each chunk (LogScanner), and what a read shares out
 * between its decoding workers (worker-log-read.ts).
 */
export function decodeLines(bytes: Buffer, verify: Verification, onLine: (decoded: DecodedLine, length: number) => void): void {
  for (let start = 0, newline = bytes.indexOf(NEWLINE); newline !== -1; start = newline + 1, newline = bytes.indexOf(NEWLINE, start)) {
    onLine(decodeLogLine(bytes.toString('utf8', start, newline), verify), newline + 1 - start);
  }
}
