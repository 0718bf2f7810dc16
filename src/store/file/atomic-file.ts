import { closeSync, fdatasync as fdatasyncCallback, openSync, writev } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { basename, dirname, join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { storageError } from '../../errors.js';

const writevAt = promisify(writev);
const fdatasync = promisify(fdatasyncCallback);

/**
 * Replaces `path` with the file given in pieces so that a reader (or a crash) sees either the
 * old file or the new one, never a mix: write a temp file beside it, fsync it, rename it over,
 * fsync the directory. Resolves to a descriptor open for reading on the file written, which the
 * caller owns (and must close): reading through it is safe from later replacements of `path`
 * by other writers, as it stays on this file's inode.
 */
export async function writeFileAtomicKeepingFd(path: string, parts: readonly Buffer[], mode = 0o644): Promise<number> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${uuidv4()}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(temp, 'wx+', mode);
    let position = 0;
    // writev takes at most IOV_MAX (1024) buffers at a time.
    for (let i = 0; i < parts.length; i += 1024) {
      const batch = parts.slice(i, i + 1024);
      const size = batch.reduce((sum, b) => sum + b.length, 0);
      let written = (await writevAt(fd, batch, position)).bytesWritten;
      while (written < size) {
        // A short write: finish the rest.
        const rest = Buffer.concat(batch).subarray(written);
        written += (await writevAt(fd, [rest], position + written)).bytesWritten;
      }
      position += size;
    }
    await fdatasync(fd);
    await rename(temp, path);
    await fsyncDirectory(dirname(path));
    return fd;
  } catch (error) {
    if (fd !== null) closeSync(fd);
    await unlink(temp).catch(() => undefined);
    throw storageError('writing', path, error);
  }
}

/** Makes a just-created or renamed directory entry durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
