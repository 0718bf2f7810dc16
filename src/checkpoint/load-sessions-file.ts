import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { SessionError, isSessionError, storageError } from '../errors.js';
import { readBackwards, readRange } from '../store/file/read-range.js';
import { RecordIndex, decodeIndexInto } from './record-index.js';
import { SessionArchive } from './session-archive.js';
import { SessionMap } from './session-map.js';
import { TRAILER_BYTES, parseCheckpoint, parseTrailer, type Checkpoint, type SessionsFileFacts } from './sessions-file.js';

const CHUNK = 4 * 1024 * 1024;
/** How often a load is tried again when the file changed under it (another process checkpointing). */
const ATTEMPTS = 4;

/** A sessions.json as loaded: the projection, and what its next in-place writer must know. */
export interface LoadedSessionsFile extends Checkpoint {
  facts: SessionsFileFacts;
  index: RecordIndex;
  /** The file's identity (device and inode), to tell whether it is still the one at its path. */
  identity: string;
}

/** How a sessions.json is loaded. */
export interface LoadOptions {
  /**
   * Copy out and check the Active records at once (a manager, which must keep them as they are
   * while other processes rewrite them in place). Otherwise every record is read when first
   * asked for (a read that answers one question). Records are parsed only when asked for.
   */
  readActive?: boolean;
}

/** The record index file that goes with generation `generation` of `path`. */
export function indexPathOf(path: string, generation: number): string {
  return join(dirname(path), `sessions.${generation}.idx`);
}

/** A file's identity: the same path may hold another file after a rename. */
export function identityOf(fd: number): string {
  const { dev, ino } = fstatSync(fd);
  return `${dev}:${ino}`;
}

/**
 * Opens sessions.json for a store: reads and checks its checkpoint and record index, and parses
 * no session (but the Active ones with `readActive`): each stays in the file until first asked
 * for (a {@link SessionMap}), and is checked against its CRC-32 then.
 * `'missing'` when there is no file; `'unmarked'` when it has no checkpoint trailer at all (a
 * write cut short, or a file this library did not write: the caller must tell which before it
 * rebuilds anything); `'corrupt'` when it was edited, cut, or has no index. A file that changes while it is read (another process writing a
 * checkpoint in place) is read again. Throws `STORAGE` when it cannot be read at all.
 */
export async function loadSessionsFile(path: string, options: LoadOptions = {}): Promise<LoadedSessionsFile | 'missing' | 'corrupt' | 'unmarked'> {
  for (let attempt = 1; ; attempt += 1) {
    const loaded = await loadOnce(path, options);
    if (loaded !== 'changed') return loaded;
    if (attempt === ATTEMPTS) return 'corrupt';
  }
}

/**
 * Whether every byte a sessions.json's checksum covers is as it was written: an edit anywhere,
 * even in blanked space no record uses, shows. Read in chunks of {@link CHUNK}: memory holds one,
 * whatever the file's size. False for a file without a trailer; throws `STORAGE` when it cannot
 * be read.
 */
export async function checksumHolds(path: string): Promise<boolean> {
  const file = await open(path, 'r').catch((error: unknown) => {
    throw storageError('reading', path, error);
  });
  try {
    const { size } = await file.stat();
    const trailer = parseTrailer(await readRange(file.fd, Math.max(0, size - TRAILER_BYTES), Math.min(size, TRAILER_BYTES), path), size);
    if (trailer === null) return false;
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, trailer.checksumEnd)));
    let crc = 0;
    for (let at = 0; at < trailer.checksumEnd; at += buffer.length) {
      crc = crc32(await readRange(file.fd, at, Math.min(buffer.length, trailer.checksumEnd - at), path, buffer), crc);
    }
    return crc === trailer.checksum;
  } catch (error) {
    if (isSessionError(error, 'CORRUPT_CHECKPOINT')) return false;
    throw error;
  } finally {
    await file.close();
  }
}

async function loadOnce(path: string, options: LoadOptions): Promise<LoadedSessionsFile | 'missing' | 'corrupt' | 'unmarked' | 'changed'> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw storageError('reading', path, error);
  }
  const before = fstatSync(fd);
  const changed = () => {
    const after = statSync(path, { throwIfNoEntry: false });
    return after === undefined || after.size !== before.size || after.mtimeMs !== before.mtimeMs || after.ino !== before.ino;
  };
  try {
    // The map's archive owns the file from here: closed when its last record is read, or with the map.
    const loaded = await loadFrom(fd, path, before.size, options);
    if (loaded === 'unmarked') {
      closeSync(fd);
      return changed() ? 'changed' : 'unmarked';
    }
    return loaded;
  } catch (error) {
    closeSync(fd);
    if (!isSessionError(error, 'CORRUPT_CHECKPOINT')) throw error;
    return changed() ? 'changed' : 'corrupt';
  }
}

async function loadFrom(fd: number, path: string, size: number, options: LoadOptions): Promise<LoadedSessionsFile | 'unmarked'> {
  const end = await readRange(fd, Math.max(0, size - TRAILER_BYTES), Math.min(size, TRAILER_BYTES), path);
  const trailer = parseTrailer(end, size);
  if (trailer === null) return 'unmarked';
  const { cursor, eventId, facts } = parseCheckpoint(await readRange(fd, trailer.checkpointAt, trailer.checkpointEnd - trailer.checkpointAt, path), path, trailer.checkpointAt);
  // Each region is checked before its bytes are used, and no more is read: the trailer here
  // (the file's checksum continues the records' CRC-32 over it), the index against the CRC the
  // trailer names, each record against its own CRC-32 in the index when it is read.
  const covered = await readRange(fd, facts.recordsEnd, trailer.checksumEnd - facts.recordsEnd, path);
  if (crc32(covered, facts.recordsCrc) !== trailer.checksum) {
    throw new SessionError('CORRUPT_CHECKPOINT', `${path} was edited: its checkpoint does not match its checksum`);
  }
  const index = await readIndex(path, facts);
  for (const entry of index.liveEntries()) {
    if (index.startOf(entry) + index.lengthOf(entry) > facts.recordsEnd) throw new SessionError('CORRUPT_CHECKPOINT', `${path} has a record index past its records`);
  }
  // Taken now: the archive closes the file as soon as it holds no unread record.
  const identity = identityOf(fd);
  const archive = new SessionArchive(fd, path, index);
  const sessions = SessionMap.fromArchive(archive, { ended: facts.endedStats, active: facts.activeStats });
  if (options.readActive === true) {
    // Copied now, while they are as the checkpoint wrote them: another process may blank them in
    // the file when their sessions change. Parsed only when asked for. Ended records never change.
    const active: number[] = [];
    for (const entry of index.liveEntries()) if (index.statusOf(entry) === 'A') active.push(entry);
    archive.copyOut(active);
  }
  return { state: { sessions, lastSeq: cursor.seq, lastEventId: eventId }, cursor, facts, index, identity };
}

/** Reads and checks the record index the checkpoint names. */
async function readIndex(path: string, facts: SessionsFileFacts): Promise<RecordIndex> {
  if (facts.generation === null) throw new SessionError('CORRUPT_CHECKPOINT', `${path} has no record index (an exported copy): it is rebuilt`);
  const indexPath = indexPathOf(path, facts.generation);
  const bytes = await readWhole(indexPath, facts.indexBytes);
  // Bytes past the recorded length are a checkpoint that never finished: not part of this one.
  if (bytes === null || crc32(bytes) !== facts.indexCrc) throw new SessionError('CORRUPT_CHECKPOINT', `${indexPath} is missing or does not match ${path}`);
  const index = new RecordIndex();
  decodeIndexInto(index, bytes.subarray(0, facts.indexBytes), indexPath);
  return index;
}

/** The first `length` bytes of a file, read out of order (it is appended to in place later); null when it is missing or shorter. */
async function readWhole(path: string, length: number): Promise<Buffer | null> {
  const handle = await open(path, 'r').catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw storageError('reading', path, error);
  });
  if (handle === null) return null;
  try {
    const bytes = Buffer.allocUnsafe(length);
    await readBackwards(handle.fd, path, 0, length, CHUNK, (position, chunk) => chunk.copy(bytes, position));
    return bytes;
  } catch (error) {
    if (isSessionError(error, 'CORRUPT_CHECKPOINT')) return null;
    throw error;
  } finally {
    await handle.close();
  }
}
