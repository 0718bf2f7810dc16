import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { storageError } from '../../errors.js';

/**
 * Replaces `path` with `text` so that a reader (or a crash) sees either the old file or the
 * new one, never a mix: write a temp file beside it, fsync it, rename it over, fsync the directory.
 */
export async function writeFileAtomic(path: string, text: string, mode = 0o644): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${uuidv4()}.tmp`);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    await fsyncDirectory(dirname(path));
  } catch (error) {
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
