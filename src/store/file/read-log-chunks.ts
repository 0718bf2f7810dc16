import { open, type FileHandle } from 'node:fs/promises';
import { storageError } from '../../errors.js';

const CHUNK = 1024 * 1024;

/**
 * Streams the bytes of `path` from `start` to `end` (default: the size when it was opened) in
 * 1 MiB chunks, in order. They are read two at a time, the later one first: a sequential
 * stream of reads makes the kernel's readahead keep the file in large folios (up to 2 MiB), and
 * every later append into the log's last, partly filled folio would then count (and be written
 * back) as the whole folio: a replaying open made each small append cost 60 times its size.
 * Each chunk is the reader's: it may move its memory elsewhere (transfer it to a worker).
 */
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
    for (let position = start; position < stop; ) {
      const second = position + CHUNK < stop ? await readChunk(handle, position + CHUNK, stop) : null;
      const first = await readChunk(handle, position, stop);
      // Lengths taken before a chunk is yielded: its reader may move its memory to a worker thread.
      const [firstLength, secondLength] = [first.length, second?.length ?? 0];
      if (firstLength === 0) break;
      yield first;
      position += firstLength;
      if (second === null || secondLength === 0 || firstLength < CHUNK) continue;
      yield second;
      position += secondLength;
    }
  } finally {
    await handle.close();
  }
}

async function readChunk(handle: FileHandle, position: number, stop: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK, stop - position));
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
  return bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
}
