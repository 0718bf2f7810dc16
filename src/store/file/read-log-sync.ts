import { closeSync, openSync, readSync } from 'node:fs';
import { storageError } from '../../errors.js';
import type { SessionEvent } from '../../events/session-event.js';
import { LogScanner } from './log-scanner.js';

const CHUNK = 1024 * 1024;

/**
 * The events of a log from the start through `upToSeq`, read synchronously: for the one place a
 * read cannot wait, a projection asking for a session whose record in sessions.json turned out
 * damaged (answered from the log instead). Throws `CORRUPT_LOG`, `STORAGE`.
 */
export function* readLogSync(path: string, upToSeq: number): Generator<SessionEvent> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw storageError('opening', path, error);
  }
  try {
    const scanner = new LogScanner(path);
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (let position = 0; ; ) {
      const n = readSync(fd, buffer, 0, CHUNK, position);
      if (n === 0) return;
      position += n;
      for (const { event } of scanner.push(Buffer.from(buffer.subarray(0, n)))) {
        if (event.seq > upToSeq) return;
        yield event;
      }
    }
  } finally {
    closeSync(fd);
  }
}
