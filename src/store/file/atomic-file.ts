import { closeSync, fdatasync as fdatasyncCallback, openSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { basename, dirname, join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { storageError } from '../../errors.js';
import { diskFaults } from './disk-faults.js';
import { writeInPages } from './write-in-pages.js';

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
    // Page by page: the file is then changed in place cheaply (see writeInPages).
    await writeInPages(fd, parts, 0);
    diskFaults.allow('checkpoint.sync');
    await fdatasync(fd);
    diskFaults.allow('checkpoint.rename');
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
  diskFaults.allow('directory.sync');
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
