import { Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import ndjson from 'ndjson';
import { safeJsonText } from '../report/visible-text.js';

/**
 * NDJSON on stdout, one value a line as it comes (ndjson's serializer), each line made safe for
 * a terminal (see report/visible-text.ts) and parsing back to exactly the value. Waits for stdout
 * when it is slower than the values come, so a stream of any length holds a bounded amount.
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
