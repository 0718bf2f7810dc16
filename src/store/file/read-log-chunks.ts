import { open } from 'node:fs/promises';
import { storageError } from '../../errors.js';

const CHUNK = 1024 * 1024;

/** Streams the bytes of `path` from `start` to `end` (default: the size when it was opened) in 1 MiB chunks. */
export async function* readLogChunks(path: string, start: number, end?: number): AsyncGenerator<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw storageError('opening', path, error);
  }
  try {
    const stop = end ?? (await handle.stat()).size;
    let position = start;
    while (position < stop) {
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK, stop - position));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
