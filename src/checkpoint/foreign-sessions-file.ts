import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { SessionError, storageError } from '../errors.js';
import { TRAILER_BYTES, parseTrailer } from './sessions-file.js';
import type { EventStore } from '../store/event-store.js';

/*
 * sessions.json is this library's cache, rebuilt from the log whenever it does not match. But the
 * original (Rust) session manager keeps its whole database in a file of the same name in the same
 * folder, and a file that is someone's only copy must never be taken for a stale cache. A file we
 * wrote always starts with our header and a compact record (`{"id":"`), or our empty array; the
 * original's serde pretty-printer writes `{\n      "id": "` or `[]`, so one look at the head tells
 * them apart, even when our trailer was torn off by a crash mid-write.
 */

/** How a file this library wrote begins (see sessions-file.ts: FILE_HEADER, FIRST_SEPARATOR). */
const OUR_HEAD = /^\{\n {2}"sessions": \[\n\s*(\{"id":"|\])/;
const HEAD_BYTES = 64;

/** The head and tail of a file, or null when it does not exist. */
async function headAndTail(path: string): Promise<{ head: string; tail: Buffer; size: number } | null> {
  const handle = await open(path, 'r').catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw storageError('reading', path, error);
  });
  if (handle === null) return null;
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
    await handle.read(head, 0, head.length, 0);
    const tail = Buffer.alloc(Math.min(size, TRAILER_BYTES));
    await handle.read(tail, 0, tail.length, size - tail.length);
    return { head: head.toString('latin1'), tail, size };
  } catch (error) {
    throw storageError('reading', path, error);
  } finally {
    await handle.close();
  }
}

/** The error every open stops with when sessions.json is not ours to rebuild. */
export function foreignSessionsFileError(path: string): SessionError {
  const dir = dirname(path);
  return new SessionError(
    'FOREIGN_STORE',
    `${path} was not written by this library: it looks like the store of the original (Rust) session manager, and it is not ` +
      `a cache of this store's log, so nothing was read from it and nothing was written, renamed or deleted. Import it: ` +
      `miyabi-sessions import --dir ${dir}${basename(path) === 'sessions.json' ? '' : ` --from ${path}`} ` +
      `(library: importOriginalStore({ from: '${path}', dir: '${dir}' })), or move it away if it is not needed`,
  );
}

/**
 * Decides about a sessions.json that has no checkpoint trailer. It is a cache to rebuild only when
 * it starts as this library writes it (a write cut short, an edit) and the store holds events to
 * rebuild it from; an empty file holds nothing to lose. Anything else stops with `FOREIGN_STORE`
 * before a byte is written. Throws `STORAGE` when the file cannot be read.
 */
export async function checkUnmarkedSessionsFile(path: string, store: Pick<EventStore, 'holdsEvents'>): Promise<void> {
  const file = await headAndTail(path);
  if (file === null || file.size === 0) return;
  if (OUR_HEAD.test(file.head) && (await store.holdsEvents())) return;
  throw foreignSessionsFileError(path);
}

/**
 * Stops with `FOREIGN_STORE` when the sessions.json at `path` is not one this library may rebuild
 * (see {@link checkUnmarkedSessionsFile}); reads at most a few hundred bytes. For readers that do
 * not load the checkpoint (time travel, audit, watch) but must not report an empty store either.
 */
export async function assertOwnSessionsFile(path: string, store: Pick<EventStore, 'holdsEvents'>): Promise<void> {
  const file = await headAndTail(path);
  if (file === null || parseTrailer(file.tail, file.size) !== null) return;
  await checkUnmarkedSessionsFile(path, store);
}
