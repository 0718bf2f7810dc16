import { closeSync, openSync, readSync } from 'node:fs';
import { LineSplitter } from './line-splitter.js';

const STRAY_TAIL = 2048;

/**
 * Reads an agent's log file as it grows, line by line. The agent writes its stdout and stderr
 * to the file itself (so it outlives a manager that dies); whoever supervises it, the manager
 * that started it or one that adopted it, follows the file instead of a pipe. Lines that are
 * not JSON (the CLI's stderr) are kept as a short tail, for a failure's reason.
 */
export class LogFollower {
  private offset: number;
  private readonly lines: LineSplitter;
  private reading: Promise<void> = Promise.resolve();
  /** The last bytes of the lines that were not JSON (stderr). */
  strayTail = '';

  constructor(private readonly path: string, from: number, onLine: (line: string) => void) {
    this.offset = from;
    this.lines = new LineSplitter((line) => {
      if (!line.startsWith('{')) this.strayTail = `${this.strayTail}${line}\n`.slice(-STRAY_TAIL);
      onLine(line);
    });
  }

  /** Reads whatever was appended since the last read (reads never overlap). */
  poll(): Promise<void> {
    this.reading = this.reading.then(() => this.readNew()).catch(() => undefined);
    return this.reading;
  }

  /** Reads to the end, then hands over a last line that has no newline. */
  async finish(): Promise<void> {
    await this.poll();
    this.lines.end();
  }

  // Synchronous: a few KiB every 100 ms, where a trip through libuv's thread pool for the open,
  // each read and the close costs more than the reads themselves.
  private async readNew(): Promise<void> {
    const fd = openSync(this.path, 'r');
    try {
      const buffer = Buffer.allocUnsafe(64 * 1024);
      for (;;) {
        const bytesRead = readSync(fd, buffer, 0, buffer.length, this.offset);
        if (bytesRead === 0) return;
        this.offset += bytesRead;
        this.lines.push(buffer.toString('utf8', 0, bytesRead));
      }
    } finally {
      closeSync(fd);
    }
  }
}
