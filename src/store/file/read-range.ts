import { read } from 'node:fs';
import { promisify } from 'node:util';
import { SessionError, storageError } from '../../errors.js';

const readAt = promisify(read);

/** Reads exactly `length` bytes at `position`. Throws `STORAGE` if it cannot, `CORRUPT_CHECKPOINT` if the file is shorter. */
export async function readRange(fd: number, position: number, length: number, path: string, into: Buffer = Buffer.allocUnsafe(length)): Promise<Buffer> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await readAt(fd, into, done, length - done, position + done).catch((error: unknown) => {
      throw storageError('reading', path, error);
    });
    if (bytesRead === 0) throw new SessionError('CORRUPT_CHECKPOINT', `${path} ended early`);
    done += bytesRead;
  }
  return into.subarray(0, length);
}

/**
 * Reads bytes `[from, to)` of a file in chunks, the last chunk first. Why: the kernel's
 * readahead turns a sequential stream of reads into large page-cache folios (up to 2 MiB), and
 * a later in-place change of one byte in such a folio is counted, and written back, as the whole
 * folio. Read out of order, the file stays in 4 KiB pages, so a checkpoint that changes a record
 * in place costs its pages. Calls `chunk(position, bytes)` for each (the buffer is reused).
 * Throws `STORAGE` when the file cannot be read, `CORRUPT_CHECKPOINT` when it is shorter.
 */
export async function readBackwards(fd: number, path: string, from: number, to: number, chunkBytes: number, chunk: (position: number, bytes: Buffer) => void): Promise<void> {
  const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(chunkBytes, to - from)));
  const count = Math.ceil((to - from) / buffer.length);
  for (let i = count - 1; i >= 0; i -= 1) {
    const position = from + i * buffer.length;
    chunk(position, await readRange(fd, position, Math.min(buffer.length, to - position), path, buffer));
  }
}
